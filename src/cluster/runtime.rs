//! The container runtime that runs the Kind node containers (docker or podman), chosen the way
//! kind chooses it, and the node image lists read through it with
//! `RUNTIME exec NODE crictl images -o json`.
//!
//! `Node.status.images` holds at most 50 images, largest first, so a small dev image is the first
//! to vanish from the API; crictl inside the node container lists everything.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use futures::StreamExt;
use serde::Deserialize;
use tokio::process::Command;

use crate::cli::RuntimeChoice;
use crate::model::{ImageSources, NodeImage};

/// The environment variable kind reads to pick its node provider.
pub const PROVIDER_ENV: &str = "KIND_EXPERIMENTAL_PROVIDER";

/// How many `exec` children run at once; a 100-node cluster must not fork 100 runtimes at once.
const MAX_CONCURRENT_EXECS: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RuntimeKind {
    Docker,
    Podman,
}

impl RuntimeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RuntimeKind::Docker => "docker",
            RuntimeKind::Podman => "podman",
        }
    }
}

impl fmt::Display for RuntimeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A container runtime and the program that drives it (`docker`, `podman`, or a path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Runtime {
    pub kind: RuntimeKind,
    /// Looked up on PATH when it is a bare name.
    pub program: PathBuf,
}

impl Runtime {
    /// The runtime's usual program, found on PATH.
    pub fn new(kind: RuntimeKind) -> Self {
        Self {
            kind,
            program: PathBuf::from(kind.as_str()),
        }
    }

    /// A runtime driven by a specific program (a stand-in in tests, a wrapper on odd systems).
    pub fn with_program(kind: RuntimeKind, program: impl Into<PathBuf>) -> Self {
        Self {
            kind,
            program: program.into(),
        }
    }

    pub fn name(&self) -> &'static str {
        self.kind.as_str()
    }

    /// A command for this runtime whose child dies with the future that waits for it.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        cmd
    }
}

/// What the user or the environment asked for, before any probing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Use this runtime; `why` says where the choice came from.
    Use { kind: RuntimeKind, why: String },
    /// Do not ask any runtime.
    Disabled { why: String },
    /// Nothing was asked for: probe docker, else podman (kind's own order).
    Probe { note: Option<String> },
}

/// Kind's precedence without IO: `--runtime` flag, then the config file, then
/// `KIND_EXPERIMENTAL_PROVIDER`, else probe. An unknown provider value is ignored with a note,
/// as kind ignores it with a warning.
pub fn decide(
    flag: Option<RuntimeChoice>,
    config: Option<RuntimeChoice>,
    provider_env: Option<&str>,
) -> Decision {
    let from_choice = |c: RuntimeChoice, why: &str| match c {
        RuntimeChoice::Docker => Decision::Use {
            kind: RuntimeKind::Docker,
            why: why.to_string(),
        },
        RuntimeChoice::Podman => Decision::Use {
            kind: RuntimeKind::Podman,
            why: why.to_string(),
        },
        RuntimeChoice::None => Decision::Disabled {
            why: why.to_string(),
        },
    };
    if let Some(c) = flag {
        return from_choice(c, "--runtime");
    }
    if let Some(c) = config {
        return from_choice(c, "the config file's `runtime`");
    }
    match provider_env.map(str::trim) {
        Some("docker") => Decision::Use {
            kind: RuntimeKind::Docker,
            why: format!("{PROVIDER_ENV}=docker"),
        },
        Some("podman") => Decision::Use {
            kind: RuntimeKind::Podman,
            why: format!("{PROVIDER_ENV}=podman"),
        },
        None | Some("") => Decision::Probe { note: None },
        Some(other) => Decision::Probe {
            note: Some(format!(
                "ignoring {PROVIDER_ENV}={other}: kindscope reads node images through docker or podman only"
            )),
        },
    }
}

/// The runtime that was chosen (or why none was), for status lines and `RuntimeListing`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    pub runtime: Option<Runtime>,
    /// One sentence: where the choice came from, or why there is no runtime.
    pub why: String,
}

/// The programs that stand for docker and podman (bare names, found on PATH, unless a test
/// points them elsewhere).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Programs {
    pub docker: PathBuf,
    pub podman: PathBuf,
}

impl Default for Programs {
    fn default() -> Self {
        Self {
            docker: PathBuf::from("docker"),
            podman: PathBuf::from("podman"),
        }
    }
}

/// Choose the runtime as kind does, probing docker when nothing was asked for.
/// `provider_env` is the value of `KIND_EXPERIMENTAL_PROVIDER` (pass
/// `std::env::var(PROVIDER_ENV).ok()`).
pub async fn choose(
    flag: Option<RuntimeChoice>,
    config: Option<RuntimeChoice>,
    provider_env: Option<&str>,
    programs: &Programs,
    probe_timeout: Duration,
) -> Selection {
    let program_for = |kind| match kind {
        RuntimeKind::Docker => programs.docker.clone(),
        RuntimeKind::Podman => programs.podman.clone(),
    };
    match decide(flag, config, provider_env) {
        Decision::Use { kind, why } => Selection {
            runtime: Some(Runtime::with_program(kind, program_for(kind))),
            why: format!("{kind} (from {why})"),
        },
        Decision::Disabled { why } => Selection {
            runtime: None,
            why: format!("no container runtime asked (from {why})"),
        },
        Decision::Probe { note } => {
            let docker =
                Runtime::with_program(RuntimeKind::Docker, program_for(RuntimeKind::Docker));
            let prefix = note.map(|n| format!("{n}; ")).unwrap_or_default();
            if answers(&docker, probe_timeout).await {
                Selection {
                    runtime: Some(docker),
                    why: format!("{prefix}docker (it answered)"),
                }
            } else {
                // Kind falls back to podman without checking it; a missing podman is then
                // reported once, by the listing, with its own reason.
                Selection {
                    runtime: Some(Runtime::with_program(
                        RuntimeKind::Podman,
                        program_for(RuntimeKind::Podman),
                    )),
                    why: format!("{prefix}podman (docker did not answer)"),
                }
            }
        }
    }
}

/// True when `RUNTIME info` succeeds within `limit` (a docker CLI whose daemon is down fails).
pub async fn answers(runtime: &Runtime, limit: Duration) -> bool {
    let mut cmd = runtime.command();
    cmd.args(["info", "--format", "{{json .}}"]);
    let Ok(child) = cmd.spawn() else {
        return false;
    };
    matches!(
        tokio::time::timeout(limit, crate::limits::child_output(child)).await,
        Ok(Ok(out)) if out.status.success()
    )
}

/// crictl's `images -o json` answer.
#[derive(Debug, Deserialize)]
struct CrictlImages {
    #[serde(default)]
    images: Option<Vec<CrictlImage>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CrictlImage {
    #[serde(default)]
    id: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    #[serde(default)]
    repo_digests: Option<Vec<String>>,
    /// A uint64, which protobuf's JSON mapping writes as a string; accept a number too.
    #[serde(default)]
    size: Option<SizeField>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum SizeField {
    Text(String),
    Number(u64),
}

/// Parse `crictl images -o json` into node images (source: runtime). Tags first, then digests.
pub fn parse_crictl_images(json: &str) -> Result<Vec<NodeImage>, String> {
    let parsed: CrictlImages = serde_json::from_str(json)
        .map_err(|e| format!("its output is not crictl's image JSON ({e})"))?;
    parsed
        .images
        .unwrap_or_default()
        .into_iter()
        .map(|img| {
            let size_bytes = match img.size {
                None => 0,
                Some(SizeField::Number(n)) => n,
                Some(SizeField::Text(s)) => s.trim().parse().map_err(|_| {
                    format!("image {} has a size that is not a number: {s:?}", img.id)
                })?,
            };
            let mut names = img.repo_tags.unwrap_or_default();
            names.extend(img.repo_digests.unwrap_or_default());
            Ok(NodeImage {
                names,
                id: (!img.id.is_empty()).then_some(img.id),
                size_bytes,
                sources: ImageSources {
                    api: false,
                    runtime: true,
                },
            })
        })
        .collect()
}

/// The last non-empty line of a child's stderr: where CLIs put the sentence that matters.
pub fn last_line(stderr: &str) -> &str {
    stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("no error message")
        .trim()
}

/// One node's list through `RUNTIME exec NODE crictl images -o json`, or one sentence saying why
/// not. The child is killed when `limit` passes.
pub async fn list_one_node(
    runtime: &Runtime,
    node: &str,
    limit: Duration,
) -> Result<Vec<NodeImage>, String> {
    let rt = runtime.name();
    let mut cmd = runtime.command();
    cmd.args(["exec", node, "crictl", "images", "-o", "json"]);
    let child = cmd.spawn().map_err(|e| spawn_failure(runtime, &e))?;
    let out = match tokio::time::timeout(limit, crate::limits::child_output(child)).await {
        // Dropping the future drops the child, and kill_on_drop kills it.
        Err(_) => {
            return Err(format!(
                "`{rt} exec {node} crictl images` did not answer within {}s",
                limit.as_secs_f32()
            ));
        }
        Ok(Err(e)) => return Err(format!("`{rt} exec {node}` failed: {e}")),
        Ok(Ok(out)) => out,
    };
    if !out.status.success() {
        return Err(exec_failure(
            rt,
            node,
            &String::from_utf8_lossy(&out.stderr),
        ));
    }
    parse_crictl_images(&String::from_utf8_lossy(&out.stdout))
        .map_err(|e| format!("crictl on node {node} answered, but {e}"))
}

/// Every node's list, concurrently (at most 8 at once), each with its own timeout.
pub async fn list_node_images(
    runtime: &Runtime,
    node_names: &[String],
    per_node_timeout: Duration,
) -> BTreeMap<String, Result<Vec<NodeImage>, String>> {
    futures::stream::iter(node_names.iter().cloned())
        .map(|node| async move {
            let res = list_one_node(runtime, &node, per_node_timeout).await;
            (node, res)
        })
        .buffer_unordered(MAX_CONCURRENT_EXECS)
        .collect()
        .await
}

/// The sentence for a runtime program that cannot be started.
pub fn spawn_failure(runtime: &Runtime, e: &std::io::Error) -> String {
    let rt = runtime.name();
    match e.kind() {
        std::io::ErrorKind::NotFound => format!(
            "{rt} is not installed or not on PATH (looked for `{}`); install it or pass --runtime with the one your Kind cluster uses",
            runtime.program.display()
        ),
        std::io::ErrorKind::PermissionDenied => format!(
            "`{}` cannot be run (permission denied); check that it is executable",
            runtime.program.display()
        ),
        _ => format!("`{}` cannot be started: {e}", runtime.program.display()),
    }
}

/// Turn a failed `exec`'s stderr into one sentence the user can act on.
pub fn exec_failure(rt: &str, node: &str, stderr: &str) -> String {
    let lower = stderr.to_lowercase();
    if lower.contains("no such container") || lower.contains("no container with name or id") {
        format!(
            "{rt} has no container named {node}; the Kind cluster may run under the other runtime (try --runtime {})",
            if rt == "docker" { "podman" } else { "docker" }
        )
    } else if lower.contains("permission denied") {
        format!(
            "{rt} refused access (permission denied); run kindscope as a user who may use {rt}, as kind does (e.g. in the docker group, or rootful podman)"
        )
    } else if lower.contains("cannot connect to the docker daemon")
        || lower.contains("is the docker daemon running")
        || lower.contains("cannot connect to podman")
    {
        format!("{rt} is installed but its daemon is not running; start it or pass --runtime")
    } else if lower.contains("crictl")
        && (lower.contains("not found") || lower.contains("no such file"))
    {
        format!("node container {node} has no crictl, so it is probably not a Kind node")
    } else {
        let last = last_line(stderr);
        format!("`{rt} exec {node} crictl images` failed: {last}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_beats_config_and_env() {
        let d = decide(
            Some(RuntimeChoice::None),
            Some(RuntimeChoice::Docker),
            Some("podman"),
        );
        assert!(matches!(d, Decision::Disabled { .. }));
        let d = decide(Some(RuntimeChoice::Docker), None, Some("podman"));
        assert!(matches!(
            d,
            Decision::Use {
                kind: RuntimeKind::Docker,
                ..
            }
        ));
    }

    #[test]
    fn env_then_probe() {
        assert!(matches!(
            decide(None, None, Some("podman")),
            Decision::Use {
                kind: RuntimeKind::Podman,
                ..
            }
        ));
        assert_eq!(decide(None, None, None), Decision::Probe { note: None });
        assert_eq!(decide(None, None, Some("")), Decision::Probe { note: None });
        let Decision::Probe { note: Some(note) } = decide(None, None, Some("nerdctl")) else {
            panic!("an unknown provider must fall back to probing");
        };
        assert!(note.contains("nerdctl"));
    }

    #[test]
    fn sizes_as_strings_or_numbers() {
        let json = r#"{"images":[
          {"id":"sha256:a","repoTags":["docker.io/library/nginx:1.27"],"repoDigests":[],"size":"1234","username":"","pinned":false},
          {"id":"sha256:b","repoTags":null,"repoDigests":["docker.io/library/import-2025-01-02@sha256:bb"],"size":99,"pinned":true}
        ]}"#;
        let imgs = parse_crictl_images(json).expect("valid crictl json");
        assert_eq!(imgs[0].size_bytes, 1234);
        assert_eq!(imgs[1].size_bytes, 99);
        assert_eq!(
            imgs[1].names,
            vec!["docker.io/library/import-2025-01-02@sha256:bb".to_string()]
        );
        assert!(imgs.iter().all(|i| i.sources.runtime && !i.sources.api));
        assert!(parse_crictl_images(r#"{"images":[{"id":"x","size":"big"}]}"#).is_err());
        assert!(parse_crictl_images("NAME TAG").is_err());
        assert_eq!(parse_crictl_images("{}").expect("empty list").len(), 0);
    }

    #[test]
    fn exec_failures_read_well() {
        let s = exec_failure(
            "podman",
            "w1",
            "Error: no container with name or ID \"w1\" found: no such container\n",
        );
        assert!(s.contains("no container named w1") && s.contains("--runtime docker"));
        let s = exec_failure(
            "docker",
            "w1",
            "permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock",
        );
        assert!(s.contains("permission denied"));
        let s = exec_failure(
            "docker",
            "w1",
            "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?",
        );
        assert!(s.contains("not running"));
        let s = exec_failure("docker", "w1", "something odd\n\n");
        assert!(s.ends_with("something odd"));
    }
}
