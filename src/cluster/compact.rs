//! Trim watched objects before they are kept for the life of the feed.
//!
//! serde grows a `Vec` by doubling, so a freshly decoded pod keeps room for four containers,
//! four container statuses and eight conditions it will never have. At 5,000 pods that slack
//! was ~40 MB, a quarter of `diagnose`'s peak memory (docs/performance.md). managedFields are
//! large and never shown, so they go too.

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{Container, Event, Node, Pod, PodSpec, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// An object that can drop what kindscope never reads and give back spare capacity.
pub trait Compact {
    fn compact(&mut self);
}

fn shrink<T>(v: &mut Option<Vec<T>>) {
    if let Some(v) = v {
        v.shrink_to_fit();
    }
}

fn meta(m: &mut ObjectMeta) {
    m.managed_fields = None;
    shrink(&mut m.owner_references);
    shrink(&mut m.finalizers);
}

fn container(c: &mut Container) {
    shrink(&mut c.ports);
    shrink(&mut c.env);
    shrink(&mut c.args);
    shrink(&mut c.command);
    shrink(&mut c.volume_mounts);
}

fn pod_spec(s: &mut PodSpec) {
    s.containers.iter_mut().for_each(container);
    s.containers.shrink_to_fit();
    if let Some(init) = &mut s.init_containers {
        init.iter_mut().for_each(container);
        init.shrink_to_fit();
    }
    shrink(&mut s.tolerations);
    shrink(&mut s.volumes);
    shrink(&mut s.image_pull_secrets);
}

fn template(t: &mut PodTemplateSpec) {
    if let Some(m) = &mut t.metadata {
        meta(m);
    }
    if let Some(s) = &mut t.spec {
        pod_spec(s);
    }
}

impl Compact for Pod {
    fn compact(&mut self) {
        meta(&mut self.metadata);
        if let Some(s) = &mut self.spec {
            pod_spec(s);
        }
        if let Some(s) = &mut self.status {
            shrink(&mut s.conditions);
            shrink(&mut s.container_statuses);
            shrink(&mut s.init_container_statuses);
            shrink(&mut s.pod_ips);
            shrink(&mut s.host_ips);
        }
    }
}

impl Compact for Deployment {
    fn compact(&mut self) {
        meta(&mut self.metadata);
        if let Some(s) = &mut self.spec {
            template(&mut s.template);
        }
        if let Some(s) = &mut self.status {
            shrink(&mut s.conditions);
        }
    }
}

impl Compact for ReplicaSet {
    fn compact(&mut self) {
        meta(&mut self.metadata);
        if let Some(t) = self.spec.as_mut().and_then(|s| s.template.as_mut()) {
            template(t);
        }
        if let Some(s) = &mut self.status {
            shrink(&mut s.conditions);
        }
    }
}

impl Compact for Node {
    fn compact(&mut self) {
        meta(&mut self.metadata);
        if let Some(s) = &mut self.status {
            if let Some(images) = &mut s.images {
                for i in images.iter_mut() {
                    shrink(&mut i.names);
                }
                images.shrink_to_fit();
            }
            shrink(&mut s.conditions);
            shrink(&mut s.addresses);
        }
    }
}

impl Compact for Event {
    fn compact(&mut self) {
        meta(&mut self.metadata);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compacting_keeps_every_value_and_drops_managed_fields() {
        let text = r#"{"metadata":{"name":"p","managedFields":[{"manager":"kubectl"}]},
            "spec":{"containers":[{"name":"c","image":"x","ports":[{"containerPort":80}]}]},
            "status":{"conditions":[{"type":"Ready","status":"True"}],
                      "containerStatuses":[{"name":"c","image":"x","imageID":"","ready":true,"restartCount":0}]}}"#;
        let mut pod: Pod = serde_json::from_str(text).expect("pod");
        let mut expected = pod.clone();
        expected.metadata.managed_fields = None;
        pod.compact();
        assert_eq!(pod, expected);
        let spec = pod.spec.as_ref().expect("spec");
        assert_eq!(spec.containers.capacity(), 1);
        let status = pod.status.as_ref().expect("status");
        assert_eq!(status.conditions.as_ref().map(Vec::capacity), Some(1));
    }
}
