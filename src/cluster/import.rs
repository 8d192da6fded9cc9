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

use serde::Deserialize;

use crate::cluster::node_images::same_id;
use crate::cluster::runtime::{Runtime, spawn_failure};
use crate::imageref::ImageRef;
pub use crate::imageref::is_import_name;
use crate::model::{NodeImage, NodeImages};

/// The node's name for the image the user asked for, when kind's import stored it only under
/// `import-<date>` names: the node holds an image with the local image's ID, and every name it
/// has there is an import name (the tag form is preferred over the digest form). `None` when the
/// ID is unknown or not on the node, or the node also has a real name for it (then the node
/// holds the asked name, or a `localhost/` or other variant that the name-based rules such as
/// `registry-prefix` report; see [`held_under_other_name`]).
pub fn renamed_on_import(
    asked: &str,
    local_image_id: Option<&str>,
    node_images: &NodeImages,
) -> Option<String> {
    let image = image_with_id(local_image_id, node_images)?;
    if holds(image, asked)
        || image.names.is_empty()
        || !image.names.iter().all(|n| is_import_name(n))
    {
        return None;
    }
    let imports = || image.names.iter().filter(|n| is_import_name(n));
    imports()
        .find(|n| !n.contains('@'))
        .or_else(|| imports().next())
        .cloned()
}

/// The node's best name for the image with the local image's ID when the node does not hold it
/// under the asked name: a real tag first, then an import tag, then any digest name.
pub fn held_under_other_name(
    asked: &str,
    local_image_id: Option<&str>,
    node_images: &NodeImages,
) -> Option<String> {
    let image = image_with_id(local_image_id, node_images)?;
    if holds(image, asked) {
        return None;
    }
    let rank = |n: &String| match (is_import_name(n), n.contains('@')) {
        (false, false) => 0,
        (true, false) => 1,
        (false, true) => 2,
        (true, true) => 3,
    };
    image.names.iter().min_by_key(|n| rank(n)).cloned()
}

fn image_with_id<'a>(id: Option<&str>, node_images: &'a NodeImages) -> Option<&'a NodeImage> {
    let id = id.filter(|s| !s.is_empty())?;
    node_images
        .images
        .iter()
        .find(|img| same_id(img.id.as_deref(), id))
}

/// Does the image answer to `asked` as containerd looks it up: the request normalised
/// (`ParseDockerRef`: `:latest` added, the tag dropped beside a digest), matched exactly
/// against a listed name? A listed `repo:tag@sha256:…` answers no request.
fn holds(image: &NodeImage, asked: &str) -> bool {
    let Ok(want) = ImageRef::parse(asked) else {
        return false;
    };
    image
        .names
        .iter()
        .any(|n| ImageRef::parse(n).is_ok_and(|held| want.resolved_by(&held)))
}

/// The command that gives the node's copy the asked name, so the manifest can stay as it is.
pub fn retag_command(node: &str, runtime: &str, node_name: &str, asked: &str) -> String {
    let target = ImageRef::parse(asked)
        .map(|r| r.lookup_name())
        .unwrap_or_else(|_| asked.to_string());
    format!("{runtime} exec {node} ctr -n k8s.io images tag {node_name} {target}")
}

/// An image in the local runtime's store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalImage {
    /// `sha256:…` (podman's bare hex gets the prefix).
    pub id: String,
    /// Its tags as the runtime prints them (docker: familiar `org/app:t`; podman: full
    /// `localhost/org/app:t`).
    pub names: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Inspected {
    #[serde(rename = "Id", default)]
    id: String,
    #[serde(rename = "RepoTags", default)]
    repo_tags: Option<Vec<String>>,
}

/// The image the local runtime holds under `image`, `Ok(None)` when it holds none, `Err` (one
/// sentence) when the runtime cannot be asked. podman resolves short names against its local
/// store (`kubernaut/x:t` finds `localhost/kubernaut/x:t`); docker normalises to `docker.io/…`.
pub async fn local_image(
    runtime: &Runtime,
    image: &str,
    limit: Duration,
) -> Result<Option<LocalImage>, String> {
    let rt = runtime.name();
    let mut cmd = runtime.command();
    cmd.args(["image", "inspect", image]);
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
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let lower = stderr.to_lowercase();
        if lower.contains("no such image") || lower.contains("image not known") {
            return Ok(None);
        }
        let last = crate::cluster::runtime::last_line(&stderr);
        return Err(format!("`{rt} image inspect {image}` failed: {last}"));
    }
    let list: Vec<Inspected> = serde_json::from_slice(&out.stdout).map_err(|e| {
        format!("`{rt} image inspect {image}` printed something that is not its JSON ({e})")
    })?;
    Ok(list
        .into_iter()
        .find(|i| !i.id.is_empty())
        .map(|i| LocalImage {
            id: if i.id.starts_with("sha256:") {
                i.id
            } else {
                format!("sha256:{}", i.id)
            },
            names: i.repo_tags.unwrap_or_default(),
        }))
}

/// Just the ID of [`local_image`], for [`renamed_on_import`].
pub async fn local_image_id(
    runtime: &Runtime,
    image: &str,
    limit: Duration,
) -> Result<Option<String>, String> {
    Ok(local_image(runtime, image, limit).await?.map(|i| i.id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ImageSources, RuntimeListing};

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
        // kind's import adds an import digest name next to the real one: not a rename.
        let both = node(
            &[
                "localhost/kubernaut/gateway:debug",
                &format!("docker.io/library/import-2025-12-24@{ID}"),
            ],
            ID,
        );
        assert_eq!(
            renamed_on_import("kubernaut/gateway:debug", Some(ID), &both),
            None
        );
        assert_eq!(
            held_under_other_name("kubernaut/gateway:debug", Some(ID), &both).as_deref(),
            Some("localhost/kubernaut/gateway:debug")
        );
        assert_eq!(
            held_under_other_name("localhost/kubernaut/gateway:debug", Some(ID), &both),
            None
        );
    }

    /// kind v0.18's preload (kubernetes-sigs/kind#3173): the node lists the image only as
    /// `repo:tag@sha256:…`, which containerd never resolves a request to (it looks up
    /// `repo@sha256:…`), so the node does not hold the asked name; with the digest name a
    /// pull adds, it does.
    #[test]
    fn a_listed_tag_and_digest_name_does_not_answer_its_own_string() {
        let pinned = "docker.io/kindest/kindnetd:v20230330-48f316cd@sha256:c19d6362a6a928139820761475a38c24c0cf84d507b9ddf414a078cf627497af";
        let by_digest = "docker.io/kindest/kindnetd@sha256:c19d6362a6a928139820761475a38c24c0cf84d507b9ddf414a078cf627497af";
        let only = node(&[pinned], ID);
        assert!(!holds(&only.images[0], pinned));
        let pulled = node(&[pinned, by_digest], ID);
        assert!(holds(&pulled.images[0], pinned));
        assert!(holds(&pulled.images[0], by_digest));
        assert_eq!(
            retag_command("kind-control-plane", "docker", pinned, pinned),
            format!("docker exec kind-control-plane ctr -n k8s.io images tag {pinned} {by_digest}")
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
