//! One container's life, decided like the kubelet's image manager (`EnsureImageExists`) and
//! container start path. Pure apart from reading `Instant`s: `step` returns the events to
//! record and the images to add to the node, so tables can test it without a cluster.

use std::time::Duration;

use tokio::time::Instant;

use super::super::clock::{Clock, GoDuration, now_rfc3339};
use super::super::nodes::{RuntimeImage, fake_digest, tagged_name};
use kindscope_core::imageref::{DEFAULT_DOMAIN, ImageRef};

/// Image pull back-off: the kubelet's `flowcontrol.Backoff(10s, 300s)`.
pub const BACKOFF_INITIAL: Duration = Duration::from_secs(10);
pub const BACKOFF_MAX: Duration = Duration::from_secs(300);
/// How long an init container runs before it completes.
const INIT_RUN: Duration = Duration::from_millis(500);
/// How long a failing pull takes before the error comes back.
const FAILED_PULL: Duration = Duration::from_millis(600);
/// After ErrImagePull, the next sync reports ImagePullBackOff this much later.
const BACKOFF_REPORT: Duration = Duration::from_secs(2);

/// The container's policy (`PullPolicy::of`: absent means what the apiserver would default; a
/// value the kubelet does not know falls through to `IfNotPresent`).
pub use kindscope_core::k8s::PullPolicy;

/// What `EnsureImageExists` decides for one container image on one node.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// `InvalidImageName`, with the kubelet's message.
    Invalid { message: String },
    /// `ErrImageNeverPull`, with the kubelet's message.
    NeverPull { message: String },
    /// Present and the policy allows using it.
    Present {
        image: RuntimeImage,
        runtime_name: String,
    },
    /// Must pull: the image the pull yields, or the CRI error it fails with.
    Pull {
        outcome: Result<RuntimeImage, String>,
        runtime_name: String,
    },
}

/// Decide one image. `on_node` resolves a reference on the node as containerd does; `registry`
/// is what a pull can fetch; `dns_server` words DNS failures for unknown registries.
pub fn decide(
    image: &str,
    policy: PullPolicy,
    on_node: impl Fn(&ImageRef) -> Option<RuntimeImage>,
    registry: &[RuntimeImage],
    dns_server: &str,
) -> Decision {
    let r = match ImageRef::parse(image) {
        Ok(r) => r,
        Err(e) => {
            return Decision::Invalid {
                message: format!(
                    "Failed to apply default image tag \"{image}\": couldn't parse image name \"{image}\": {e}"
                ),
            };
        }
    };
    let name = runtime_name(&r);
    let present = on_node(&r);
    match (policy, present) {
        (PullPolicy::Always, _) => {}
        (_, Some(img)) => {
            return Decision::Present {
                image: img,
                runtime_name: name,
            };
        }
        (PullPolicy::Never, None) => {
            return Decision::NeverPull {
                message: format!(
                    "Container image \"{image}\" is not present with pull policy of Never"
                ),
            };
        }
        (PullPolicy::IfNotPresent, None) => {}
    }
    let outcome = match registry.iter().find(|i| i.matches(&r)) {
        Some(src) => {
            let digest = src
                .repo_digests
                .first()
                .and_then(|d| d.split_once('@').map(|(_, d)| d.to_string()))
                .unwrap_or_else(|| fake_digest(&format!("manifest:{}", r.repository())));
            let mut tags = Vec::new();
            if r.tag.is_some() || r.digest.is_none() {
                tags.push(tagged_name(&r));
            }
            Ok(RuntimeImage {
                id: src.id.clone(),
                repo_tags: tags,
                repo_digests: vec![format!("{}@{digest}", r.repository())],
                size: src.size,
                pinned: false,
            })
        }
        None => {
            let repo_known = registry.iter().any(|i| {
                i.repo_tags.iter().chain(i.repo_digests.iter()).any(|n| {
                    n.starts_with(&r.repository())
                        && matches!(n.as_bytes().get(r.repository().len()), Some(b':' | b'@'))
                })
            });
            Err(pull_error(&r, dns_server, repo_known))
        }
    };
    Decision::Pull {
        outcome,
        runtime_name: name,
    }
}

/// The name the runtime reports for a container started from reference `r`.
pub fn runtime_name(r: &ImageRef) -> String {
    match &r.digest {
        Some(d) if r.tag.is_none() => format!("{}@{d}", r.repository()),
        _ => tagged_name(r),
    }
}

/// The error containerd's CRI returns for a failed pull, as the kubelet prints it.
pub fn pull_error(r: &ImageRef, dns_server: &str, repo_in_registry: bool) -> String {
    let name = runtime_name(r);
    let head = |code: &str| {
        format!(
            "rpc error: code = {code} desc = failed to pull and unpack image \"{name}\": failed to resolve reference \"{name}\""
        )
    };
    let reference = r
        .digest
        .clone()
        .or_else(|| r.tag.clone())
        .unwrap_or_else(|| "latest".into());
    let url = format!("https://{}/v2/{}/manifests/{reference}", r.domain, r.path);
    let (host, port) = split_host_port(&r.domain);
    let loopback = host == "localhost" || host.starts_with("127.") || host == "[::1]";
    if loopback {
        let addr = if host == "localhost" {
            format!("[::1]:{port}")
        } else {
            format!("{host}:{port}")
        };
        return format!(
            "{}: failed to do request: Head \"{url}\": dial tcp {addr}: connect: connection refused",
            head("Unknown")
        );
    }
    let public = [
        "registry.k8s.io",
        "ghcr.io",
        "quay.io",
        "gcr.io",
        "mcr.microsoft.com",
        "public.ecr.aws",
        "registry.gitlab.com",
        "nvcr.io",
    ];
    if (r.domain == DEFAULT_DOMAIN && repo_in_registry)
        || public.contains(&r.domain.as_str())
        || r.domain.ends_with(".gcr.io")
        || r.domain.ends_with(".pkg.dev")
    {
        return format!("{}: {name}: not found", head("NotFound"));
    }
    if r.domain == DEFAULT_DOMAIN {
        return format!(
            "{}: pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed",
            head("Unknown")
        );
    }
    format!(
        "{}: failed to do request: Head \"{url}\": dial tcp: lookup {host} on {dns_server}: no such host",
        head("Unknown")
    )
}

fn split_host_port(domain: &str) -> (&str, &str) {
    if let Some(end) = domain.find(']') {
        let (h, rest) = domain.split_at(end + 1);
        return (h, rest.strip_prefix(':').unwrap_or("443"));
    }
    match domain.rsplit_once(':') {
        Some((h, p)) => (h, p),
        None => (domain, "443"),
    }
}

/// Next back-off after a failure.
pub fn next_backoff(current: Option<Duration>) -> Duration {
    match current {
        None => BACKOFF_INITIAL,
        Some(d) => (d * 2).min(BACKOFF_MAX),
    }
}

/// Simulated pull time: half a second plus size at 80 MB/s.
pub fn pull_time(size: u64) -> Duration {
    Duration::from_millis(500) + Duration::from_secs_f64(size as f64 / 80_000_000.0)
}

#[derive(Debug, Clone, PartialEq)]
pub enum CState {
    Waiting {
        reason: String,
        message: Option<String>,
    },
    Pulling {
        until: Instant,
        sim_time: Duration,
        outcome: Result<RuntimeImage, String>,
        runtime_name: String,
        /// The waiting reason and message the status keeps showing while this pull runs: the
        /// last failure (the kubelet's reason cache), never a fresh `ContainerCreating`.
        shown: Option<(String, Option<String>)>,
    },
    Running {
        started_at: String,
        image_id: String,
        runtime_name: String,
        container_id: String,
    },
    Completed {
        started_at: String,
        finished_at: String,
        image_id: String,
        runtime_name: String,
        container_id: String,
    },
}

/// One container as its node's kubelet tracks it.
#[derive(Debug, Clone)]
pub struct Ctr {
    pub name: String,
    pub image: String,
    pub policy: PullPolicy,
    pub init: bool,
    /// Runs to completion (restartPolicy Never or OnFailure): completes as an init container does.
    pub completes: bool,
    pub state: CState,
    pub restart_count: u32,
    /// When this container next needs attention (None: nothing to do).
    pub next_at: Option<Instant>,
    /// Retry gap for errors that are not pulls (ErrImageNeverPull, InvalidImageName).
    pub retry_gap: Option<Duration>,
    pub pull_backoff: Option<Duration>,
    pub backoff_until: Option<Instant>,
    pub last_pull_error: Option<String>,
}

/// What a step asks the node to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// (type, reason, message) about this container.
    Event(&'static str, &'static str, String),
    /// A pull finished: the image is now in the node's runtime.
    ImagePulled(RuntimeImage),
}

/// What a step may look at.
pub struct StepCtx<'a> {
    pub clock: Clock,
    pub on_node: &'a dyn Fn(&ImageRef) -> Option<RuntimeImage>,
    pub registry: &'a [RuntimeImage],
    pub dns_server: &'a str,
    /// Seed for container ids (the pod uid).
    pub pod_uid: &'a str,
}

impl Ctr {
    pub fn new(name: &str, image: &str, policy: PullPolicy, init: bool, now: Instant) -> Ctr {
        Ctr {
            name: name.to_string(),
            image: image.to_string(),
            policy,
            init,
            completes: false,
            state: CState::Waiting {
                reason: if init {
                    "PodInitializing"
                } else {
                    "ContainerCreating"
                }
                .into(),
                message: None,
            },
            restart_count: 0,
            next_at: Some(now),
            retry_gap: None,
            pull_backoff: None,
            backoff_until: None,
            last_pull_error: None,
        }
    }

    pub fn field_path(&self) -> String {
        format!(
            "spec.{}{{{}}}",
            if self.init {
                "initContainers"
            } else {
                "containers"
            },
            self.name
        )
    }
    pub fn running(&self) -> bool {
        matches!(self.state, CState::Running { .. })
    }
    pub fn completed(&self) -> bool {
        matches!(self.state, CState::Completed { .. })
    }

    /// Advance as far as the container can go at `now`.
    pub fn step(&mut self, ctx: &StepCtx, now: Instant) -> Vec<Effect> {
        let mut fx = Vec::new();
        if self.next_at.is_none_or(|t| t > now) {
            return fx;
        }
        let image = self.image.clone();
        match self.state.clone() {
            CState::Completed { .. } => self.next_at = None,
            CState::Running {
                started_at,
                image_id,
                runtime_name,
                container_id,
            } => {
                if self.init || self.completes {
                    self.state = CState::Completed {
                        started_at,
                        finished_at: now_rfc3339(),
                        image_id,
                        runtime_name,
                        container_id,
                    };
                }
                self.next_at = None;
            }
            CState::Pulling {
                outcome,
                sim_time,
                runtime_name,
                ..
            } => match outcome {
                Ok(img) => {
                    let d = GoDuration(sim_time);
                    fx.push(Effect::Event("Normal", "Pulled", format!(
                        "Successfully pulled image \"{image}\" in {d} ({d} including waiting). Image size: {} bytes.",
                        img.size
                    )));
                    fx.push(Effect::ImagePulled(img.clone()));
                    self.pull_backoff = None;
                    self.backoff_until = None;
                    self.start(ctx, &img, runtime_name, now, &mut fx);
                }
                Err(err) => {
                    fx.push(Effect::Event(
                        "Warning",
                        "Failed",
                        format!("Failed to pull image \"{image}\": {err}"),
                    ));
                    fx.push(Effect::Event(
                        "Warning",
                        "Failed",
                        "Error: ErrImagePull".into(),
                    ));
                    let b = next_backoff(self.pull_backoff);
                    self.pull_backoff = Some(b);
                    self.backoff_until = Some(now + ctx.clock.real(b));
                    self.state = CState::Waiting {
                        reason: "ErrImagePull".into(),
                        message: Some(err.clone()),
                    };
                    self.last_pull_error = Some(err);
                    self.next_at = Some(now + ctx.clock.real(BACKOFF_REPORT.min(b)));
                }
            },
            CState::Waiting { .. } => match decide(
                &image,
                self.policy,
                ctx.on_node,
                ctx.registry,
                ctx.dns_server,
            ) {
                Decision::Invalid { message } => {
                    fx.push(Effect::Event("Warning", "InspectFailed", message.clone()));
                    fx.push(Effect::Event(
                        "Warning",
                        "Failed",
                        "Error: InvalidImageName".into(),
                    ));
                    self.state = CState::Waiting {
                        reason: "InvalidImageName".into(),
                        message: Some(message),
                    };
                    self.retry_later(ctx, now);
                }
                Decision::NeverPull { message } => {
                    fx.push(Effect::Event(
                        "Warning",
                        "ErrImageNeverPull",
                        message.clone(),
                    ));
                    fx.push(Effect::Event(
                        "Warning",
                        "Failed",
                        "Error: ErrImageNeverPull".into(),
                    ));
                    self.state = CState::Waiting {
                        reason: "ErrImageNeverPull".into(),
                        message: Some(message),
                    };
                    self.retry_later(ctx, now);
                }
                Decision::Present {
                    image: img,
                    runtime_name,
                } => {
                    fx.push(Effect::Event(
                        "Normal",
                        "Pulled",
                        format!("Container image \"{image}\" already present on machine"),
                    ));
                    self.start(ctx, &img, runtime_name, now, &mut fx);
                }
                Decision::Pull {
                    outcome,
                    runtime_name,
                } => {
                    if let Some(until) = self.backoff_until.filter(|u| *u > now) {
                        let msg = format!("Back-off pulling image \"{image}\"");
                        fx.push(Effect::Event("Normal", "BackOff", msg.clone()));
                        fx.push(Effect::Event(
                            "Warning",
                            "Failed",
                            "Error: ImagePullBackOff".into(),
                        ));
                        let last = self.last_pull_error.clone().unwrap_or_default();
                        self.state = CState::Waiting {
                            reason: "ImagePullBackOff".into(),
                            message: Some(format!("{msg}: ErrImagePull: {last}")),
                        };
                        self.next_at = Some(until);
                        return fx;
                    }
                    fx.push(Effect::Event(
                        "Normal",
                        "Pulling",
                        format!("Pulling image \"{image}\""),
                    ));
                    let sim_time = match &outcome {
                        Ok(img) => pull_time(img.size),
                        Err(_) => FAILED_PULL,
                    };
                    let until = now + ctx.clock.real(sim_time);
                    // A retry after a failure goes on showing that failure until the pull ends:
                    // the kubelet writes the status from its reason cache, which only a
                    // successful start clears.
                    let shown = match &self.state {
                        CState::Waiting { reason, message } if self.last_pull_error.is_some() => {
                            Some((reason.clone(), message.clone()))
                        }
                        _ => None,
                    };
                    self.state = CState::Pulling {
                        until,
                        sim_time,
                        outcome,
                        runtime_name,
                        shown,
                    };
                    self.next_at = Some(until);
                }
            },
        }
        fx
    }

    fn retry_later(&mut self, ctx: &StepCtx, now: Instant) {
        // The kubelet retries on every sync (~10 s); the sim backs off to 300 s to stay calm
        // with thousands of broken pods.
        let gap = next_backoff(self.retry_gap);
        self.retry_gap = Some(gap);
        self.next_at = Some(now + ctx.clock.real(gap));
    }

    fn start(
        &mut self,
        ctx: &StepCtx,
        img: &RuntimeImage,
        runtime_name: String,
        now: Instant,
        fx: &mut Vec<Effect>,
    ) {
        fx.push(Effect::Event(
            "Normal",
            "Created",
            format!("Created container: {}", self.name),
        ));
        fx.push(Effect::Event(
            "Normal",
            "Started",
            format!("Started container {}", self.name),
        ));
        let id = fake_digest(&format!(
            "{}/{}/{}/{}",
            ctx.pod_uid,
            self.name,
            self.restart_count,
            now_rfc3339()
        ));
        self.state = CState::Running {
            started_at: now_rfc3339(),
            image_id: img.image_ref(),
            runtime_name,
            container_id: format!("containerd://{}", &id[7..]),
        };
        self.retry_gap = None;
        self.next_at = (self.init || self.completes).then(|| now + ctx.clock.real(INIT_RUN));
    }
}
