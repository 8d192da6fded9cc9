//! Kind's own images on a node, as real node images of that Kubernetes version list them
//! (docs/findings.md, "Facts about real Kind nodes"):
//!
//! * the kube-* images are loaded from archives with `ctr images import --digests` and labelled
//!   pinned, so each carries an `import-<build date>@sha256:…` name beside its tag;
//! * etcd, CoreDNS and pause are fetched by tag: the tag alone;
//! * kind v0.18 (Kubernetes v1.26) fetched kindnetd and local-path by `tag@digest`, so they are
//!   listed only as `repo:tag@sha256:…` — until a pull adds `repo@sha256:…` where their pods
//!   ran (kindnet: every node; the provisioner: the control plane). Later kind versions fetch
//!   them by tag.
//!
//! Names, digests and sizes of v1.26 are those of a real kind v0.18 node; the other versions
//! use kind v0.29's images, and digests nobody recorded are stable stand-ins.

use super::{RuntimeImage, fake_digest};

/// One base image: its names (tags and digest names exactly as the CRI lists them), size, and
/// whether it is pinned.
struct Base {
    names: Vec<String>,
    size: u64,
    pinned: bool,
}

fn minor(kubernetes_version: &str) -> u32 {
    kubernetes_version
        .trim_start_matches('v')
        .split('.')
        .nth(1)
        .and_then(|m| m.parse().ok())
        .unwrap_or(33)
}

/// The day the node image was built (kind release day): the date in its import names.
fn import_date(kubernetes_version: &str) -> &'static str {
    if minor(kubernetes_version) <= 26 {
        "2023-03-30"
    } else {
        "2025-05-21"
    }
}

/// The name `ctr images import --digests` gives beside an archive's own names, as the CRI
/// lists it.
pub fn import_name(kubernetes_version: &str, manifest_digest: &str) -> String {
    format!(
        "docker.io/library/import-{}@{manifest_digest}",
        import_date(kubernetes_version)
    )
}

fn bases(v: &str, control_plane: bool) -> Vec<Base> {
    let kube = |component: &str, size: u64| Base {
        names: vec![
            import_name(v, &fake_digest(&format!("manifest:{component}:{v}"))),
            format!("registry.k8s.io/{component}:{v}"),
        ],
        size,
        pinned: true,
    };
    let tag = |name: &str, size: u64| Base {
        names: vec![name.to_string()],
        size,
        pinned: false,
    };
    if minor(v) <= 26 {
        const KINDNETD: &str =
            "sha256:c19d6362a6a928139820761475a38c24c0cf84d507b9ddf414a078cf627497af";
        const PROVISIONER: &str =
            "sha256:f2d0a02831ff3a03cf51343226670d5060623b43a4cfc4808bd0875b2c4b9501";
        const HELPER: &str =
            "sha256:135203f2441f916fb13dad1561d27f60a6f11f50ec288b01a7d2ee9947c36270";
        let mut provisioner = vec![format!(
            "docker.io/kindest/local-path-provisioner:v0.0.23-kind.0@{PROVISIONER}"
        )];
        if control_plane {
            provisioner.push(format!(
                "docker.io/kindest/local-path-provisioner@{PROVISIONER}"
            ));
        }
        return vec![
            tag("registry.k8s.io/etcd:3.5.6-0", 102_542_580),
            kube("kube-apiserver", 80_392_681),
            kube("kube-controller-manager", 68_538_487),
            kube("kube-proxy", 67_217_404),
            kube("kube-scheduler", 57_761_399),
            Base {
                names: vec![
                    format!("docker.io/kindest/kindnetd:v20230330-48f316cd@{KINDNETD}"),
                    format!("docker.io/kindest/kindnetd@{KINDNETD}"),
                ],
                size: 27_726_335,
                pinned: false,
            },
            Base {
                names: provisioner,
                size: 18_664_669,
                pinned: false,
            },
            tag("registry.k8s.io/coredns/coredns:v1.9.3", 14_837_849),
            Base {
                names: vec![format!(
                    "docker.io/kindest/local-path-helper:v20230330-48f316cd@{HELPER}"
                )],
                size: 3_052_037,
                pinned: false,
            },
            Base {
                names: vec!["registry.k8s.io/pause:3.7".into()],
                size: 311_278,
                pinned: true,
            },
        ];
    }
    vec![
        tag("docker.io/kindest/kindnetd:v20250512-df8de77b", 44_375_501),
        tag(
            "docker.io/kindest/local-path-helper:v20241212-8ac705d0",
            3_084_671,
        ),
        tag(
            "docker.io/kindest/local-path-provisioner:v20250214-acbabc1a",
            22_541_737,
        ),
        tag("registry.k8s.io/coredns/coredns:v1.12.0", 20_939_036),
        tag("registry.k8s.io/etcd:3.5.21-0", 58_938_593),
        kube("kube-apiserver", 102_021_104),
        kube("kube-controller-manager", 94_625_088),
        kube("kube-proxy", 97_632_256),
        kube("kube-scheduler", 73_160_704),
        Base {
            names: vec!["registry.k8s.io/pause:3.10".into()],
            size: 320_368,
            pinned: true,
        },
    ]
}

/// Kind's base images on a node of a cluster of this Kubernetes version.
pub fn kind_node_images(kubernetes_version: &str, control_plane: bool) -> Vec<RuntimeImage> {
    bases(kubernetes_version, control_plane)
        .into_iter()
        .map(|b| {
            let seed = b.names.last().cloned().unwrap_or_default();
            // The CRI lists a name with a digest among the repo digests, a plain tag among
            // the repo tags (`ParseImageReferences`).
            let (repo_digests, repo_tags): (Vec<String>, Vec<String>) =
                b.names.into_iter().partition(|n| n.contains('@'));
            RuntimeImage {
                id: fake_digest(&format!("id:{seed}")),
                repo_tags,
                repo_digests,
                size: b.size,
                pinned: b.pinned,
            }
        })
        .collect()
}

/// The control plane's base images (every base image is on it).
pub fn kind_base_images(kubernetes_version: &str) -> Vec<RuntimeImage> {
    kind_node_images(kubernetes_version, true)
}

/// The image a Kind base component runs, by short name (`kube-proxy`, `coredns`, …), spelled as
/// kind's manifests spell it (`repo:tag`, or kind v0.18's `repo:tag@sha256:…`).
pub fn base_image_name(kubernetes_version: &str, component: &str) -> String {
    let last = |n: &str| {
        let repo = n.split('@').next().unwrap_or(n);
        let repo = repo.rsplit_once(':').map_or(repo, |(r, _)| r);
        repo.rsplit('/').next() == Some(component)
    };
    kind_base_images(kubernetes_version)
        .into_iter()
        .flat_map(|i| {
            let tags = i.repo_tags.clone();
            let pinned: Vec<String> = i
                .repo_digests
                .iter()
                .filter(|d| {
                    d.split('@')
                        .next()
                        .is_some_and(|r| r.rsplit('/').next().is_some_and(|l| l.contains(':')))
                })
                .cloned()
                .collect();
            tags.into_iter().chain(pinned)
        })
        .find(|n| last(n))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use kindscope_core::imageref::ImageRef;

    #[test]
    fn v1_26_nodes_list_kind_v0_18_names() {
        let worker = kind_node_images("v1.26.3", false);
        let cp = kind_node_images("v1.26.3", true);
        let apiserver = worker
            .iter()
            .find(|i| i.repo_tags == ["registry.k8s.io/kube-apiserver:v1.26.3"])
            .expect("kube-apiserver");
        assert!(apiserver.pinned);
        assert!(
            apiserver.repo_digests[0].starts_with("docker.io/library/import-2023-03-30@sha256:")
        );
        let lpp = base_image_name("v1.26.3", "local-path-provisioner");
        assert!(lpp.contains(":v0.0.23-kind.0@sha256:f2d0"), "{lpp}");
        let r = ImageRef::parse(&lpp).expect("valid");
        // The pinned reference resolves where the pod ran (control plane), not on a worker.
        assert!(cp.iter().any(|i| i.matches(&r)));
        assert!(!worker.iter().any(|i| i.matches(&r)));
        assert!(base_image_name("v1.26.3", "kindnetd").contains("@sha256:c19d"));
    }

    #[test]
    fn current_nodes_carry_import_names_beside_kube_tags() {
        let base = kind_base_images("v1.33.1");
        let proxy = base
            .iter()
            .find(|i| i.repo_tags == ["registry.k8s.io/kube-proxy:v1.33.1"])
            .expect("kube-proxy");
        assert!(proxy.repo_digests[0].starts_with("docker.io/library/import-2025-05-21@sha256:"));
        assert_eq!(
            base_image_name("v1.33.1", "kindnetd"),
            "docker.io/kindest/kindnetd:v20250512-df8de77b"
        );
    }
}
