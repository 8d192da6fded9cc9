//! How a node image relates to the image a workload asks for: the highlight in the node pane,
//! by the diagnosis' own relation (`diagnose::likeness`), so a marker never contradicts a finding.

use crate::diagnose::{Likeness, likeness};
use crate::imageref::ImageRef;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// The exact name the selected finding's fix would set.
    FixTarget,
    /// The exact name containerd would resolve the workload's image to.
    Exact,
    /// What a `registry-prefix` or `tag-mismatch` finding would offer: same path and tag under
    /// another registry, or another tag of the same repository (or path under another registry).
    Near,
    None,
}

/// Classify a node image name against the wanted images and the fix's suggested name.
pub fn classify(
    name: &str,
    parsed: Option<&ImageRef>,
    wanted: &[ImageRef],
    fix_target: Option<&str>,
) -> Mark {
    if fix_target.is_some_and(|t| {
        t == name || parsed.is_some_and(|p| ImageRef::parse(t).is_ok_and(|t| t.full() == p.full()))
    }) {
        return Mark::FixTarget;
    }
    let Some(image) = parsed else {
        return Mark::None;
    };
    let mut mark = Mark::None;
    for w in wanted {
        match likeness(w, image) {
            Likeness::Resolves => return Mark::Exact,
            l if l.is_near() => mark = Mark::Near,
            _ => {}
        }
    }
    mark
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> ImageRef {
        ImageRef::parse(s).expect("valid test reference")
    }

    #[test]
    fn registry_prefix_is_near_and_the_suggestion_is_the_target() {
        let wanted = [r("kubernaut/gateway:debug")];
        let node = "localhost/kubernaut/gateway:debug";
        assert_eq!(classify(node, Some(&r(node)), &wanted, None), Mark::Near);
        assert_eq!(
            classify(node, Some(&r(node)), &wanted, Some(node)),
            Mark::FixTarget
        );
    }

    #[test]
    fn normalised_equal_is_exact_and_unrelated_is_none() {
        let wanted = [r("nginx")];
        let node = "docker.io/library/nginx:latest";
        assert_eq!(classify(node, Some(&r(node)), &wanted, None), Mark::Exact);
        let other = "localhost/kubernaut/datastorage:debug";
        assert_eq!(classify(other, Some(&r(other)), &wanted, None), Mark::None);
        // Same last path segment and tag, another path: no finding offers it, so no marker.
        let wanted = [r("kubernaut/gateway:debug")];
        let cousin = "localhost/other/gateway:debug";
        assert_eq!(
            classify(cousin, Some(&r(cousin)), &wanted, None),
            Mark::None
        );
        let wanted = [r("nginx")];
        let tag = "docker.io/library/nginx:1.27";
        assert_eq!(classify(tag, Some(&r(tag)), &wanted, None), Mark::Near);
    }
}
