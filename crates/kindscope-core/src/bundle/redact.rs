//! What a bundle leaves out: everything in a pod spec or an object's metadata that can carry a
//! credential. Bundles are made to be handed to others (docs/security.md).
//!
//! By default: literal env values, `command`, `args`, lifecycle and probe `exec` commands, probe
//! and lifecycle HTTP header values and URL queries, every annotation value, and the messages
//! of events that quote a command or its output (failed lifecycle hooks — the kubelet writes
//! the command and its output into them, pkg/kubelet/lifecycle/handlers.go — and failed or
//! warning probes). A value becomes `<redacted: N chars>` (keys, flag names and lengths stay,
//! so the shape of a spec is still readable). Values found this way are also scrubbed from the
//! messages of events about the same pod. `managedFields` is dropped.
//!
//! Opt-ins (`kindscope snapshot --include-args`, `--include-annotations`) keep commands/args
//! and annotation values; header values, env values and `last-applied-configuration` (a full
//! copy of the spec, env values included) are always redacted.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{
    EnvVar, Event, HTTPGetAction, Lifecycle, LifecycleHandler, PodSpec, PodTemplateSpec, Probe,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::REDACTED;

const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Event reasons whose message quotes a command or what it printed (kubelet's
/// pkg/kubelet/events/event.go names them).
const QUOTING_REASONS: [&str; 4] = [
    "FailedPostStartHook",
    "FailedPreStopHook",
    "Unhealthy",
    "ProbeWarning",
];

/// Values shorter than this are not scrubbed from event messages (they would match words).
const SCRUB_MIN_LEN: usize = 4;
/// Words of a redacted value shorter than this are not scrubbed on their own.
const SCRUB_WORD_MIN_LEN: usize = 8;

/// What the bundle keeps that it would redact by default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Keep `command`, `args` and `exec` commands of probes and lifecycle hooks.
    pub include_args: bool,
    /// Keep annotation values (except `last-applied-configuration`).
    pub include_annotations: bool,
}

/// `<redacted: 7 chars>`.
pub fn redacted(value: &str) -> String {
    format!("<redacted: {} chars>", value.chars().count())
}

/// Collects the values it redacted so they can be scrubbed from event messages too.
#[derive(Debug, Default)]
pub struct Redactor {
    pub options: Options,
    /// (namespace, pod name) → values redacted from that pod.
    found: BTreeMap<(String, String), BTreeSet<String>>,
    current: BTreeSet<String>,
}

impl Redactor {
    pub fn new(options: Options) -> Self {
        Redactor {
            options,
            ..Redactor::default()
        }
    }

    fn hide(&mut self, value: &mut String) {
        if value.chars().count() >= SCRUB_MIN_LEN {
            self.current.insert(value.clone());
        }
        // The words of a script (`login $TOKEN`) are scrubbed on their own too; short ones
        // would match ordinary words of a message.
        for word in value.split(|c: char| c.is_whitespace() || c == '=' || c == '"' || c == '\'') {
            if word.chars().count() >= SCRUB_WORD_MIN_LEN {
                self.current.insert(word.to_string());
            }
        }
        *value = redacted(value);
    }

    /// Redact the metadata of any object.
    pub fn meta(&mut self, meta: &mut ObjectMeta) {
        meta.managed_fields = None;
        for (key, value) in meta.annotations.iter_mut().flatten() {
            if key == LAST_APPLIED {
                *value = REDACTED.to_string();
            } else if !self.options.include_annotations {
                self.hide(value);
            }
        }
    }

    /// Redact a pod; the values found are remembered for its events.
    pub fn pod(&mut self, meta: &mut ObjectMeta, spec: Option<&mut PodSpec>) {
        self.current.clear();
        self.meta(meta);
        if let Some(spec) = spec {
            self.pod_spec(spec);
        }
        let key = (
            meta.namespace.clone().unwrap_or_default(),
            meta.name.clone().unwrap_or_default(),
        );
        let found = std::mem::take(&mut self.current);
        if !found.is_empty() {
            self.found.entry(key).or_default().extend(found);
        }
    }

    /// A workload's pod template (its values are its pods' values; not remembered again).
    pub fn template(&mut self, t: &mut PodTemplateSpec) {
        if let Some(meta) = t.metadata.as_mut() {
            self.meta(meta);
        }
        if let Some(spec) = t.spec.as_mut() {
            self.pod_spec(spec);
        }
        self.current.clear();
    }

    pub fn pod_spec(&mut self, spec: &mut PodSpec) {
        // Containers and ephemeral containers are two types with the same fields.
        macro_rules! each {
            ($list:expr) => {
                for c in $list {
                    self.container(
                        &mut c.env,
                        [&mut c.command, &mut c.args],
                        [
                            &mut c.liveness_probe,
                            &mut c.readiness_probe,
                            &mut c.startup_probe,
                        ],
                        &mut c.lifecycle,
                    );
                }
            };
        }
        each!(spec.containers.iter_mut());
        each!(spec.init_containers.iter_mut().flatten());
        each!(spec.ephemeral_containers.iter_mut().flatten());
    }

    fn container(
        &mut self,
        env: &mut Option<Vec<EnvVar>>,
        argv: [&mut Option<Vec<String>>; 2],
        probes: [&mut Option<Probe>; 3],
        lifecycle: &mut Option<Lifecycle>,
    ) {
        self.env(env.as_mut());
        for a in argv {
            self.argv(a.as_mut());
        }
        self.probes(probes);
        if let Some(l) = lifecycle.as_mut() {
            self.handler(l.post_start.as_mut());
            self.handler(l.pre_stop.as_mut());
        }
    }

    /// Literal env values; `valueFrom` (a reference, no value) stays.
    fn env(&mut self, env: Option<&mut Vec<EnvVar>>) {
        for var in env.into_iter().flatten() {
            if let Some(v) = var.value.as_mut() {
                if v.chars().count() >= SCRUB_MIN_LEN {
                    self.current.insert(v.clone());
                }
                *v = REDACTED.to_string();
            }
        }
    }

    /// A command line: a long flag's name stays (`--password=<redacted: 7 chars>`), every
    /// other word is redacted (`-pSECRET`, a value after `--token`, a script).
    fn argv(&mut self, argv: Option<&mut Vec<String>>) {
        if self.options.include_args {
            return;
        }
        for word in argv.into_iter().flatten() {
            let flag_name = |s: &str| {
                s.starts_with("--")
                    && s.len() > 2
                    && s[2..]
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
            };
            match word.split_once('=') {
                Some((name, value)) if flag_name(name) => {
                    let mut value = value.to_string();
                    self.hide(&mut value);
                    *word = format!("{name}={value}");
                }
                None if flag_name(word) => {}
                _ => self.hide(word),
            }
        }
    }

    fn probes<const N: usize>(&mut self, probes: [&mut Option<Probe>; N]) {
        for p in probes.into_iter().flatten() {
            if let Some(exec) = p.exec.as_mut() {
                self.argv(exec.command.as_mut());
            }
            if let Some(http) = p.http_get.as_mut() {
                self.http(http);
            }
        }
    }

    fn handler(&mut self, h: Option<&mut LifecycleHandler>) {
        let Some(h) = h else { return };
        if let Some(exec) = h.exec.as_mut() {
            self.argv(exec.command.as_mut());
        }
        if let Some(http) = h.http_get.as_mut() {
            self.http(http);
        }
    }

    /// Header values (an `Authorization` header is the usual credential) and the URL query.
    fn http(&mut self, http: &mut HTTPGetAction) {
        for header in http.http_headers.iter_mut().flatten() {
            self.hide(&mut header.value);
        }
        if let Some(path) = http.path.as_mut()
            && let Some((base, query)) = path.split_once('?')
        {
            let mut query = query.to_string();
            self.hide(&mut query);
            *path = format!("{base}?{query}");
        }
    }

    /// An event: metadata as any object; a message that quotes commands is redacted whole; a
    /// message about a pod loses every value redacted from that pod.
    pub fn event(&mut self, e: &mut Event) {
        self.meta(&mut e.metadata);
        let Some(message) = e.message.as_mut() else {
            return;
        };
        if !self.options.include_args
            && e.reason
                .as_deref()
                .is_some_and(|r| QUOTING_REASONS.contains(&r))
        {
            *message = redacted(message);
            return;
        }
        let key = (
            e.involved_object.namespace.clone().unwrap_or_default(),
            e.involved_object.name.clone().unwrap_or_default(),
        );
        if let Some(values) = self.found.get(&key) {
            *message = scrub(message, values);
        }
    }

    /// A finding quotes events and specs of its pods: their redacted values are scrubbed.
    pub fn finding(&self, f: &mut crate::diagnose::Finding) {
        for pod in &f.pods {
            if let Some(values) = self.found.get(&(f.namespace.clone(), pod.clone())) {
                for e in f.evidence.iter_mut() {
                    *e = scrub(e, values);
                }
                f.summary = scrub(&f.summary, values);
            }
        }
    }
}

/// `text` with every occurrence of each value replaced by its redaction, longest first.
fn scrub(text: &str, values: &BTreeSet<String>) -> String {
    let mut sorted: Vec<&String> = values
        .iter()
        .filter(|v| text.contains(v.as_str()))
        .collect();
    if sorted.is_empty() {
        return text.to_string();
    }
    sorted.sort_by_key(|v| std::cmp::Reverse(v.len()));
    let mut out = text.to_string();
    for v in sorted {
        out = out.replace(v.as_str(), &redacted(v));
    }
    out
}

#[cfg(test)]
#[path = "redact_tests.rs"]
mod tests;
