//! `kindscope load IMAGE [--cluster NAME]`: save the image from the local runtime, load it with
//! `kind load image-archive`, then check through crictl the exact name every node holds, and say
//! which name a manifest must use (`localhost/…` stays `localhost/…` with podman).
//!
//! Exit codes: 0 loaded and found on every node; 1 loaded but missing (or unreadable) on some
//! node; 2 bad input or missing tools (no such local image, kind or runtime missing, unknown
//! cluster); 3 `kind load` itself failed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::Command;

use crate::cli::{Cli, LoadArgs};
use crate::cluster::import::{LocalImage, is_import_name, local_image, retag_command};
use crate::cluster::kind;
use crate::cluster::node_images::same_id;
use crate::cluster::runtime::{self, PROVIDER_ENV, Programs, Runtime, list_node_images};
use crate::config::Config;
use crate::error::{CliError, CmdResult, exit};
use crate::imageref::ImageRef;

pub async fn run(cli: &Cli, args: &LoadArgs) -> CmdResult {
    let context = cli.conn.context.clone().or_else(|| current_context(cli));
    let cluster = kind::cluster_name(args.cluster.as_deref(), context.as_deref());
    // Loading an image is a write: `--read-only` refuses it before anything runs.
    crate::cluster::guard::check_load(&cli.write, &cluster).map_err(CliError::usage)?;
    let config = Config::load(cli.config.as_deref())?;
    let provider = std::env::var(PROVIDER_ENV).ok();
    let selection = runtime::choose(
        cli.conn.runtime,
        config.runtime.choice(),
        provider.as_deref(),
        &Programs::default(),
        config.timeouts.runtime_probe(),
    )
    .await;
    let Some(rt) = selection.runtime else {
        return Err(CliError::usage(format!(
            "`kindscope load` needs the container runtime that holds the image, but {}; pass --runtime docker or --runtime podman",
            selection.why
        )));
    };
    // Image and node names come from the runtime and the cluster: escaped on the way out.
    let mut out = super::output::SafeWriter::new(std::io::stdout(), false);
    let outcome = load_image(
        &rt,
        Path::new("kind"),
        &args.image,
        &cluster,
        config.timeouts.runtime_exec(),
        &mut out,
    )
    .await?;
    Ok(outcome)
}

/// The kubeconfig's current context, best effort (only used to guess the cluster name).
fn current_context(cli: &Cli) -> Option<String> {
    let kc = match &cli.conn.kubeconfig {
        Some(p) => kube::config::Kubeconfig::read_from(p).ok()?,
        None => kube::config::Kubeconfig::read().ok()?,
    };
    kc.current_context
}

/// Removes the temporary archive on every exit path.
struct TempArchive(PathBuf);

impl Drop for TempArchive {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn temp_archive() -> TempArchive {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    TempArchive(
        std::env::temp_dir().join(format!("kindscope-load-{}-{nanos}.tar", std::process::id())),
    )
}

/// Run a program to completion; `Err` carries one sentence (missing program, or its last stderr
/// line). No timeout: saving and loading a large image legitimately takes minutes.
async fn run_tool(program: &Path, args: &[&str], envs: &[(&str, &str)]) -> Result<String, String> {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .envs(envs.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let shown = format!("{} {}", program.display(), args.join(" "));
    let child = cmd
        .spawn()
        .map_err(|e| format!("`{shown}` cannot be started: {e}"))?;
    let out = crate::limits::child_output(child)
        .await
        .map_err(|e| format!("`{shown}` failed: {e}"))?;
    if out.status.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = crate::cluster::runtime::last_line(&stderr);
    Err(format!("`{shown}` failed: {last}"))
}

fn progress(out: &mut dyn Write, step: usize, text: &str) {
    // A closed stdout must not stop the load half-way.
    let _ = writeln!(out, "[{step}/4] {text}");
    let _ = out.flush();
}

/// The whole load: look up, save, `kind load image-archive`, verify on every node.
pub async fn load_image(
    rt: &Runtime,
    kind_program: &Path,
    image: &str,
    cluster: &str,
    exec_timeout: Duration,
    out: &mut dyn Write,
) -> CmdResult {
    let rtn = rt.name();
    // Saving and loading a large image take minutes: say what is being waited for.
    let waiting = crate::progress::Progress::stderr();
    // kind first: no point saving a large archive nobody can load.
    if let Err(e) = Command::new(kind_program)
        .arg("version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await
    {
        return Err(CliError::usage(
            if e.kind() == std::io::ErrorKind::NotFound {
                "kind is not installed or not on PATH; install it (https://kind.sigs.k8s.io/docs/user/quick-start/#installation) and try again".to_string()
            } else {
                format!("kind cannot be started ({e}); check that `kind version` works")
            },
        ));
    }

    progress(out, 1, &format!("looking up {image} in {rtn}"));
    let local = match local_image(rt, image, exec_timeout).await {
        Ok(Some(local)) => local,
        Ok(None) => {
            return Err(CliError::usage(format!(
                "{rtn} has no image named {image}; build or pull it first (`{rtn} images` lists what it has)"
            )));
        }
        Err(reason) => return Err(CliError::usage(reason)),
    };
    let local_name = local
        .names
        .first()
        .cloned()
        .unwrap_or_else(|| image.to_string());
    let _ = writeln!(out, "      found {local_name} ({})", short_id(&local.id));

    let archive = temp_archive();
    let archive_path = archive.0.to_string_lossy().into_owned();
    progress(
        out,
        2,
        &format!("saving it with `{rtn} save` to {archive_path}"),
    );
    waiting
        .during(
            format!("saving {image} with `{rtn} save`"),
            run_tool(&rt.program, &["save", "-o", &archive_path, image], &[]),
        )
        .await
        .map_err(|e| CliError::usage(format!("could not save {image} from {rtn}: {e}")))?;

    progress(
        out,
        3,
        &format!("loading it into Kind cluster {cluster} with `kind load image-archive`"),
    );
    // kind must use the same runtime to reach the node containers.
    let provider = [(PROVIDER_ENV, rtn)];
    waiting
        .during(
            format!("loading {image} into Kind cluster {cluster}"),
            run_tool(
                kind_program,
                &["load", "image-archive", &archive_path, "--name", cluster],
                &provider,
            ),
        )
        .await
    .map_err(|e| {
        if e.contains("no nodes found") {
            CliError::usage(format!(
                "kind found no cluster named {cluster} under {rtn}; pass --cluster with one of `kind get clusters`"
            ))
        } else {
            CliError::cluster(format!("kind could not load the image into {cluster}: {e}"))
        }
    })?;
    drop(archive);

    progress(out, 4, "checking the name every node holds");
    let nodes: Vec<String> = run_tool(
        kind_program,
        &["get", "nodes", "--name", cluster],
        &provider,
    )
    .await
    .map_err(|e| CliError::cluster(format!("could not list the nodes of {cluster}: {e}")))?
    .lines()
    .map(str::trim)
    .filter(|l| !l.is_empty())
    .map(str::to_string)
    .collect();
    if nodes.is_empty() {
        return Err(CliError::cluster(format!(
            "kind lists no nodes for cluster {cluster} after loading; check `kind get nodes --name {cluster}`"
        )));
    }
    let listings = waiting
        .during(
            crate::progress::reading_images(nodes.len(), rtn),
            list_node_images(rt, &nodes, exec_timeout),
        )
        .await;
    let verdict = verify(image, &local, &listings, rtn);
    for line in &verdict.lines {
        let _ = writeln!(out, "{line}");
    }
    Ok(verdict.code)
}

/// What the verification found, as lines to print and an exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub lines: Vec<String>,
    pub code: u8,
}

/// Decide, from each node's crictl listing, whether every node holds the image and under which
/// name a manifest reaches it. Pure, so it is tested without any tools.
pub fn verify(
    asked: &str,
    local: &LocalImage,
    listings: &std::collections::BTreeMap<String, Result<Vec<crate::model::NodeImage>, String>>,
    runtime_name: &str,
) -> Verdict {
    let mut lines = Vec::new();
    let mut missing = Vec::new();
    let mut unreadable = Vec::new();
    let mut names_per_node = Vec::new();
    for (node, listing) in listings {
        match listing {
            Err(reason) => unreadable.push(format!("{node}: {reason}")),
            Ok(images) => match images.iter().find(|i| same_id(i.id.as_deref(), &local.id)) {
                None => missing.push(node.clone()),
                Some(img) => names_per_node.push((node.clone(), img.names.clone())),
            },
        }
    }
    if !missing.is_empty() || !unreadable.is_empty() {
        if !missing.is_empty() {
            lines.push(format!(
                "kind reported success, but {} not hold image {} : {}",
                if missing.len() == 1 {
                    "this node does"
                } else {
                    "these nodes do"
                },
                short_id(&local.id),
                missing.join(", ")
            ));
        }
        for u in unreadable {
            lines.push(format!("could not check {u}"));
        }
        return Verdict {
            lines,
            code: exit::FINDINGS,
        };
    }
    let wanted: Vec<String> = local.names.iter().filter_map(|n| normal(n)).collect();
    let asked_norm = normal(asked);
    // The tag name every node shares, preferring the one the local runtime uses.
    let tag_names = |names: &Vec<String>| -> Vec<String> {
        names
            .iter()
            .filter(|n| !n.contains('@') && !is_import_name(n))
            .cloned()
            .collect()
    };
    let common: Option<String> = names_per_node.first().and_then(|(_, first)| {
        let mut candidates = tag_names(first);
        candidates.sort_by_key(|n| !wanted.contains(&normal(n).unwrap_or_default()));
        candidates
            .into_iter()
            .find(|c| names_per_node.iter().all(|(_, ns)| ns.contains(c)))
    });
    let n = names_per_node.len();
    match common {
        Some(name) => {
            let use_name = ImageRef::parse(&name)
                .map(|r| r.familiar())
                .unwrap_or_else(|_| name.clone());
            lines.push(format!("every node ({n}) holds the image as {name}"));
            if normal(&name) == asked_norm {
                lines.push(format!("use `{use_name}` in your manifest"));
            } else {
                lines.push(format!("use `{use_name}` in your manifest, not `{asked}`"));
            }
        }
        None => {
            // Only import names (or names that differ per node): kind's import renamed it.
            let (node, names) = &names_per_node[0];
            let node_name = names
                .iter()
                .find(|x| is_import_name(x) && !x.contains('@'))
                .or_else(|| names.iter().find(|x| is_import_name(x)))
                .or_else(|| names.first())
                .cloned()
                .unwrap_or_default();
            lines.push(format!(
                "kind's import stored the image without its name, as {node_name} on {node} (renamed-on-import)"
            ));
            lines.push(format!(
                "use `{node_name}` in your manifest, or give it the name `{asked}` on each node:"
            ));
            for (node, names) in &names_per_node {
                if let Some(from) = names.iter().find(|x| is_import_name(x)) {
                    lines.push(format!(
                        "  {}",
                        retag_command(node, runtime_name, from, asked)
                    ));
                }
            }
        }
    }
    Verdict {
        lines,
        code: exit::OK,
    }
}

fn normal(name: &str) -> Option<String> {
    ImageRef::parse(name).ok().map(|r| r.kubelet_form())
}

fn short_id(id: &str) -> String {
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    hex.chars().take(12).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ImageSources, NodeImage};
    use std::collections::BTreeMap;

    const ID: &str = "sha256:4ef5fd05785dbccdc7ebeda764ebc1527042da8fc5a53232f96c0dd4b01e064c";

    fn node(names: &[&str]) -> Result<Vec<NodeImage>, String> {
        Ok(vec![NodeImage {
            names: names.iter().map(|s| s.to_string()).collect(),
            id: Some(ID.into()),
            size_bytes: 1,
            sources: ImageSources {
                api: false,
                runtime: true,
            },
        }])
    }

    fn local(names: &[&str]) -> LocalImage {
        LocalImage {
            id: ID.into(),
            names: names.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn localhost_prefix_is_the_name_to_use() {
        let l = BTreeMap::from([
            (
                "w1".to_string(),
                node(&[
                    "localhost/kubernaut/gateway:debug",
                    "docker.io/library/import-2025-12-24@sha256:0000000000000000000000000000000000000000000000000000000000000000",
                ]),
            ),
            (
                "w2".to_string(),
                node(&["localhost/kubernaut/gateway:debug"]),
            ),
        ]);
        let v = verify(
            "kubernaut/gateway:debug",
            &local(&["localhost/kubernaut/gateway:debug"]),
            &l,
            "podman",
        );
        assert_eq!(v.code, exit::OK);
        assert_eq!(
            v.lines.last().map(String::as_str),
            Some(
                "use `localhost/kubernaut/gateway:debug` in your manifest, not `kubernaut/gateway:debug`"
            )
        );
    }

    #[test]
    fn docker_names_normalise_to_the_asked_one() {
        let l = BTreeMap::from([(
            "w1".to_string(),
            node(&["docker.io/kubernaut/gateway:debug"]),
        )]);
        let v = verify(
            "kubernaut/gateway:debug",
            &local(&["kubernaut/gateway:debug"]),
            &l,
            "podman",
        );
        assert_eq!(
            v.lines.last().map(String::as_str),
            Some("use `kubernaut/gateway:debug` in your manifest")
        );
    }

    #[test]
    fn missing_and_renamed() {
        let l = BTreeMap::from([
            ("w1".to_string(), node(&["localhost/x:1"])),
            ("w2".to_string(), Ok(vec![])),
        ]);
        let v = verify("x:1", &local(&["localhost/x:1"]), &l, "podman");
        assert_eq!(v.code, exit::FINDINGS);
        assert!(v.lines[0].contains("w2"), "{:?}", v.lines);

        let l = BTreeMap::from([(
            "w1".to_string(),
            node(&[
                "docker.io/library/import-2025-12-24@sha256:1111111111111111111111111111111111111111111111111111111111111111",
            ]),
        )]);
        let v = verify(
            "kubernaut/tools:debug",
            &local(&["localhost/kubernaut/tools:debug"]),
            &l,
            "podman",
        );
        assert_eq!(v.code, exit::OK);
        assert!(v.lines[0].contains("renamed-on-import"), "{:?}", v.lines);
        assert!(
            v.lines
                .iter()
                .any(|l| l.contains("ctr -n k8s.io images tag"))
        );
    }
}
