//! core/v1 Event objects written the way client-go's event recorder writes them: one object per
//! distinct (object, source, type, reason, message), named `<object>.<hex unix nanos>`; an
//! identical event later bumps `count` and `lastTimestamp` of the same object.
//!
//! The scheduler uses the newer events API, so its events carry `eventTime`,
//! `reportingComponent` and, when repeated, `series` instead of first/last timestamps and count.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Value, json};

use super::clock::{now_micro, now_rfc3339};
use super::store::{EVENTS, Store};

/// Who reports an event.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Source {
    /// `kubelet`, `deployment-controller`, `replicaset-controller`, `default-scheduler`.
    pub component: &'static str,
    /// The node, for the kubelet.
    pub host: Option<String>,
}

impl Source {
    pub fn kubelet(node: &str) -> Source {
        Source {
            component: "kubelet",
            host: Some(node.to_string()),
        }
    }
    pub fn controller(component: &'static str) -> Source {
        Source {
            component,
            host: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    field_path: String,
    source: Source,
    type_: String,
    reason: String,
    message: String,
}

/// Remembers which event object each distinct event went to, per involved object.
#[derive(Default)]
pub struct Recorder {
    by_object: HashMap<String, HashMap<Key, (String, String)>>,
    last_nanos: i64,
}

impl Recorder {
    pub fn new() -> Recorder {
        Recorder::default()
    }

    /// Forget the events of a deleted object (their Event objects stay, as in a real cluster).
    pub fn forget(&mut self, uid: &str) {
        self.by_object.remove(uid);
    }

    fn name_for(&mut self, object_name: &str) -> String {
        let now =
            i64::try_from(jiff::Timestamp::now().as_nanosecond()).unwrap_or(self.last_nanos + 1);
        self.last_nanos = now.max(self.last_nanos + 1);
        format!("{object_name}.{:x}", self.last_nanos)
    }

    /// Record an event with the classic recorder (kubelet and controllers).
    #[allow(clippy::too_many_arguments)]
    pub fn record(
        &mut self,
        store: &Store,
        involved: &Value,
        field_path: Option<&str>,
        source: &Source,
        type_: &str,
        reason: &str,
        message: &str,
    ) -> Option<Arc<Value>> {
        self.write(
            store, involved, field_path, source, type_, reason, message, None,
        )
    }

    /// Record an event the way the scheduler's events.k8s.io recorder does.
    #[allow(clippy::too_many_arguments)]
    pub fn record_new_style(
        &mut self,
        store: &Store,
        involved: &Value,
        source: &Source,
        type_: &str,
        reason: &str,
        action: &str,
        message: &str,
    ) -> Option<Arc<Value>> {
        self.write(
            store,
            involved,
            None,
            source,
            type_,
            reason,
            message,
            Some(action),
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn write(
        &mut self,
        store: &Store,
        involved: &Value,
        field_path: Option<&str>,
        source: &Source,
        type_: &str,
        reason: &str,
        message: &str,
        // Some(action) for the events.k8s.io style.
        action: Option<&str>,
    ) -> Option<Arc<Value>> {
        let new_style = action.is_some();
        let meta = &involved["metadata"];
        let uid = meta["uid"].as_str().unwrap_or("").to_string();
        let obj_name = meta["name"].as_str().unwrap_or("").to_string();
        let ns = match meta["namespace"].as_str() {
            Some(ns) if !ns.is_empty() => ns.to_string(),
            _ => "default".to_string(),
        };
        let key = Key {
            field_path: field_path.unwrap_or("").to_string(),
            source: source.clone(),
            type_: type_.to_string(),
            reason: reason.to_string(),
            message: message.to_string(),
        };
        if let Some((ens, ename)) = self.by_object.get(&uid).and_then(|m| m.get(&key)).cloned() {
            let bumped = store.modify(&EVENTS, &ens, &ename, None, |e| {
                if new_style {
                    let count = e["series"]["count"].as_i64().unwrap_or(1) + 1;
                    e["series"] = json!({"count": count, "lastObservedTime": now_micro()});
                } else {
                    let count = e["count"].as_i64().unwrap_or(1) + 1;
                    e["count"] = json!(count);
                    e["lastTimestamp"] = json!(now_rfc3339());
                }
                Ok(())
            });
            if let Ok(e) = bumped {
                return Some(e);
            }
            // Deleted by someone: start a new object, as the recorder does after a failed patch.
        }
        let mut involved_ref = json!({
            "kind": involved["kind"],
            "namespace": meta["namespace"],
            "name": obj_name,
            "uid": uid,
            "apiVersion": involved["apiVersion"],
            "resourceVersion": meta["resourceVersion"],
        });
        if meta["namespace"].is_null()
            && let Some(m) = involved_ref.as_object_mut()
        {
            m.remove("namespace");
        }
        if let Some(fp) = field_path {
            involved_ref["fieldPath"] = json!(fp);
        }
        let name = self.name_for(&obj_name);
        let event = if new_style {
            json!({
                "metadata": {"name": name, "namespace": ns},
                "involvedObject": involved_ref,
                "reason": reason,
                "message": message,
                "source": {},
                "firstTimestamp": null,
                "lastTimestamp": null,
                "type": type_,
                "eventTime": now_micro(),
                "reportingComponent": source.component,
                "reportingInstance": format!("{}-{}", source.component, source.host.as_deref().unwrap_or("")),
                "action": action,
            })
        } else {
            let now = now_rfc3339();
            let mut src = json!({"component": source.component});
            if let Some(h) = &source.host {
                src["host"] = json!(h);
            }
            json!({
                "metadata": {"name": name, "namespace": ns},
                "involvedObject": involved_ref,
                "reason": reason,
                "message": message,
                "source": src,
                "firstTimestamp": now,
                "lastTimestamp": now,
                "count": 1,
                "type": type_,
                "eventTime": null,
                "reportingComponent": source.component,
                "reportingInstance": source.host.as_deref().unwrap_or(""),
            })
        };
        let created = store.create(&EVENTS, event).ok()?;
        self.by_object
            .entry(uid)
            .or_default()
            .insert(key, (ns, name));
        Some(created)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{NAMESPACES, PODS};

    #[test]
    fn repeated_event_bumps_count_on_the_same_object() {
        let store = Store::new(0);
        store
            .create(&NAMESPACES, json!({"metadata": {"name": "default"}}))
            .expect("ns");
        let pod = store
            .create(
                &PODS,
                json!({"metadata": {"name": "web-1", "namespace": "default"}, "spec": {}}),
            )
            .expect("pod");
        let mut r = Recorder::new();
        let src = Source::kubelet("w");
        let a = r
            .record(
                &store,
                &pod,
                Some("spec.containers{web}"),
                &src,
                "Warning",
                "Failed",
                "Error: ErrImageNeverPull",
            )
            .expect("event");
        let name = a["metadata"]["name"].as_str().expect("name").to_string();
        let (prefix, hex) = name.split_once('.').expect("dot");
        assert_eq!(prefix, "web-1");
        assert_eq!(hex.len(), 16, "{name}");
        assert!(hex.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(a["involvedObject"]["fieldPath"], "spec.containers{web}");
        assert_eq!(a["involvedObject"]["uid"], pod["metadata"]["uid"]);
        assert_eq!(a["involvedObject"]["kind"], "Pod");
        assert_eq!(a["source"], json!({"component": "kubelet", "host": "w"}));
        let b = r
            .record(
                &store,
                &pod,
                Some("spec.containers{web}"),
                &src,
                "Warning",
                "Failed",
                "Error: ErrImageNeverPull",
            )
            .expect("event");
        assert_eq!(b["metadata"]["name"], a["metadata"]["name"]);
        assert_eq!(b["count"], 2);
        let c = r
            .record(
                &store,
                &pod,
                Some("spec.containers{web}"),
                &src,
                "Warning",
                "Failed",
                "other",
            )
            .expect("event");
        assert_ne!(c["metadata"]["name"], a["metadata"]["name"]);
        let (events, _) = store.list(&EVENTS, Some("default"));
        assert_eq!(events.len(), 2);
        let s = r
            .record_new_style(
                &store,
                &pod,
                &Source::controller("default-scheduler"),
                "Warning",
                "FailedScheduling",
                "Scheduling",
                "no",
            )
            .expect("event");
        assert!(s["firstTimestamp"].is_null() && s["eventTime"].is_string());
        assert_eq!(s["action"], "Scheduling");
        let s2 = r
            .record_new_style(
                &store,
                &pod,
                &Source::controller("default-scheduler"),
                "Warning",
                "FailedScheduling",
                "Scheduling",
                "no",
            )
            .expect("event");
        assert_eq!(s2["series"]["count"], 2);
    }
}
