//! One node's image list merged from `Node.status.images` (the API, capped at 50) and the
//! container runtime's `crictl images` (complete), keeping where each image was seen.
//! Pure: the listing IO lives in `runtime`.

use std::collections::BTreeMap;

use crate::imageref::ImageRef;
use crate::model::{NodeImage, NodeImages, RuntimeListing};

/// Merge a runtime listing into the API view of one node.
///
/// On success the runtime list is the base (it is complete and has IDs); API entries that match
/// a runtime image by ID or by any name mark it as seen by the API too, and API entries the
/// runtime does not show (removed since the kubelet's last report) are kept, API-only. On failure
/// the API view is kept and the reason recorded once in `runtime`.
pub fn merge(
    api: NodeImages,
    runtime: Result<Vec<NodeImage>, String>,
    runtime_name: &str,
) -> NodeImages {
    let rt = runtime_name.to_string();
    let list = match runtime {
        Err(reason) => {
            return NodeImages {
                runtime: RuntimeListing::Failed {
                    runtime: rt,
                    reason,
                },
                ..api
            };
        }
        Ok(list) => list,
    };
    let mut merged: Vec<NodeImage> = Vec::with_capacity(list.len().max(api.images.len()));
    for mut img in list {
        img.sources.runtime = true;
        img.sources.api = false;
        // crictl lists an image once per ID; fold accidental repeats together anyway.
        match img
            .id
            .as_deref()
            .and_then(|id| merged.iter().position(|m| same_id(m.id.as_deref(), id)))
        {
            Some(i) => add_names(&mut merged[i], &img.names),
            None => merged.push(img),
        }
    }
    for a in api.images {
        let hit = merged.iter().position(|m| {
            a.id.as_deref()
                .is_some_and(|id| same_id(m.id.as_deref(), id))
                || a.names.iter().any(|n| has_name(m, n))
        });
        match hit {
            Some(i) => {
                merged[i].sources.api = true;
                add_names(&mut merged[i], &a.names);
                if merged[i].size_bytes == 0 {
                    merged[i].size_bytes = a.size_bytes;
                }
            }
            None => merged.push(NodeImage {
                sources: crate::model::ImageSources {
                    api: true,
                    runtime: false,
                },
                ..a
            }),
        }
    }
    // The kubelet's order: largest first; ties by name for a stable view.
    merged.sort_by(|x, y| {
        y.size_bytes
            .cmp(&x.size_bytes)
            .then_with(|| x.names.first().cmp(&y.names.first()))
    });
    NodeImages {
        node: api.node,
        images: merged,
        api_capped: api.api_capped,
        runtime: RuntimeListing::Ok { runtime: rt },
    }
}

/// Merge every node: `runtime` holds one listing per node name; nodes it does not mention keep
/// their API view with `not_listed` as the reason (e.g. the listing was not run for a new node).
pub fn merge_all(
    api: BTreeMap<String, NodeImages>,
    mut runtime: BTreeMap<String, Result<Vec<NodeImage>, String>>,
    runtime_name: &str,
) -> BTreeMap<String, NodeImages> {
    api.into_iter()
        .map(|(node, imgs)| {
            let merged = match runtime.remove(&node) {
                Some(listing) => merge(imgs, listing, runtime_name),
                None => imgs,
            };
            (node, merged)
        })
        .collect()
}

/// The one line to show when some runtime listing failed or was impossible:
/// "node images from the API only: REASON; lists may be capped at 50". `None` when every node
/// was listed by the runtime or none was tried.
pub fn runtime_note(node_images: &BTreeMap<String, NodeImages>) -> Option<String> {
    let mut failed = node_images.values().filter_map(|n| match &n.runtime {
        RuntimeListing::Failed { reason, .. } => Some((n.node.as_str(), reason.as_str())),
        _ => None,
    });
    let (first_node, reason) = failed.next()?;
    let others = failed.count();
    let scope = if others == 0 {
        format!("node {first_node}")
    } else {
        format!("node {first_node} and {others} more")
    };
    Some(format!(
        "node images from the API only ({scope}): {reason}; lists may be capped at {}",
        crate::NODE_STATUS_MAX_IMAGES
    ))
}

/// The note for a cluster whose runtime was not asked at all, when some API list is capped.
pub fn capped_note(node_images: &BTreeMap<String, NodeImages>) -> Option<String> {
    let capped: Vec<&str> = node_images
        .values()
        .filter(|n| n.maybe_incomplete())
        .map(|n| n.node.as_str())
        .collect();
    (!capped.is_empty()).then(|| {
        format!(
            "Node.status.images of {} holds the kubelet's maximum of {} images, so smaller images may be missing; let kindscope read the node's runtime (--runtime docker|podman) for the complete list",
            capped.join(", "),
            crate::NODE_STATUS_MAX_IMAGES
        )
    })
}

fn add_names(img: &mut NodeImage, names: &[String]) {
    for n in names {
        if !has_name(img, n) {
            img.names.push(n.clone());
        }
    }
}

/// Names match exactly or after Docker's normalisation (`nginx:1` = `docker.io/library/nginx:1`).
fn has_name(img: &NodeImage, name: &str) -> bool {
    let norm = normalise(name);
    img.names
        .iter()
        .any(|n| n == name || (norm.is_some() && normalise(n) == norm))
}

fn normalise(name: &str) -> Option<String> {
    ImageRef::parse(name).ok().map(|r| r.full())
}

/// IDs match with or without the `sha256:` prefix (podman prints bare hex).
pub fn same_id(a: Option<&str>, b: &str) -> bool {
    let strip = |s: &str| s.strip_prefix("sha256:").unwrap_or(s).to_string();
    a.is_some_and(|a| !a.is_empty() && !b.is_empty() && strip(a) == strip(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ImageSources;

    fn img(names: &[&str], id: Option<&str>, size: u64, api: bool, runtime: bool) -> NodeImage {
        NodeImage {
            names: names.iter().map(|s| s.to_string()).collect(),
            id: id.map(str::to_string),
            size_bytes: size,
            sources: ImageSources { api, runtime },
        }
    }

    fn api(images: Vec<NodeImage>, capped: bool) -> NodeImages {
        NodeImages {
            node: "w".into(),
            images,
            api_capped: capped,
            runtime: RuntimeListing::NotTried,
        }
    }

    #[test]
    fn failure_keeps_api_and_records_reason() {
        let a = api(
            vec![img(&["docker.io/library/nginx:1"], None, 5, true, false)],
            true,
        );
        let m = merge(a.clone(), Err("podman is not installed".into()), "podman");
        assert_eq!(m.images, a.images);
        assert!(m.maybe_incomplete());
        let map = BTreeMap::from([("w".to_string(), m)]);
        let note = runtime_note(&map).expect("a failed listing is reported");
        assert!(note.contains("podman is not installed") && note.contains("capped at 50"));
    }

    #[test]
    fn sources_are_kept_per_image() {
        let a = api(
            vec![
                img(
                    &[
                        "docker.io/library/nginx:1",
                        "docker.io/library/nginx@sha256:aa",
                    ],
                    None,
                    500,
                    true,
                    false,
                ),
                img(&["docker.io/library/gone:1"], None, 300, true, false),
            ],
            false,
        );
        let rt = vec![
            img(
                &["docker.io/library/nginx:1"],
                Some("sha256:n"),
                500,
                false,
                true,
            ),
            img(
                &["localhost/kubernaut/gateway:debug"],
                Some("sha256:g"),
                10,
                false,
                true,
            ),
        ];
        let m = merge(a, Ok(rt), "podman");
        assert_eq!(
            m.runtime,
            RuntimeListing::Ok {
                runtime: "podman".into()
            }
        );
        let by = |n: &str| {
            m.images
                .iter()
                .find(|i| i.names.iter().any(|x| x == n))
                .expect("image present")
        };
        let nginx = by("docker.io/library/nginx:1");
        assert_eq!(
            nginx.sources,
            ImageSources {
                api: true,
                runtime: true
            }
        );
        assert!(nginx.names.iter().any(|n| n.ends_with("@sha256:aa")));
        assert_eq!(
            by("docker.io/library/gone:1").sources,
            ImageSources {
                api: true,
                runtime: false
            }
        );
        assert_eq!(
            by("localhost/kubernaut/gateway:debug").sources,
            ImageSources {
                api: false,
                runtime: true
            }
        );
        assert_eq!(m.images.len(), 3);
        assert_eq!(m.images[0].size_bytes, 500, "largest first");
    }

    #[test]
    fn familiar_api_names_match_full_runtime_names() {
        let a = api(vec![img(&["nginx:1"], None, 1, true, false)], false);
        let m = merge(
            a,
            Ok(vec![img(
                &["docker.io/library/nginx:1"],
                Some("sha256:n"),
                1,
                false,
                true,
            )]),
            "docker",
        );
        assert_eq!(m.images.len(), 1);
        assert!(m.images[0].sources.api && m.images[0].sources.runtime);
    }

    #[test]
    fn ids_compare_with_or_without_prefix() {
        assert!(same_id(Some("sha256:abc"), "abc"));
        assert!(!same_id(Some(""), ""));
        assert!(!same_id(None, "abc"));
    }
}
