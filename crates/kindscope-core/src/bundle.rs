//! The triage bundle: one file with everything needed to see (and replay) a cluster's state —
//! nodes and their images with sources, pods, workloads, events, findings, versions, context.
//!
//! Secrets are never included (kindscope does not read Secret objects), and everything else that
//! can carry a credential is redacted by default (bundle/redact.rs: env values, commands, args,
//! probe and hook headers, annotation values, events that quote commands). The file is written
//! 0600: it describes a cluster and is meant for a chosen reader.
//!
//! JSON, gzip-compressed when the file name ends in `.gz`; reading detects gzip by its magic bytes.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::Timestamp;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{Event, Node, Pod};
use serde::{Deserialize, Serialize};

use crate::diagnose::Finding;
use crate::model::{NodeImages, Resource, ResourceState, Snapshot};

pub mod redact;

/// The `format` marker of every bundle.
pub const FORMAT: &str = "kindscope-bundle";
/// The newest bundle format this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// What redacted values are replaced with.
pub const REDACTED: &str = "<redacted>";
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Bundle {
    pub format: String,
    pub format_version: u32,
    #[serde(with = "crate::time::serde_auto")]
    pub created: Timestamp,
    pub kindscope_version: String,
    pub context: String,
    pub server: String,
    #[serde(default)]
    pub namespace: Option<String>,
    /// `gitVersion` from the API server's `/version`, when known.
    #[serde(default)]
    pub kubernetes_version: Option<String>,
    pub nodes: Vec<Node>,
    pub node_images: BTreeMap<String, NodeImages>,
    pub pods: Vec<Pod>,
    pub deployments: Vec<Deployment>,
    pub replicasets: Vec<ReplicaSet>,
    pub events: Vec<Event>,
    pub findings: Vec<Finding>,
}

/// Why a bundle cannot be written or read: one sentence naming the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BundleError(pub String);

impl Bundle {
    /// Build a redacted bundle. The clock is passed in so the core stays testable.
    pub fn from_snapshot(
        snap: &Snapshot,
        findings: &[Finding],
        kubernetes_version: Option<String>,
        created: Timestamp,
    ) -> Bundle {
        Self::from_snapshot_with(
            snap,
            findings,
            kubernetes_version,
            created,
            redact::Options::default(),
        )
    }

    /// [`Bundle::from_snapshot`] with explicit opt-ins (redact.rs says what each keeps).
    pub fn from_snapshot_with(
        snap: &Snapshot,
        findings: &[Finding],
        kubernetes_version: Option<String>,
        created: Timestamp,
        options: redact::Options,
    ) -> Bundle {
        let mut r = redact::Redactor::new(options);
        let nodes = snap
            .nodes
            .iter()
            .map(|n| {
                let mut n = Node::clone(n);
                r.meta(&mut n.metadata);
                n
            })
            .collect();
        let pods = snap
            .pods
            .iter()
            .map(|p| {
                let mut p = Pod::clone(p);
                r.pod(&mut p.metadata, p.spec.as_mut());
                p
            })
            .collect();
        let deployments = snap
            .deployments
            .iter()
            .map(|d| {
                let mut d = Deployment::clone(d);
                r.meta(&mut d.metadata);
                if let Some(spec) = d.spec.as_mut() {
                    r.template(&mut spec.template);
                }
                d
            })
            .collect();
        let replicasets = snap
            .replicasets
            .iter()
            .map(|rs| {
                let mut rs = ReplicaSet::clone(rs);
                r.meta(&mut rs.metadata);
                if let Some(t) = rs.spec.as_mut().and_then(|s| s.template.as_mut()) {
                    r.template(t);
                }
                rs
            })
            .collect();
        // Events last: they are scrubbed of the values redacted from their pods.
        let events = snap
            .events
            .iter()
            .map(|e| {
                let mut e = Event::clone(e);
                r.event(&mut e);
                e
            })
            .collect();
        let findings = findings
            .iter()
            .map(|f| {
                let mut f = f.clone();
                r.finding(&mut f);
                f
            })
            .collect();
        Bundle {
            format: FORMAT.to_string(),
            format_version: FORMAT_VERSION,
            created,
            kindscope_version: env!("CARGO_PKG_VERSION").to_string(),
            context: snap.context.clone(),
            server: snap.server.clone(),
            namespace: snap.namespace.clone(),
            kubernetes_version,
            nodes,
            node_images: (*snap.node_images).clone(),
            pods,
            deployments,
            replicasets,
            events,
            findings,
        }
    }

    /// The snapshot the bundle was taken from (as far as it was kept), for replay and `diagnose`.
    pub fn to_snapshot(&self) -> Snapshot {
        Snapshot {
            context: self.context.clone(),
            server: self.server.clone(),
            namespace: self.namespace.clone(),
            nodes: self.nodes.iter().cloned().map(Arc::new).collect(),
            node_images: Arc::new(self.node_images.clone()),
            pods: self.pods.iter().cloned().map(Arc::new).collect(),
            deployments: self.deployments.iter().cloned().map(Arc::new).collect(),
            replicasets: self.replicasets.iter().cloned().map(Arc::new).collect(),
            events: self.events.iter().cloned().map(Arc::new).collect(),
            resources: Resource::ALL
                .into_iter()
                .map(|r| (r, ResourceState::Live))
                .collect(),
        }
    }

    /// Serialise (pretty JSON, gzip when `compress`).
    pub fn to_bytes(&self, compress: bool) -> Result<Vec<u8>, BundleError> {
        let json = serde_json::to_vec_pretty(self)
            .map_err(|e| BundleError(format!("cannot serialise the bundle: {e}")))?;
        if !compress {
            return Ok(json);
        }
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(&json)
            .and_then(|_| enc.finish())
            .map_err(|e| BundleError(format!("cannot compress the bundle: {e}")))
    }

    /// Write to `path` (gzip when it ends in `.gz`) through a temporary file and a rename, so an
    /// interrupted write never leaves half a bundle under the real name. Returns the bytes written.
    pub fn write(&self, path: &Path) -> Result<u64, BundleError> {
        let bytes = self.to_bytes(is_gz_name(path))?;
        let tmp = temp_name(path);
        let fail = |e: std::io::Error| {
            let _ = std::fs::remove_file(&tmp);
            BundleError(format!(
                "cannot write the bundle to {}: {e}; choose a writable path with -o",
                path.display()
            ))
        };
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        options
            .open(&tmp)
            .and_then(|mut f| {
                // A leftover temporary file keeps its old mode: tighten it before writing.
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
                }
                f.write_all(&bytes)
            })
            .map_err(fail)?;
        std::fs::rename(&tmp, path).map_err(fail)?;
        Ok(bytes.len() as u64)
    }

    /// Read a bundle, checking that it is one and that this build understands its format.
    pub fn read(path: &Path) -> Result<Bundle, BundleError> {
        let raw = crate::limits::read_file(path, crate::limits::BUNDLE_FILE_MAX, "a bundle file")
            .map_err(|e| {
            BundleError(format!("cannot read the bundle {}: {e}", path.display()))
        })?;
        Self::from_bytes(&raw)
            .map_err(|BundleError(why)| BundleError(format!("{} {why}", path.display())))
    }

    /// Parse bundle bytes (plain or gzip). Errors continue a sentence that starts with the name.
    pub fn from_bytes(raw: &[u8]) -> Result<Bundle, BundleError> {
        let not_json = |e: serde_json::Error| {
            BundleError(format!(
                "is not a kindscope bundle (not JSON: {e}); write one with `kindscope snapshot -o FILE`"
            ))
        };
        let value: serde_json::Value = if raw.starts_with(&GZIP_MAGIC) {
            // Parsed as it is decompressed (no copy of the whole text), and bounded: a small
            // gzip bomb must not expand into all of memory.
            let cap = crate::limits::bundle_json_cap(raw.len());
            let mut capped = crate::limits::Capped::new(flate2::read::GzDecoder::new(raw), cap);
            let parsed = serde_json::from_reader(std::io::BufReader::new(&mut capped));
            match parsed {
                Ok(v) => v,
                Err(_) if capped.exceeded() => {
                    return Err(BundleError(format!(
                        "is gzip-compressed and expands past {}, kindscope's bound for a bundle of {} compressed (docs/security.md)",
                        crate::limits::human(cap),
                        crate::limits::human_bytes(raw.len())
                    )));
                }
                Err(e) if e.is_io() => {
                    return Err(BundleError(format!(
                        "is gzip-compressed but cannot be decompressed ({e})"
                    )));
                }
                Err(e) => return Err(not_json(e)),
            }
        } else {
            serde_json::from_slice(raw).map_err(not_json)?
        };
        if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
            return Err(BundleError(format!(
                "is not a kindscope bundle (no \"format\": \"{FORMAT}\"); write one with `kindscope snapshot -o FILE`"
            )));
        }
        let version = value
            .get("format_version")
            .and_then(|v| v.as_u64())
            .ok_or_else(|| BundleError("is a kindscope bundle without a format_version".into()))?;
        if version > u64::from(FORMAT_VERSION) {
            return Err(BundleError(format!(
                "was written by a newer kindscope (bundle format {version}; this one reads up to {FORMAT_VERSION}); upgrade kindscope to open it"
            )));
        }
        serde_json::from_value(value)
            .map_err(|e| BundleError(format!("is a damaged kindscope bundle: {e}")))
    }
}

/// True when the file name ends in `.gz` (any case).
pub fn is_gz_name(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"))
}

fn temp_name(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(format!(".tmp-{}", std::process::id()));
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod() -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": "gw-1", "namespace": "default",
                "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{\"env\":[{\"name\":\"TOKEN\",\"value\":\"hunter2\"}]}", "keep": "me"},
                "managedFields": [{"manager": "kubectl"}]},
            "spec": {
                "containers": [{"name": "gw", "image": "kubernaut/gateway:debug",
                    "env": [{"name": "TOKEN", "value": "hunter2"},
                            {"name": "DB", "valueFrom": {"secretKeyRef": {"name": "db", "key": "pw"}}}]}],
                "initContainers": [{"name": "init", "image": "busybox", "env": [{"name": "X", "value": "s3cret"}]}]
            }
        }))
        .expect("valid pod")
    }

    fn deployment() -> Deployment {
        serde_json::from_value(json!({
            "metadata": {"name": "gw", "namespace": "default"},
            "spec": {"selector": {}, "template": {"spec": {"containers": [
                {"name": "gw", "image": "x", "env": [{"name": "PASSWORD", "value": "hunter2"}]}]}}}
        }))
        .expect("valid deployment")
    }

    fn snapshot() -> Snapshot {
        Snapshot {
            context: "kind-dev".into(),
            server: "https://127.0.0.1:1".into(),
            pods: vec![Arc::new(pod())].into(),
            deployments: vec![Arc::new(deployment())].into(),
            ..Snapshot::default()
        }
    }

    fn created() -> Timestamp {
        crate::time::parse_rfc3339("2026-01-02T03:04:05Z").expect("valid time")
    }

    #[test]
    fn env_values_are_redacted_and_references_kept() {
        let b = Bundle::from_snapshot(&snapshot(), &[], Some("v1.33.1".into()), created());
        let text = String::from_utf8(b.to_bytes(false).expect("serialise")).expect("utf8");
        assert!(
            !text.contains("hunter2") && !text.contains("s3cret"),
            "{text}"
        );
        assert!(text.contains("secretKeyRef") && text.contains(REDACTED));
        assert!(!text.contains("managedFields"));
        assert!(text.contains("\"keep\": \"<redacted: 2 chars>\""), "{text}");
    }

    #[test]
    fn round_trip_plain_and_gzip() {
        let dir = tempfile::tempdir().expect("temp dir");
        let b = Bundle::from_snapshot(&snapshot(), &[], None, created());
        for name in ["b.json", "b.json.gz"] {
            let path = dir.path().join(name);
            b.write(&path).expect("write");
            let raw = std::fs::read(&path).expect("read raw");
            assert_eq!(raw.starts_with(&GZIP_MAGIC), name.ends_with(".gz"));
            let back = Bundle::read(&path).expect("read back");
            assert_eq!(back.context, "kind-dev");
            assert_eq!(back.pods, b.pods);
            assert_eq!(back.created, created());
            let snap = back.to_snapshot();
            assert_eq!(snap.pods.len(), 1);
            assert_eq!(snap.resources.get("pods"), Some(&ResourceState::Live));
        }
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .expect("list")
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
            .collect();
        assert!(leftovers.is_empty());
    }

    #[test]
    fn format_checks() {
        let err = |bytes: &[u8]| Bundle::from_bytes(bytes).expect_err("must be refused").0;
        assert!(err(b"hello").contains("not JSON"));
        assert!(err(b"{\"pods\":[]}").contains("no \"format\""));
        assert!(err(&[0x1f, 0x8b, 0, 1, 2]).contains("cannot be decompressed"));
        let newer = json!({"format": FORMAT, "format_version": FORMAT_VERSION + 1}).to_string();
        assert!(err(newer.as_bytes()).contains("newer kindscope"));
        let damaged = json!({"format": FORMAT, "format_version": 1, "pods": 3}).to_string();
        assert!(err(damaged.as_bytes()).contains("damaged"));
        let e = Bundle::read(Path::new("/nonexistent/b.json")).expect_err("missing file");
        assert!(e.0.contains("/nonexistent/b.json"));
    }
}
