//! What the apiserver's Service REST storage adds on create: a cluster IP from the service
//! CIDR (Kind's default `10.96.0.0/16`; `.1` is the `kubernetes` Service, `.10` kube-dns), with
//! `clusterIPs`, `ipFamilies` and `ipFamilyPolicy` (single-stack IPv4, as Kind is by default).

use std::collections::HashSet;
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};

use serde_json::{Value, json};

use super::super::resources::SERVICES;
use super::super::store::Store;

/// Give a new Service a free cluster IP unless it is headless (`None`), ExternalName, or has
/// one already (a client may ask for a specific IP).
pub(super) fn allocate_cluster_ip(store: &Store, obj: &mut Value) {
    let spec = &mut obj["spec"];
    if !spec.is_object() || spec["type"] == "ExternalName" {
        return;
    }
    let ip = match spec["clusterIP"].as_str().filter(|s| !s.is_empty()) {
        Some(ip) => ip.to_string(),
        None => {
            let (services, _) = store.list(&SERVICES, None);
            let used: HashSet<&str> = services
                .iter()
                .filter_map(|s| s["spec"]["clusterIP"].as_str())
                .collect();
            // The allocator picks at random; a hash of the name spreads as well and is stable.
            let seed = BuildHasherDefault::<DefaultHasher>::default()
                .hash_one(obj["metadata"]["name"].as_str().unwrap_or(""));
            let Some(ip) = (0..65_000u64)
                .map(|i| 11 + (seed.wrapping_add(i) % 65_000))
                .map(|n| format!("10.96.{}.{}", n / 256, n % 256))
                .find(|ip| !used.contains(ip.as_str()))
            else {
                return;
            };
            obj["spec"]["clusterIP"] = json!(ip);
            ip
        }
    };
    let spec = &mut obj["spec"];
    if ip != "None" && spec["clusterIPs"].is_null() {
        spec["clusterIPs"] = json!([ip]);
    }
    if spec["ipFamilies"].is_null() && ip != "None" {
        spec["ipFamilies"] = json!(["IPv4"]);
    }
    if spec["ipFamilyPolicy"].is_null() {
        spec["ipFamilyPolicy"] = json!("SingleStack");
    }
}
