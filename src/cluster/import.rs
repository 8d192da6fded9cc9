//! `renamed-on-import`: `kind load image-archive` imports with `ctr images import --digests`, and
//! when the archive carries no usable name (some podman archives, OCI archives without a
//! `org.opencontainers.image.ref.name`), ctr names the image `import-YYYY-MM-DD@sha256:…`, which
//! the CRI shows as `docker.io/library/import-2025-01-02@sha256:…`. The image is on the node, but
//! under a name nobody would write in a manifest. It is recognised by its image ID, compared with
//! the image the local runtime holds under the asked name.
//!
//! The matching is pure ([`renamed_on_import`]); asking the local runtime for the ID is
//! [`local_image_id`].

use std::time::Duration;

use crate::cluster::node_images::same_id;
use crate::cluster::runtime::{Runtime, spawn_failure};
use crate::imageref::ImageRef;
use crate::model::NodeImages;

/// The node's name for the image the user asked for, when kind's import stored it only under an
/// `import-<date>` name: the node holds an image with the local image's ID, none of its names is
/// the asked one, and one of them is an import name (the tag form is preferred over the digest
/// form). `None` when the ID is unknown, the node holds the image under the asked name, or no
/// import name is involved (a `localhost/` prefix is a `registry-prefix` finding, not this).
pub fn renamed_on_import(
    asked: &str,
    local_image_id: Option<&str>,
    node_images: &NodeImages,
) -> Option<String> {
    let id = local_image_id.filter(|s| !s.is_empty())?;
    let asked_full = ImageRef::parse(asked).ok().map(|r| r.kubelet_form());
    let image = node_images
        .images
        .iter()
        .find(|img| same_id(img.id.as_deref(), id))?;
    let holds_asked = image.names.iter().any(|n| {
        n == asked
            || asked_full.is_some()
                && ImageRef::parse(n).ok().map(|r| r.kubelet_form()) == asked_full
    });
    if holds_asked {
        return None;
    }
    let imports = || image.names.iter().filter(|n| is_import_name(n));
    imports()
        .find(|n| !n.contains('@'))
        .or_else(|| imports().next())
        .cloned()
}

/// True for names ctr gives unnamed imports: last path component `import-YYYY-MM-DD`
/// (`docker.io/library/import-2025-01-02@sha256:…`, `import-2025-01-02:debug`).
pub fn is_import_name(name: &str) -> bool {
    let repo = name.split('@').next().unwrap_or(name);
    let last = repo.rsplit('/').next().unwrap_or(repo);
    let last = match last.split_once(':') {
        Some((n, _tag)) => n,
        None => last,
    };
    let Some(date) = last.strip_prefix("import-") else {
        return false;
    };
    let b = date.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// The command that gives the node's copy the asked name, so the manifest can stay as it is.
pub fn retag_command(node: &str, runtime: &str, node_name: &str, asked: &str) -> String {
    let target = ImageRef::parse(asked)
        .map(|r| r.kubelet_form())
        .unwrap_or_else(|_| asked.to_string());
    format!("{runtime} exec {node} ctr -n k8s.io images tag {node_name} {target}")
}

/// The ID (`sha256:…`) of the image the local runtime holds under `image`, `Ok(None)` when it
/// holds none, `Err` (one sentence) when the runtime cannot be asked.
/// podman resolves short names against its local store (`kubernaut/x:t` finds
/// `localhost/kubernaut/x:t`); docker normalises to `docker.io/…`.
pub async fn local_image_id(
    runtime: &Runtime,
    image: &str,
    limit: Duration,
) -> Result<Option<String>, String> {
    let rt = runtime.name();
    let mut cmd = runtime.command();
    cmd.args(["image", "inspect", "--format", "{{.Id}}", image]);
    let child = cmd.spawn().map_err(|e| spawn_failure(runtime, &e))?;
    let out = tokio::time::timeout(limit, child.wait_with_output())
        .await
        .map_err(|_| {
            format!(
                "`{rt} image inspect {image}` did not answer within {}s",
                limit.as_secs_f32()
            )
        })?
        .map_err(|e| format!("`{rt} image inspect {image}` failed: {e}"))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        let lower = stderr.to_lowercase();
        if lower.contains("no such image") || lower.contains("image not known") {
            return Ok(None);
        }
        let last = stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim();
        return Err(format!("`{rt} image inspect {image}` failed: {last}"));
    }
    let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if id.is_empty() {
        return Ok(None);
    }
    Ok(Some(if id.starts_with("sha256:") {
        id
    } else {
        format!("sha256:{id}")
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ImageSources, NodeImage, RuntimeListing};

    const ID: &str = "sha256:46dfa7b54c5ed0000000000000000000000000000000000000000000000000";

    fn node(names: &[&str], id: &str) -> NodeImages {
        NodeImages {
            node: "dev-worker".into(),
            images: vec![NodeImage {
                names: names.iter().map(|s| s.to_string()).collect(),
                id: Some(id.into()),
                size_bytes: 1,
                sources: ImageSources {
                    api: false,
                    runtime: true,
                },
            }],
            api_capped: false,
            runtime: RuntimeListing::Ok {
                runtime: "podman".into(),
            },
        }
    }

    #[test]
    fn finds_the_import_name_by_id() {
        let digest_name = format!("docker.io/library/import-2025-12-24@{ID}");
        let n = node(&[&digest_name], ID);
        assert_eq!(
            renamed_on_import("kubernaut/gateway:debug", Some(ID), &n),
            Some(digest_name.clone())
        );
        // podman prints IDs without the prefix
        let bare = ID.trim_start_matches("sha256:");
        assert_eq!(
            renamed_on_import("kubernaut/gateway:debug", Some(bare), &n),
            Some(digest_name)
        );
    }

    #[test]
    fn prefers_the_tag_form() {
        let n = node(
            &[
                &format!("docker.io/library/import-2025-12-24@{ID}"),
                "docker.io/library/import-2025-12-24:debug",
            ],
            ID,
        );
        assert_eq!(
            renamed_on_import("kubernaut/gateway:debug", Some(ID), &n).as_deref(),
            Some("docker.io/library/import-2025-12-24:debug")
        );
    }

    #[test]
    fn nothing_when_not_an_import_or_already_named() {
        assert_eq!(
            renamed_on_import(
                "x:1",
                None,
                &node(&["docker.io/library/import-2025-12-24:1"], ID)
            ),
            None
        );
        let other = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
        assert_eq!(
            renamed_on_import(
                "x:1",
                Some(other),
                &node(&["docker.io/library/import-2025-12-24:1"], ID)
            ),
            None
        );
        assert_eq!(
            renamed_on_import(
                "kubernaut/gateway:debug",
                Some(ID),
                &node(&["localhost/kubernaut/gateway:debug"], ID)
            ),
            None,
            "a localhost/ name is a registry-prefix finding"
        );
        assert_eq!(
            renamed_on_import(
                "kubernaut/gateway:debug",
                Some(ID),
                &node(
                    &[
                        "docker.io/kubernaut/gateway:debug",
                        "docker.io/library/import-2025-12-24:debug"
                    ],
                    ID
                )
            ),
            None,
            "the node already answers to the asked name"
        );
    }

    #[test]
    fn import_names() {
        assert!(is_import_name(
            "docker.io/library/import-2025-01-02@sha256:ab"
        ));
        assert!(is_import_name("import-2025-01-02:debug"));
        assert!(!is_import_name("docker.io/library/import-tool:1"));
        assert!(!is_import_name("docker.io/library/import-2025-1-02:1"));
        assert_eq!(
            retag_command(
                "dev-worker",
                "podman",
                "docker.io/library/import-2025-01-02:debug",
                "kubernaut/gateway:debug"
            ),
            "podman exec dev-worker ctr -n k8s.io images tag docker.io/library/import-2025-01-02:debug docker.io/kubernaut/gateway:debug"
        );
    }
}
