//! Fault injection (`kindscope sim serve --fault SPEC`): the misbehaviours of a struggling
//! apiserver that kindscope must ride out. Faults can be changed while the server runs.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use super::resources::{RESOURCES, ResourceType};
use super::status::ApiError;

/// The accepted spec forms, quoted in every parse error.
pub const ACCEPTED: &str = "drop-watch=DURATION (e.g. drop-watch=10s), watch-410, \
forbid=RESOURCE (e.g. forbid=events), latency=DURATION (e.g. latency=200ms) or \
error-rate=FRACTION (e.g. error-rate=0.1)";

/// A set of active faults. The default is none.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// Close every watch this long after it started.
    pub drop_watch: Option<Duration>,
    /// Answer every watch with an in-stream 410 Expired ERROR event.
    pub watch_410: bool,
    /// Plural resource names (`events`, `deployments`) answered with 403 Forbidden.
    pub forbid: BTreeSet<String>,
    /// Added to every request before it is served.
    pub latency: Option<Duration>,
    /// Fraction (0..=1) of resource requests answered with 500 InternalError.
    pub error_rate: Option<f64>,
}

impl Faults {
    /// Parse `--fault` options; each may hold several specs separated by commas.
    pub fn parse<S: AsRef<str>>(specs: &[S]) -> Result<Faults, String> {
        let mut f = Faults::default();
        for spec in specs {
            for one in spec.as_ref().split(',') {
                f.add(one.trim())?;
            }
        }
        Ok(f)
    }

    /// Add one spec such as `latency=200ms`.
    pub fn add(&mut self, spec: &str) -> Result<(), String> {
        let bad =
            |why: &str| format!("invalid fault \"{spec}\": {why}; accepted forms: {ACCEPTED}");
        let (name, value) = match spec.split_once('=') {
            Some((n, v)) => (n.trim(), Some(v.trim())),
            None => (spec.trim(), None),
        };
        match (name, value) {
            ("watch-410", None) => self.watch_410 = true,
            ("drop-watch", Some(v)) => {
                self.drop_watch = Some(parse_duration(v).ok_or_else(|| bad("bad duration"))?)
            }
            ("latency", Some(v)) => {
                self.latency = Some(parse_duration(v).ok_or_else(|| bad("bad duration"))?)
            }
            ("error-rate", Some(v)) => {
                let rate: f64 = v
                    .parse()
                    .ok()
                    .filter(|r: &f64| (0.0..=1.0).contains(r))
                    .ok_or_else(|| bad("the rate must be a number from 0 to 1"))?;
                self.error_rate = Some(rate);
            }
            ("forbid", Some(v)) => {
                let rt = RESOURCES
                    .iter()
                    .find(|r| r.plural == v || r.qualified() == v)
                    .ok_or_else(|| {
                        let known: Vec<String> = RESOURCES.iter().map(|r| r.qualified()).collect();
                        bad(&format!("unknown resource (known: {})", known.join(", ")))
                    })?;
                self.forbid.insert(rt.plural.to_string());
            }
            _ => return Err(bad("unknown fault")),
        }
        Ok(())
    }

    pub fn is_forbidden(&self, rt: &ResourceType) -> bool {
        self.forbid.contains(rt.plural)
    }
}

/// `200ms`, `10s`, `1.5s`, `2m`.
fn parse_duration(s: &str) -> Option<Duration> {
    let (num, unit) = if let Some(n) = s.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 60.0)
    } else {
        return None;
    };
    let v: f64 = num.parse().ok()?;
    (0.0..1e7)
        .contains(&v)
        .then(|| Duration::from_secs_f64(v * unit))
}

/// The live fault settings of a running server; clone it to change faults from elsewhere.
#[derive(Clone, Default)]
pub struct FaultHandle {
    current: Arc<RwLock<Faults>>,
    requests: Arc<AtomicU64>,
}

impl FaultHandle {
    pub fn new(faults: Faults) -> Self {
        FaultHandle {
            current: Arc::new(RwLock::new(faults)),
            requests: Arc::new(AtomicU64::new(0)),
        }
    }

    /// A copy of the current faults.
    pub fn get(&self) -> Faults {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Replace the faults; requests that start afterwards see the new ones.
    pub fn set(&self, faults: Faults) {
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = faults;
    }

    /// Should this resource request fail with a 500? Deterministic: the n-th request fails
    /// when a hash of n falls below the rate, so a run is reproducible request by request.
    pub(crate) fn roll_error(&self, rate: f64) -> bool {
        let n = self.requests.fetch_add(1, Ordering::Relaxed);
        let mut x = n.wrapping_add(0x9E37_79B9_7F4A_7C15);
        x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        x ^= x >> 31;
        (x as f64 / u64::MAX as f64) < rate
    }
}

/// The 403 the apiserver gives a user without RBAC permission, worded as kube words it.
pub fn forbidden(rt: &ResourceType, verb: &str, ns: Option<&str>, name: Option<&str>) -> ApiError {
    let subject = match name {
        Some(n) => format!("{} \"{n}\"", rt.qualified()),
        None => rt.qualified(),
    };
    let scope = match ns {
        Some(ns) => format!("in the namespace \"{ns}\""),
        None => "at the cluster scope".to_string(),
    };
    ApiError {
        code: 403,
        reason: "Forbidden",
        message: format!(
            "{subject} is forbidden: User \"kind-user\" cannot {verb} resource \"{}\" in API group \"{}\" {scope}",
            rt.plural, rt.group
        ),
        details: Some((
            rt.group.to_string(),
            rt.plural.to_string(),
            name.unwrap_or("").to_string(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{DEPLOYMENTS, EVENTS};

    #[test]
    fn parses_every_form() {
        let f = Faults::parse(&[
            "drop-watch=10s",
            "watch-410,latency=200ms",
            "forbid=events",
            "forbid=deployments.apps",
            "error-rate=0.1",
        ])
        .expect("valid");
        assert_eq!(f.drop_watch, Some(Duration::from_secs(10)));
        assert!(f.watch_410);
        assert_eq!(f.latency, Some(Duration::from_millis(200)));
        assert_eq!(f.error_rate, Some(0.1));
        assert!(f.is_forbidden(&EVENTS) && f.is_forbidden(&DEPLOYMENTS));
    }

    #[test]
    fn bad_specs_name_the_spec_and_the_accepted_forms() {
        for bad in [
            "latency=fast",
            "error-rate=2",
            "forbid=widgets",
            "explode",
            "watch-410=1",
        ] {
            let e = Faults::parse(&[bad]).expect_err(bad);
            assert!(e.contains(&format!("\"{bad}\"")), "{e}");
            assert!(e.contains("drop-watch=DURATION"), "{e}");
        }
    }

    #[test]
    fn forbidden_message_matches_kube_wording() {
        let e = forbidden(&EVENTS, "list", None, None);
        assert_eq!(
            e.message,
            "events is forbidden: User \"kind-user\" cannot list resource \"events\" in API group \"\" at the cluster scope"
        );
        assert_eq!(e.code, 403);
    }

    #[test]
    fn error_rate_is_deterministic_and_near_the_rate() {
        let a = FaultHandle::default();
        let b = FaultHandle::default();
        let ra: Vec<bool> = (0..1000).map(|_| a.roll_error(0.1)).collect();
        let rb: Vec<bool> = (0..1000).map(|_| b.roll_error(0.1)).collect();
        assert_eq!(ra, rb);
        let n = ra.iter().filter(|x| **x).count();
        assert!((60..140).contains(&n), "{n} failures of 1000");
    }
}
