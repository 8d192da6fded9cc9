//! Property tests: no panic on any input, normal forms round-trip, and agreement with
//! oci-spec's `Reference` where the two grammars overlap.

use proptest::prelude::*;

use super::*;

/// The apiserver's default, as the cluster applies it (`k8s`, which builds on this module).
fn default_pull_policy(image: &str) -> &'static str {
    crate::k8s::PullPolicy::default_for(image).as_str()
}

fn component() -> impl Strategy<Value = String> {
    "[a-z0-9]{1,6}(([._]|__|-{1,2})[a-z0-9]{1,6}){0,2}"
}

/// Reference strings built from Docker's grammar, with some domains Docker treats specially.
fn reference_string() -> impl Strategy<Value = String> {
    let domain = prop_oneof![
        Just(String::new()),
        Just("docker.io/".to_string()),
        Just("index.docker.io/".to_string()),
        Just("localhost/".to_string()),
        Just("localhost:5001/".to_string()),
        Just("registry.example.com/".to_string()),
        Just("quay.io/".to_string()),
        Just("[::1]:5000/".to_string()),
        Just("Upper/".to_string()),
        Just("10.0.0.1:5000/".to_string()),
    ];
    let path = prop::collection::vec(component(), 1..4).prop_map(|c| c.join("/"));
    let tag = prop::option::of("[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}");
    let digest = prop::option::of("[a-f0-9]{64}");
    (domain, path, tag, digest).prop_map(|(d, p, t, g)| {
        let mut s = format!("{d}{p}");
        if let Some(t) = t {
            s.push(':');
            s.push_str(&t);
        }
        if let Some(g) = g {
            s.push_str("@sha256:");
            s.push_str(&g);
        }
        s
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn never_panics_on_any_string(s in ".{0,300}") {
        let _ = ImageRef::parse(&s);
        let _ = default_pull_policy(&s);
    }

    #[test]
    fn never_panics_on_reference_like_noise(s in "[a-zA-Z0-9:/@._\\[\\] -]{0,80}") {
        if let Ok(r) = ImageRef::parse(&s) {
            // Anything accepted is in normal form: parsing its full form gives it back.
            prop_assert_eq!(ImageRef::parse(&r.full()), Ok(r.clone()));
        }
    }

    #[test]
    fn full_round_trips(s in reference_string()) {
        if let Ok(r) = ImageRef::parse(&s) {
            prop_assert_eq!(ImageRef::parse(&r.full()), Ok(r.clone()));
            prop_assert_eq!(r.to_string(), r.full());
            prop_assert_eq!(ImageRef::parse(&r.kubelet_form()).map(|k| k.lookup_name()), Ok(r.lookup_name()));
        }
    }

    #[test]
    fn familiar_round_trips(s in reference_string()) {
        if let Ok(r) = ImageRef::parse(&s) {
            let familiar = r.familiar();
            // Docker's familiar form is ambiguous when a Docker Hub path starts with a
            // domain-like component (`docker.io/localhost/x` prints as `localhost/x`).
            let first = familiar.split('/').next().unwrap_or("");
            let hub_path_looks_like_domain = r.domain == DEFAULT_DOMAIN
                && familiar.contains('/')
                && (first == "localhost" || first.contains(['.', ':']));
            if !hub_path_looks_like_domain {
                prop_assert_eq!(ImageRef::parse(&familiar), Ok(r.clone()));
            }
            prop_assert!(familiar.len() <= r.full().len());
        }
    }

    /// oci-spec's `Reference` as an independent oracle where both grammars agree: lowercase
    /// hostnames (no IPv6, no uppercase domain) and no 64-hex names.
    #[test]
    fn agrees_with_oci_spec_where_grammars_overlap(s in reference_string()) {
        let ours = ImageRef::parse(&s);
        let theirs = oci_spec::distribution::Reference::try_from(s.as_str());
        if let (Ok(r), Ok(o)) = (&ours, &theirs)
            && !r.domain.is_empty()
            && !r.domain.starts_with('[')
            && r.domain.to_lowercase() == r.domain
        {
            prop_assert_eq!(o.registry(), r.domain.as_str());
            prop_assert_eq!(o.repository(), r.path.as_str());
            prop_assert_eq!(o.digest(), r.digest.as_deref());
            let oci_tag = if r.tag.is_none() && r.digest.is_none() { Some("latest") } else { r.tag.as_deref() };
            prop_assert_eq!(o.tag(), oci_tag);
        }
        // Where we accept a lowercase, non-IPv6 reference, oci-spec accepts it too.
        if let Ok(r) = &ours
            && r.domain.to_lowercase() == r.domain
            && !r.domain.starts_with('[')
        {
            prop_assert!(theirs.is_ok(), "oci-spec rejects {}: {:?}", s, theirs);
        }
    }
}
