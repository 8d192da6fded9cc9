//! How a held image name relates to the image a workload asks for: the one definition the rules
//! use to pick `registry-prefix` and `tag-mismatch` candidates, and the dashboard uses to mark
//! node images (so a marker never disagrees with a finding). Both sides are normalised the way
//! containerd resolves names (docs/findings.md).

use crate::imageref::ImageRef;

/// The relation of a held name to a wanted reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Likeness {
    /// A request for the wanted image resolves to this name.
    Resolves,
    /// Same familiar path and tag (or digest) under another registry domain: what
    /// `registry-prefix` suggests.
    OtherRegistry,
    /// Same repository, another tag: what `tag-mismatch` suggests first.
    OtherTag,
    /// Same familiar path under another domain with another tag: `tag-mismatch`'s candidates
    /// when the repository itself holds no other tag.
    OtherRegistryAndTag,
    Unlike,
}

impl Likeness {
    /// Like enough to be a candidate of a finding (but not the image itself).
    pub fn is_near(self) -> bool {
        matches!(
            self,
            Likeness::OtherRegistry | Likeness::OtherTag | Likeness::OtherRegistryAndTag
        )
    }
}

/// How `held` relates to `wanted`.
pub fn likeness(wanted: &ImageRef, held: &ImageRef) -> Likeness {
    if wanted.resolved_by(held) {
        return Likeness::Resolves;
    }
    let same_repository = held.repository() == wanted.repository();
    let same_familiar_path = held.familiar_path() == wanted.familiar_path();
    if same_familiar_path && !same_repository && same_tag(wanted, held) {
        Likeness::OtherRegistry
    } else if same_repository && held.tag.is_some() {
        Likeness::OtherTag
    } else if same_familiar_path && !same_repository && held.tag.is_some() {
        Likeness::OtherRegistryAndTag
    } else {
        Likeness::Unlike
    }
}

/// The held name carries the wanted tag, or the wanted digest when one is asked for.
fn same_tag(wanted: &ImageRef, held: &ImageRef) -> bool {
    match (&wanted.digest, &held.digest) {
        (Some(d), Some(hd)) => d == hd,
        (Some(_), None) => false,
        (None, _) => held.tag.is_some() && held.tag.as_deref() == wanted.effective_tag(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> ImageRef {
        ImageRef::parse(s).expect("valid test reference")
    }

    #[test]
    fn each_relation() {
        let wanted = r("kubernaut/gateway:debug");
        for (held, want) in [
            ("docker.io/kubernaut/gateway:debug", Likeness::Resolves),
            ("localhost/kubernaut/gateway:debug", Likeness::OtherRegistry),
            ("docker.io/kubernaut/gateway:v2", Likeness::OtherTag),
            (
                "localhost/kubernaut/gateway:v2",
                Likeness::OtherRegistryAndTag,
            ),
            ("localhost/other/gateway:debug", Likeness::Unlike),
        ] {
            assert_eq!(likeness(&wanted, &r(held)), want, "{held}");
        }
        // `nginx` means `nginx:latest`: another tag of the same repository is near.
        assert_eq!(
            likeness(&r("nginx"), &r("docker.io/library/nginx:1.27")),
            Likeness::OtherTag
        );
        assert!(!Likeness::Resolves.is_near() && !Likeness::Unlike.is_near());
    }
}
