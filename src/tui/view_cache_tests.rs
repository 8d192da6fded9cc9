//! The incremental view equals the full build, over random sequences of cluster changes.

use std::sync::Arc;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{Event, Node, Pod};
use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::model::Snapshot;

const NAMESPACES: [&str; 3] = ["default", "team", "kube-system"];
const REASONS: [Option<&str>; 4] = [
    None,
    Some("ErrImagePull"),
    Some("ContainerCreating"),
    Some("ImagePullBackOff"),
];
// The last is one of Kind's base images, which folding hides unless a finding names it.
const IMAGES: [&str; 4] = [
    "nginx:1.27",
    "localhost/team/app:dev",
    "Bad Image",
    "registry.k8s.io/coredns/coredns:v1.11.1",
];
const FILTERS: [&str; 3] = ["", "p1", "err"];

#[derive(Debug, Clone)]
pub(crate) enum Op {
    Pod {
        ns: usize,
        name: u8,
        rs: Option<u8>,
        reason: usize,
        restarts: i32,
    },
    DeletePod {
        ns: usize,
        name: u8,
    },
    Rs {
        ns: usize,
        name: u8,
        deploy: Option<u8>,
    },
    DeleteRs {
        ns: usize,
        name: u8,
    },
    Deploy {
        ns: usize,
        name: u8,
        image: usize,
    },
    DeleteDeploy {
        ns: usize,
        name: u8,
    },
    Event {
        ns: usize,
        name: u8,
        pod: u8,
        about_pod: bool,
        time: u8,
    },
    DeleteEvent {
        ns: usize,
        name: u8,
    },
    /// The recorder saw an event again: `count` and `lastTimestamp` move, nothing else.
    Repeat {
        ns: usize,
        name: u8,
    },
    NodeImages(usize),
    Scope {
        namespace: Option<usize>,
        filter: usize,
        show_system: bool,
    },
    Select {
        ns: usize,
        name: u8,
    },
    /// A label on an existing pod (what an operator's `kubectl label` changes).
    Label {
        ns: usize,
        name: u8,
        value: u8,
    },
}

pub(crate) fn op() -> impl Strategy<Value = Op> {
    let ns = 0..NAMESPACES.len();
    prop_oneof![
        6 => (ns.clone(), 0u8..8, proptest::option::of(0u8..4), 0..REASONS.len(), 0..3i32)
            .prop_map(|(ns, name, rs, reason, restarts)| Op::Pod { ns, name, rs, reason, restarts }),
        2 => (ns.clone(), 0u8..8).prop_map(|(ns, name)| Op::DeletePod { ns, name }),
        2 => (ns.clone(), 0u8..4, proptest::option::of(0u8..3))
            .prop_map(|(ns, name, deploy)| Op::Rs { ns, name, deploy }),
        1 => (ns.clone(), 0u8..4).prop_map(|(ns, name)| Op::DeleteRs { ns, name }),
        2 => (ns.clone(), 0u8..3, 0..IMAGES.len())
            .prop_map(|(ns, name, image)| Op::Deploy { ns, name, image }),
        1 => (ns.clone(), 0u8..3).prop_map(|(ns, name)| Op::DeleteDeploy { ns, name }),
        4 => (ns.clone(), 0u8..10, 0u8..8, any::<bool>(), 0u8..5)
            .prop_map(|(ns, name, pod, about_pod, time)| Op::Event { ns, name, pod, about_pod, time }),
        1 => (ns.clone(), 0u8..10).prop_map(|(ns, name)| Op::DeleteEvent { ns, name }),
        3 => (ns.clone(), 0u8..10).prop_map(|(ns, name)| Op::Repeat { ns, name }),
        1 => (0usize..IMAGES.len()).prop_map(Op::NodeImages),
        1 => (proptest::option::of(ns.clone()), 0..FILTERS.len(), any::<bool>())
            .prop_map(|(namespace, filter, show_system)| Op::Scope { namespace, filter, show_system }),
        2 => (ns.clone(), 0u8..8).prop_map(|(ns, name)| Op::Select { ns, name }),
    ]
}

/// The world's objects as the feed keeps them: one persistent list per kind, so that each
/// snapshot shares its structure with the one before, as the feed's do.
struct Map<K>(ObjectList<K>);

impl<K> Default for Map<K> {
    fn default() -> Self {
        Map(ObjectList::new())
    }
}

impl<K: k8s_openapi::Metadata<Ty = k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta>>
    Map<K>
{
    /// `obj` is named `key` (every caller builds both from the same name).
    fn insert(&mut self, key: (String, String), obj: Arc<K>) {
        debug_assert_eq!(
            crate::object_list::names(&*obj),
            (key.0.as_str(), key.1.as_str())
        );
        self.0.insert(obj);
    }

    fn remove(&mut self, key: &(String, String)) {
        self.0.remove(&key.0, &key.1);
    }

    fn get(&self, key: &(String, String)) -> Option<&Arc<K>> {
        self.0.get(&key.0, &key.1)
    }
}

#[derive(Default)]
pub(crate) struct World {
    pods: Map<Pod>,
    replicasets: Map<ReplicaSet>,
    deployments: Map<Deployment>,
    events: Map<Event>,
    node: usize,
    namespace: Option<String>,
    filter: String,
    show_system: bool,
    selected: Option<(String, String)>,
}

fn from<K: serde::de::DeserializeOwned>(v: serde_json::Value) -> Arc<K> {
    Arc::new(serde_json::from_value(v).expect("valid object"))
}

fn key(ns: usize, name: String) -> (String, String) {
    (NAMESPACES[ns].to_string(), name)
}

fn rs_name(n: u8) -> String {
    // Named as the controller names them (`<deployment>-<hash>`), so the view's fallback for a
    // ReplicaSet missing from the snapshot finds a Deployment too.
    format!("d{}-{n}", n % 3)
}

impl World {
    pub(crate) fn apply(&mut self, op: Op) {
        match op {
            Op::Pod {
                ns,
                name,
                rs,
                reason,
                restarts,
            } => {
                let owner = rs.map(|r| {
                    json!([{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                    "name": rs_name(r), "uid": format!("u-{r}"), "controller": true}])
                });
                let state = match REASONS[reason] {
                    Some(r) => json!({"waiting": {"reason": r, "message": "m"}}),
                    None => json!({"running": {}}),
                };
                let name = format!("p{name}");
                self.pods.insert(
                    key(ns, name.clone()),
                    from(json!({
                        "metadata": {"name": name, "namespace": NAMESPACES[ns],
                            "ownerReferences": owner.unwrap_or(json!([]))},
                        "spec": {"nodeName": "w", "containers": [{"name": "app", "image": IMAGES[0]}]},
                        "status": {"phase": "Pending", "containerStatuses": [{"name": "app",
                            "image": IMAGES[0], "imageID": "", "ready": false,
                            "restartCount": restarts, "state": state}]}
                    })),
                );
            }
            Op::DeletePod { ns, name } => {
                self.pods.remove(&key(ns, format!("p{name}")));
            }
            Op::Rs { ns, name, deploy } => {
                let owner = deploy.map(|d| {
                    json!([{"apiVersion": "apps/v1", "kind": "Deployment",
                    "name": format!("d{d}"), "uid": format!("d-{d}"), "controller": true}])
                });
                self.replicasets.insert(
                    key(ns, rs_name(name)),
                    from(json!({
                        "metadata": {"name": rs_name(name), "namespace": NAMESPACES[ns],
                            "uid": format!("u-{name}"), "ownerReferences": owner.unwrap_or(json!([]))},
                        "spec": {"selector": {}}
                    })),
                );
            }
            Op::DeleteRs { ns, name } => {
                self.replicasets.remove(&key(ns, rs_name(name)));
            }
            Op::Deploy { ns, name, image } => {
                let name = format!("d{name}");
                self.deployments.insert(
                    key(ns, name.clone()),
                    from(json!({
                        "metadata": {"name": name, "namespace": NAMESPACES[ns], "uid": format!("{name}-uid")},
                        "spec": {"selector": {}, "replicas": 1, "template": {"spec": {"containers": [
                            {"name": "app", "image": IMAGES[image]}]}}}
                    })),
                );
            }
            Op::DeleteDeploy { ns, name } => {
                self.deployments.remove(&key(ns, format!("d{name}")));
            }
            Op::Event {
                ns,
                name,
                pod,
                about_pod,
                time,
            } => {
                let name = format!("e{name}");
                let mut e = json!({
                    "metadata": {"name": name, "namespace": NAMESPACES[ns]},
                    "involvedObject": {"kind": if about_pod { "Pod" } else { "Node" },
                        "name": format!("p{pod}"), "namespace": NAMESPACES[ns]},
                    "reason": "Failed", "message": format!("try {time}"), "type": "Warning",
                    "lastTimestamp": format!("2025-12-24T07:00:0{time}Z"), "count": 1
                });
                // Old recorders (and hand-made events) may leave firstTimestamp out: then the
                // last one is all there is to order by.
                if time % 2 == 0 {
                    e["firstTimestamp"] = json!(format!("2025-12-24T06:00:0{time}Z"));
                }
                self.events.insert(key(ns, name.clone()), from(e));
            }
            Op::DeleteEvent { ns, name } => {
                self.events.remove(&key(ns, format!("e{name}")));
            }
            Op::Repeat { ns, name } => {
                let k = key(ns, format!("e{name}"));
                if let Some(e) = self.events.get(&k) {
                    let mut e = Event::clone(e);
                    let count = e.count.unwrap_or(1) + 1;
                    e.count = Some(count);
                    let at = format!("2025-12-24T07:30:{:02}Z", count % 60);
                    e.last_timestamp = Some(serde_json::from_value(json!(at)).expect("time"));
                    self.events.insert(k, Arc::new(e));
                }
            }
            Op::NodeImages(n) => self.node = n,
            Op::Scope {
                namespace,
                filter,
                show_system,
            } => {
                self.namespace = namespace.map(|n| NAMESPACES[n].to_string());
                self.filter = FILTERS[filter].to_string();
                self.show_system = show_system;
            }
            Op::Select { ns, name } => self.selected = Some(key(ns, format!("p{name}"))),
            Op::Label { ns, name, value } => {
                let k = key(ns, format!("p{name}"));
                if let Some(p) = self.pods.get(&k) {
                    let mut p = Pod::clone(p);
                    p.metadata
                        .labels
                        .get_or_insert_default()
                        .insert("churn".into(), value.to_string());
                    self.pods.insert(k, Arc::new(p));
                }
            }
        }
    }

    pub(crate) fn snapshot(&mut self) -> Arc<Snapshot> {
        let images: Vec<serde_json::Value> = IMAGES[..=self.node]
            .iter()
            .map(|i| json!({"names": [i], "sizeBytes": 10}))
            .collect();
        let node: Arc<Node> =
            from(json!({"metadata": {"name": "w"}, "status": {"images": images}}));
        Arc::new(Snapshot {
            context: "kind-test".into(),
            node_images: Arc::new([("w".to_string(), Snapshot::api_node_images(&node))].into()),
            nodes: vec![node].into(),
            pods: self.pods.0.clone(),
            deployments: self.deployments.0.clone(),
            replicasets: self.replicasets.0.clone(),
            events: self.events.0.clone(),
            ..Snapshot::default()
        })
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn incremental_view_equals_the_full_build(steps in proptest::collection::vec(
        proptest::collection::vec(op(), 1..4), 1..30)) {
        let mut world = World::default();
        let mut cache = ViewCache::default();
        let mut view = View::default();
        for ops in steps {
            for op in ops {
                world.apply(op);
            }
            let snap = world.snapshot();
            let findings = crate::diagnose::diagnose(&snap);
            cache.update(
                &mut view,
                &snap,
                &findings,
                &world.namespace,
                &world.filter,
                world.show_system,
            );
            cache.show_events(&mut view, world.selected.clone());

            let mut want = view::build(
                &snap,
                &findings,
                &world.namespace,
                &world.filter,
                world.show_system,
            );
            if let Some(sel) = &world.selected
                && let Some(rows) = view::event_rows(&snap.events).remove(sel)
            {
                want.events.insert(sel.clone(), rows);
            }
            prop_assert_eq!(&view, &want);
        }
        prop_assert!(cache.updates > 0 || cache.full_builds > 0);
    }
}

#[test]
fn unchanged_objects_cost_nothing_and_changes_are_found() {
    let mut world = World::default();
    for i in 0..5 {
        world.apply(Op::Pod {
            ns: 0,
            name: i,
            rs: None,
            reason: 0,
            restarts: 0,
        });
    }
    let a = world.snapshot();
    let b = world.snapshot();
    assert!(a.pods.ptr_eq(&b.pods), "an unchanged list is shared");
    assert!(diff(&a.pods, &b.pods).is_empty());
    world.apply(Op::Pod {
        ns: 0,
        name: 2,
        rs: None,
        reason: 1,
        restarts: 0,
    });
    world.apply(Op::DeletePod { ns: 0, name: 4 });
    let c = world.snapshot();
    let changes = diff(&b.pods, &c.pods);
    let names: Vec<(Option<&str>, Option<&str>)> = changes
        .iter()
        .map(|c| {
            (
                c.old.as_ref().and_then(|p| p.metadata.name.as_deref()),
                c.new.as_ref().and_then(|p| p.metadata.name.as_deref()),
            )
        })
        .collect();
    assert_eq!(names, [(Some("p2"), Some("p2")), (Some("p4"), None)]);
    world.apply(Op::Pod {
        ns: 0,
        name: 1,
        rs: None,
        reason: 1,
        restarts: 0,
    });
    let d = world.snapshot();
    let changed: Vec<Option<String>> = diff(&c.pods, &d.pods)
        .iter()
        .map(|c| c.new.as_ref().and_then(|p| p.metadata.name.clone()))
        .collect();
    assert_eq!(changed, [Some("p1".to_string())]);
    assert!(
        c.events.ptr_eq(&d.events),
        "a list nothing touched is shared"
    );
}
