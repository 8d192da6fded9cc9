//! Snapshots for tests and benchmarks: a small builder for hand-made Kind clusters, and a
//! deterministic synthetic generator (the `testkit` feature; the root enables it for its tests).
//! Not part of the stable API; `kindscope::diagnose::testkit` names the same module.
//!
//! ```
//! use kindscope_core::diagnose::testkit::{Cluster, Deploy, Fate};
//! let snap = Cluster::kind("gateway-debug")
//!     .worker("gateway-debug-worker", &["localhost/kubernaut/datastorage:debug"])
//!     .deploy(Deploy::new("default", "datastorage").container("datastorage", "kubernaut/datastorage:debug"))
//!     .pod("datastorage", "gateway-debug-worker", &[("datastorage", Fate::never_pull())])
//!     .build();
//! assert_eq!(kindscope_core::diagnose::diagnose(&snap).len(), 1);
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, ReplicaSet, ReplicaSetSpec};
use k8s_openapi::api::core::v1::{
    Container, ContainerState, ContainerStateRunning, ContainerStateWaiting, ContainerStatus,
    Event, Node, NodeSpec, ObjectReference, Pod, PodSpec, PodStatus, PodTemplateSpec, Taint,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta, OwnerReference};

use crate::k8s::PullPolicy;
use crate::model::{ImageSources, NodeImage, NodeImages, RuntimeListing, Snapshot};

/// How one container of a test pod fares. Messages are the kubelet's; `IMAGE` is filled in.
#[derive(Debug, Clone)]
pub enum Fate {
    Running,
    Waiting {
        reason: String,
        message: String,
    },
    /// No status yet (pod just created).
    Pending,
}

impl Fate {
    pub fn waiting(reason: &str, message: &str) -> Self {
        Fate::Waiting {
            reason: reason.into(),
            message: message.into(),
        }
    }
    pub fn never_pull() -> Self {
        Self::waiting(
            "ErrImageNeverPull",
            "Container image \"IMAGE\" is not present with pull policy of Never",
        )
    }
    pub fn pull_backoff() -> Self {
        Self::waiting("ImagePullBackOff", "Back-off pulling image \"IMAGE\"")
    }
    pub fn err_pull() -> Self {
        Self::waiting(
            "ErrImagePull",
            "failed to pull and unpack image \"IMAGE\": not found",
        )
    }
    pub fn invalid_name() -> Self {
        Self::waiting(
            "InvalidImageName",
            "Failed to apply default image tag \"IMAGE\": couldn't parse image name \"IMAGE\": invalid reference format",
        )
    }
}

/// A Deployment under construction.
#[derive(Debug, Clone)]
pub struct Deploy {
    namespace: String,
    name: String,
    containers: Vec<Container>,
    init: Vec<Container>,
    replicas: i32,
    /// Apply the apiserver's pull-policy defaulting (on by default, as a real cluster does).
    default_policies: bool,
}

impl Deploy {
    pub fn new(namespace: &str, name: &str) -> Self {
        Deploy {
            namespace: namespace.into(),
            name: name.into(),
            containers: Vec::new(),
            init: Vec::new(),
            replicas: 1,
            default_policies: true,
        }
    }
    pub fn container(mut self, name: &str, image: &str) -> Self {
        self.containers.push(container(name, image, None));
        self
    }
    pub fn container_policy(mut self, name: &str, image: &str, policy: &str) -> Self {
        self.containers.push(container(name, image, Some(policy)));
        self
    }
    pub fn init_container(mut self, name: &str, image: &str, policy: Option<&str>) -> Self {
        self.init.push(container(name, image, policy));
        self
    }
    pub fn replicas(mut self, n: i32) -> Self {
        self.replicas = n;
        self
    }
    /// Leave `imagePullPolicy` absent where it was not given (a hand-written object).
    pub fn without_defaulting(mut self) -> Self {
        self.default_policies = false;
        self
    }
}

fn container(name: &str, image: &str, policy: Option<&str>) -> Container {
    Container {
        name: name.into(),
        image: Some(image.into()),
        image_pull_policy: policy.map(String::from),
        ..Default::default()
    }
}

fn meta(namespace: Option<&str>, name: &str, uid: String) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.into()),
        namespace: namespace.map(String::from),
        uid: Some(uid),
        ..Default::default()
    }
}

fn owner(kind: &str, name: &str, uid: &str) -> OwnerReference {
    OwnerReference {
        api_version: if kind == "Deployment" || kind == "ReplicaSet" || kind == "StatefulSet" {
            "apps/v1".into()
        } else {
            "v1".into()
        },
        kind: kind.into(),
        name: name.into(),
        uid: uid.into(),
        controller: Some(true),
        ..Default::default()
    }
}

/// A Kind cluster under construction.
#[derive(Debug, Clone, Default)]
pub struct Cluster {
    snap: Snapshot,
    /// Deployment name → (namespace, newest RS name, RS uid, hash, template)
    rs: BTreeMap<String, (String, String, String, String, PodSpec)>,
    pods: usize,
}

impl Cluster {
    /// Context `kind-NAME`, no nodes yet.
    pub fn kind(name: &str) -> Self {
        Cluster {
            snap: Snapshot {
                context: format!("kind-{name}"),
                server: "https://127.0.0.1:6443".into(),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn add_node(mut self, name: &str, control_plane: bool, images: &[&str]) -> Self {
        let taints = control_plane.then(|| {
            vec![Taint {
                key: "node-role.kubernetes.io/control-plane".into(),
                effect: "NoSchedule".into(),
                ..Default::default()
            }]
        });
        let cluster = self.snap.context.trim_start_matches("kind-").to_string();
        self.snap.nodes.push(Arc::new(Node {
            metadata: meta(None, name, format!("uid-node-{name}")),
            spec: Some(NodeSpec {
                taints,
                provider_id: Some(format!("kind://docker/{cluster}/{name}")),
                ..Default::default()
            }),
            status: None,
        }));
        Arc::make_mut(&mut self.snap.node_images).insert(
            name.into(),
            NodeImages {
                node: name.into(),
                images: images
                    .iter()
                    .map(|n| NodeImage {
                        names: vec![(*n).into()],
                        id: None,
                        size_bytes: 10_000_000,
                        sources: ImageSources {
                            api: true,
                            runtime: true,
                        },
                    })
                    .collect(),
                api_capped: false,
                runtime: RuntimeListing::Ok {
                    runtime: "docker".into(),
                },
            },
        );
        self
    }

    /// A schedulable worker holding these images (names exactly as crictl reports them).
    pub fn worker(self, name: &str, images: &[&str]) -> Self {
        self.add_node(name, false, images)
    }

    /// A control-plane node, tainted NoSchedule as Kind does when there are workers.
    pub fn control_plane(self, name: &str, images: &[&str]) -> Self {
        self.add_node(name, true, images)
    }

    /// A real Node object (e.g. copied from a public cluster dump), with its image list taken
    /// from `Node.status.images` exactly as the API shows it.
    pub fn real_node(mut self, node: Node) -> Self {
        let images = Snapshot::api_node_images(&node);
        Arc::make_mut(&mut self.snap.node_images).insert(images.node.clone(), images);
        self.snap.nodes.push(Arc::new(node));
        self
    }

    /// Nodes run under podman (providerID `kind://podman/…`, runtime listing by podman).
    pub fn podman(mut self) -> Self {
        self.snap.nodes.for_each_mut(|n| {
            let n = Arc::make_mut(n);
            if let Some(s) = n.spec.as_mut() {
                s.provider_id = s
                    .provider_id
                    .as_ref()
                    .map(|p| p.replace("kind://docker/", "kind://podman/"));
            }
        });
        for ni in Arc::make_mut(&mut self.snap.node_images).values_mut() {
            ni.runtime = RuntimeListing::Ok {
                runtime: "podman".into(),
            };
        }
        self
    }

    /// The node's list comes from `Node.status.images` only and hit the kubelet's cap of 50.
    pub fn capped(mut self, node: &str) -> Self {
        if let Some(ni) = Arc::make_mut(&mut self.snap.node_images).get_mut(node) {
            ni.api_capped = true;
            ni.runtime = RuntimeListing::NotTried;
        }
        self
    }

    /// Add a Deployment and its newest ReplicaSet (revision 1), with the apiserver's defaulting.
    pub fn deploy(mut self, d: Deploy) -> Self {
        let mut containers = d.containers;
        let mut init = d.init;
        if d.default_policies {
            for c in containers.iter_mut().chain(init.iter_mut()) {
                if c.image_pull_policy.is_none() {
                    c.image_pull_policy =
                        Some(PullPolicy::default_for(c.image.as_deref().unwrap_or("")).to_string());
                }
            }
        }
        let spec = PodSpec {
            containers,
            init_containers: (!init.is_empty()).then_some(init),
            ..Default::default()
        };
        let dep_uid = format!("uid-deploy-{}-{}", d.namespace, d.name);
        let hash = format!("{:x}", 0x5f3a_u32 + self.rs.len() as u32);
        let rs_name = format!("{}-{hash}", d.name);
        let rs_uid = format!("uid-rs-{}-{rs_name}", d.namespace);
        let labels: BTreeMap<String, String> = [("app".to_string(), d.name.clone())].into();
        let mut rs_labels = labels.clone();
        rs_labels.insert("pod-template-hash".into(), hash.clone());
        let template = PodTemplateSpec {
            metadata: Some(ObjectMeta {
                labels: Some(labels.clone()),
                ..Default::default()
            }),
            spec: Some(spec.clone()),
        };
        self.snap.deployments.push(Arc::new(Deployment {
            metadata: meta(Some(&d.namespace), &d.name, dep_uid.clone()),
            spec: Some(DeploymentSpec {
                replicas: Some(d.replicas),
                selector: LabelSelector {
                    match_labels: Some(labels),
                    ..Default::default()
                },
                template: template.clone(),
                ..Default::default()
            }),
            status: None,
        }));
        let mut rs_meta = meta(Some(&d.namespace), &rs_name, rs_uid.clone());
        rs_meta.labels = Some(rs_labels.clone());
        rs_meta.owner_references = Some(vec![owner("Deployment", &d.name, &dep_uid)]);
        rs_meta.annotations = Some(
            [(
                "deployment.kubernetes.io/revision".to_string(),
                "1".to_string(),
            )]
            .into(),
        );
        self.snap.replicasets.push(Arc::new(ReplicaSet {
            metadata: rs_meta,
            spec: Some(ReplicaSetSpec {
                replicas: Some(d.replicas),
                selector: LabelSelector {
                    match_labels: Some(rs_labels),
                    ..Default::default()
                },
                template: Some(template),
                ..Default::default()
            }),
            status: None,
        }));
        self.rs
            .insert(d.name.clone(), (d.namespace, rs_name, rs_uid, hash, spec));
        self
    }

    /// A pod of Deployment `deployment` (its newest ReplicaSet) on `node` (None = unscheduled),
    /// with the given container fates. Returns the cluster; the pod is named `RS-xxxxN`.
    pub fn pod(self, deployment: &str, node: &str, fates: &[(&str, Fate)]) -> Self {
        self.pod_on(deployment, Some(node), fates)
    }

    pub fn pod_on(mut self, deployment: &str, node: Option<&str>, fates: &[(&str, Fate)]) -> Self {
        let Some((namespace, rs_name, rs_uid, hash, spec)) = self.rs.get(deployment).cloned()
        else {
            panic!("testkit: deploy {deployment} before adding its pods");
        };
        self.pods += 1;
        let name = format!("{rs_name}-p{:04}", self.pods);
        let mut m = meta(
            Some(&namespace),
            &name,
            format!("uid-pod-{namespace}-{name}"),
        );
        m.labels = Some([("pod-template-hash".to_string(), hash)].into());
        m.owner_references = Some(vec![owner("ReplicaSet", &rs_name, &rs_uid)]);
        let pod = make_pod(m, spec, node, fates);
        self.snap.pods.push(Arc::new(pod));
        self
    }

    /// A pod owned by another controller (`StatefulSet`, `DaemonSet`, `Job`) or, with
    /// `owner_kind` None, a bare pod.
    pub fn other_pod(
        mut self,
        namespace: &str,
        name: &str,
        owner_ref: Option<(&str, &str)>,
        containers: &[(&str, &str, Option<&str>)],
        node: Option<&str>,
        fates: &[(&str, Fate)],
    ) -> Self {
        let mut m = meta(Some(namespace), name, format!("uid-pod-{namespace}-{name}"));
        if let Some((kind, oname)) = owner_ref {
            m.owner_references = Some(vec![owner(kind, oname, &format!("uid-{kind}-{oname}"))]);
        }
        let spec = PodSpec {
            containers: containers
                .iter()
                .map(|(n, i, p)| {
                    let p = p.unwrap_or_else(|| PullPolicy::default_for(i).as_str());
                    container(n, i, Some(p))
                })
                .collect(),
            ..Default::default()
        };
        self.snap
            .pods
            .push(Arc::new(make_pod(m, spec, node, fates)));
        self
    }

    /// A kubelet event about `container` of pod `pod` (`IMAGE` is not substituted here).
    pub fn event(
        mut self,
        namespace: &str,
        pod: &str,
        container: &str,
        init: bool,
        reason: &str,
        message: &str,
    ) -> Self {
        let n = self.snap.events.len();
        let list = if init { "initContainers" } else { "containers" };
        self.snap.events.push(Arc::new(Event {
            metadata: meta(
                Some(namespace),
                &format!("{pod}.{n:x}"),
                format!("uid-ev-{n}"),
            ),
            involved_object: ObjectReference {
                kind: Some("Pod".into()),
                name: Some(pod.into()),
                namespace: Some(namespace.into()),
                field_path: Some(format!("spec.{list}{{{container}}}")),
                ..Default::default()
            },
            reason: Some(reason.into()),
            message: Some(message.into()),
            type_: Some("Warning".into()),
            ..Default::default()
        }));
        self
    }

    /// The name of the n-th pod added (1-based), for events and assertions.
    pub fn pod_name(&self, n: usize) -> String {
        self.snap
            .pods
            .nth(n - 1)
            .and_then(|p| p.metadata.name.clone())
            .unwrap_or_default()
    }

    pub fn build(self) -> Snapshot {
        self.snap
    }

    /// Mutable access for cases the builder does not cover.
    pub fn snapshot_mut(&mut self) -> &mut Snapshot {
        &mut self.snap
    }
}

fn make_pod(
    meta: ObjectMeta,
    mut spec: PodSpec,
    node: Option<&str>,
    fates: &[(&str, Fate)],
) -> Pod {
    spec.node_name = node.map(String::from);
    let image_of = |name: &str| {
        crate::k8s::container(&spec, name)
            .and_then(|c| c.image.clone())
            .unwrap_or_default()
    };
    let is_init =
        |name: &str| crate::k8s::find_container(&spec, name).is_some_and(|at| at.is_init());
    let mut statuses = Vec::new();
    let mut init_statuses = Vec::new();
    for (name, fate) in fates {
        let image = image_of(name);
        let state = match fate {
            Fate::Pending => continue,
            Fate::Running => ContainerState {
                running: Some(ContainerStateRunning::default()),
                ..Default::default()
            },
            Fate::Waiting { reason, message } => ContainerState {
                waiting: Some(ContainerStateWaiting {
                    reason: Some(reason.clone()),
                    message: Some(message.replace("IMAGE", &image)),
                }),
                ..Default::default()
            },
        };
        let st = ContainerStatus {
            name: (*name).into(),
            image: image.clone(),
            ready: matches!(fate, Fate::Running),
            state: Some(state),
            ..Default::default()
        };
        if is_init(name) {
            init_statuses.push(st);
        } else {
            statuses.push(st);
        }
    }
    Pod {
        metadata: meta,
        spec: Some(spec),
        status: Some(PodStatus {
            phase: Some("Pending".into()),
            container_statuses: (!statuses.is_empty()).then_some(statuses),
            init_container_statuses: (!init_statuses.is_empty()).then_some(init_statuses),
            ..Default::default()
        }),
    }
}

mod synthetic;
pub use synthetic::{Synthetic, synthetic};
