//! Typed workload identities: the kind of object that owns a container's definition and its
//! name, so nobody splits `"Deployment/name"` strings again.
//!
//! [`WorkloadRef`] serialises exactly as the `workload` field of `diagnose --json` always did
//! (`"Deployment/gateway"`, docs/cli.md), and compares equal to that string.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The kind of a workload object. Kinds kindscope has no special knowledge of are kept as
/// written (`Other`), so a CRD's controller still shows up under its own name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum WorkloadKind {
    Deployment,
    StatefulSet,
    DaemonSet,
    ReplicaSet,
    Job,
    CronJob,
    Pod,
    Other(String),
}

impl WorkloadKind {
    pub fn as_str(&self) -> &str {
        match self {
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::StatefulSet => "StatefulSet",
            WorkloadKind::DaemonSet => "DaemonSet",
            WorkloadKind::ReplicaSet => "ReplicaSet",
            WorkloadKind::Job => "Job",
            WorkloadKind::CronJob => "CronJob",
            WorkloadKind::Pod => "Pod",
            WorkloadKind::Other(k) => k,
        }
    }

    /// The kind an object's `kind` field (or an ownerReference's) names.
    pub fn parse(kind: &str) -> Self {
        match kind {
            "Deployment" => WorkloadKind::Deployment,
            "StatefulSet" => WorkloadKind::StatefulSet,
            "DaemonSet" => WorkloadKind::DaemonSet,
            "ReplicaSet" => WorkloadKind::ReplicaSet,
            "Job" => WorkloadKind::Job,
            "CronJob" => WorkloadKind::CronJob,
            "Pod" => WorkloadKind::Pod,
            other => WorkloadKind::Other(other.to_string()),
        }
    }
}

impl fmt::Display for WorkloadKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for WorkloadKind {
    fn from(kind: &str) -> Self {
        WorkloadKind::parse(kind)
    }
}

impl From<String> for WorkloadKind {
    fn from(kind: String) -> Self {
        WorkloadKind::parse(&kind)
    }
}

impl PartialEq<str> for WorkloadKind {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for WorkloadKind {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl Serialize for WorkloadKind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for WorkloadKind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(WorkloadKind::from)
    }
}

/// A workload within its namespace: `Deployment/gateway`, `StatefulSet/db`, `Pod/x`. The
/// namespace travels beside it (a finding's `namespace`, a [`crate::fix::Target`]). Kept as the
/// `Kind/name` text itself, so its order, equality and JSON are exactly the string's.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WorkloadRef {
    text: String,
    /// Where the `/` between kind and name is.
    slash: usize,
}

impl WorkloadRef {
    pub fn new(kind: impl Into<WorkloadKind>, name: &str) -> Self {
        let kind = kind.into();
        WorkloadRef {
            text: format!("{kind}/{name}"),
            slash: kind.as_str().len(),
        }
    }

    /// `Kind/name`; a string without `/` names a bare pod (what a hand-written filter means).
    pub fn parse(s: &str) -> Self {
        match s.find('/') {
            Some(slash) => WorkloadRef {
                text: s.to_string(),
                slash,
            },
            None => WorkloadRef::new(WorkloadKind::Pod, s),
        }
    }

    pub fn kind(&self) -> WorkloadKind {
        WorkloadKind::parse(self.kind_str())
    }

    /// The kind as written (`Deployment`).
    pub fn kind_str(&self) -> &str {
        &self.text[..self.slash]
    }

    pub fn name(&self) -> &str {
        &self.text[self.slash + 1..]
    }

    /// `Kind/name`.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl From<&str> for WorkloadRef {
    fn from(s: &str) -> Self {
        WorkloadRef::parse(s)
    }
}

impl From<String> for WorkloadRef {
    fn from(s: String) -> Self {
        WorkloadRef::parse(&s)
    }
}

impl fmt::Display for WorkloadRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl PartialEq<str> for WorkloadRef {
    fn eq(&self, other: &str) -> bool {
        self.text == other
    }
}

impl PartialEq<&str> for WorkloadRef {
    fn eq(&self, other: &&str) -> bool {
        self.text == *other
    }
}

impl PartialEq<String> for WorkloadRef {
    fn eq(&self, other: &String) -> bool {
        self.text == *other
    }
}

impl PartialEq<WorkloadRef> for String {
    fn eq(&self, other: &WorkloadRef) -> bool {
        *self == other.text
    }
}

impl PartialEq<WorkloadRef> for &str {
    fn eq(&self, other: &WorkloadRef) -> bool {
        *self == other.text
    }
}

impl Serialize for WorkloadRef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for WorkloadRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|s| WorkloadRef::parse(&s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_as_kind_slash_name_and_back() {
        let w = WorkloadRef::new(WorkloadKind::Deployment, "gateway");
        assert_eq!(
            serde_json::to_value(&w).ok(),
            Some(serde_json::json!("Deployment/gateway"))
        );
        let back: WorkloadRef = serde_json::from_str("\"StatefulSet/db\"").unwrap_or(w.clone());
        assert_eq!(back.kind(), WorkloadKind::StatefulSet);
        assert_eq!(back.name(), "db");
        let crd: WorkloadRef = serde_json::from_str("\"Rollout/x/y\"").unwrap_or(w.clone());
        assert_eq!(crd.kind(), WorkloadKind::Other("Rollout".into()));
        assert_eq!((crd.kind_str(), crd.name()), ("Rollout", "x/y"));
        assert_eq!(crd.to_string(), "Rollout/x/y");
    }

    #[test]
    fn compares_and_orders_as_the_string_form() {
        let w = WorkloadRef::parse("Deployment/gateway");
        assert!(w == "Deployment/gateway");
        assert!(w != "Deployment/gateway2");
        assert!(w != "StatefulSet/gateway");
        assert!(w != "gateway");
        assert_eq!(WorkloadRef::parse("x"), WorkloadRef::new("Pod", "x"));
        let texts = [
            "Job/z",
            "JobSet/a",
            "Deployment/b",
            "Deployment/a-b",
            "Deployment/a",
        ];
        let mut refs: Vec<WorkloadRef> = texts.iter().map(|t| WorkloadRef::parse(t)).collect();
        refs.sort();
        let mut want = texts.to_vec();
        want.sort();
        assert_eq!(
            refs.iter().map(WorkloadRef::as_str).collect::<Vec<_>>(),
            want
        );
    }
}
