//! Generates the schemas of the OpenAPI v3 documents the sim serves (`/openapi/v3/<gv>`), from
//! k8s-openapi's `schemars` implementations, into `$OUT_DIR/openapi_schemas.json`:
//! `{"api/v1": {<definition name>: <schema>, ...}, "apis/apps/v1": {...}, ...}`.
//!
//! Definition names are the apiserver's (`io.k8s.api.core.v1.Pod`), references are
//! `#/components/schemas/...`, a reference with a description beside it is wrapped in `allOf` as
//! kube-openapi writes it, every top-level kind carries `x-kubernetes-group-version-kind` and
//! does not require `metadata` (docs/sim.md, "OpenAPI v3"). `src/openapi.rs` adds the paths and serves the documents.

use std::collections::BTreeMap;

use k8s_openapi::api::{apps, authentication, authorization, autoscaling, batch, core};
use schemars::generate::{SchemaGenerator, SchemaSettings};
use serde_json::{Map, Value, json};

/// One group version's document in the making: its generator and its top-level kinds.
struct Gv {
    generator: SchemaGenerator,
    kinds: Vec<(String, Value)>,
}

impl Gv {
    fn new() -> Gv {
        let mut settings = SchemaSettings::openapi3();
        settings.meta_schema = None;
        Gv {
            generator: settings.into_generator(),
            kinds: Vec::new(),
        }
    }

    /// Add kind `T` with its GVK (`gvk` differs from `T`'s own only for Scale, a subresource of
    /// apps/v1 types whose schema lives in the apps/v1 document, as on a real apiserver).
    fn kind<T: schemars::JsonSchema + k8s_openapi::Resource>(mut self) -> Gv {
        self.generator.subschema_for::<T>();
        let gvk = json!([{"group": T::GROUP, "version": T::VERSION, "kind": T::KIND}]);
        self.kinds.push((T::schema_name().into_owned(), gvk));
        self
    }

    fn schemas(mut self) -> Map<String, Value> {
        let mut defs = self.generator.take_definitions(true);
        for (name, gvk) in self.kinds {
            if let Some(Value::Object(schema)) = defs.get_mut(&name) {
                schema.insert("x-kubernetes-group-version-kind".into(), gvk);
                // k8s-openapi lists `metadata` as required because its Rust field is not an
                // Option; the apiserver's schemas never require it.
                if let Some(Value::Array(required)) = schema.get_mut("required") {
                    required.retain(|f| f != "metadata");
                    if required.is_empty() {
                        schema.remove("required");
                    }
                }
            } else {
                panic!("no schema generated for {name}");
            }
        }
        defs
    }
}

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    let mut docs: BTreeMap<&str, Map<String, Value>> = BTreeMap::new();
    docs.insert(
        "api/v1",
        Gv::new()
            .kind::<core::v1::Namespace>()
            .kind::<core::v1::Node>()
            .kind::<core::v1::Pod>()
            .kind::<core::v1::Event>()
            .kind::<core::v1::Service>()
            .kind::<core::v1::ConfigMap>()
            .kind::<core::v1::Secret>()
            .kind::<core::v1::ServiceAccount>()
            .schemas(),
    );
    docs.insert(
        "apis/apps/v1",
        Gv::new()
            .kind::<apps::v1::Deployment>()
            .kind::<apps::v1::ReplicaSet>()
            .kind::<apps::v1::StatefulSet>()
            .kind::<apps::v1::DaemonSet>()
            .kind::<autoscaling::v1::Scale>()
            .schemas(),
    );
    docs.insert(
        "apis/batch/v1",
        Gv::new().kind::<batch::v1::Job>().schemas(),
    );
    docs.insert(
        "apis/authorization.k8s.io/v1",
        Gv::new()
            .kind::<authorization::v1::SelfSubjectAccessReview>()
            .kind::<authorization::v1::SelfSubjectRulesReview>()
            .schemas(),
    );
    docs.insert(
        "apis/authentication.k8s.io/v1",
        Gv::new()
            .kind::<authentication::v1::SelfSubjectReview>()
            .schemas(),
    );
    let out = std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR");
    let path = std::path::Path::new(&out).join("openapi_schemas.json");
    let bytes = serde_json::to_vec(&docs).expect("schemas serialise");
    std::fs::write(&path, bytes).expect("write the schemas into OUT_DIR");
}
