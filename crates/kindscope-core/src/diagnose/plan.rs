//! Finding → FixPlan: which findings may be patched, and with what change. The patch itself
//! is `fix::plan_change`'s (which knows nothing of findings).

use super::{Finding, FindingKind};
use crate::fix::{Change, FixPlan, plan_change};
use crate::imageref::ImageRef;
use crate::model::Snapshot;

/// The plan for a finding, when a safe patch exists: the finding suggests a new image and/or
/// pull policy, the workload is a Deployment (or a bare Pod for an image-only change: a pod's
/// pull policy is immutable), and its container still has the image the finding saw.
/// `not-on-node`, `not-loaded` and `renamed-on-import` are never patched, and a suggested image
/// taken from the nodes is patched in only when every node concerned resolves it as written.
pub fn plan(finding: &Finding, snap: &Snapshot) -> Option<FixPlan> {
    let from_nodes = matches!(
        finding.kind,
        FindingKind::RegistryPrefix | FindingKind::TagMismatch | FindingKind::UnresolvableName
    );
    if !from_nodes
        && !matches!(
            finding.kind,
            FindingKind::PullPolicy | FindingKind::InvalidReference
        )
    {
        return None;
    }
    if from_nodes
        && let Some(image) = finding.suggested_image.as_deref()
        && !resolves_on_all(image, &finding.nodes, snap)
    {
        return None;
    }
    plan_change(
        &Change {
            target: finding.target(),
            container: finding.container.clone(),
            image_before: finding.image.clone(),
            image_after: finding.suggested_image.clone(),
            pull_policy_after: finding.suggested_pull_policy.clone(),
        },
        snap,
    )
}

/// Every node named resolves a request for `image` as written: it lists the exact name
/// containerd looks the request up by (a guard against patching to a `repo:tag@digest` the
/// runtime cannot resolve). A node kindscope knows nothing about cannot vouch for it.
fn resolves_on_all(image: &str, nodes: &[String], snap: &Snapshot) -> bool {
    let Ok(want) = ImageRef::parse(image) else {
        return false;
    };
    !nodes.is_empty()
        && nodes.iter().all(|n| {
            snap.node_images.get(n).is_some_and(|ni| {
                ni.images
                    .iter()
                    .flat_map(|i| &i.names)
                    .any(|held| ImageRef::parse(held).is_ok_and(|h| want.resolved_by(&h)))
            })
        })
}
