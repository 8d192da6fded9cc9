use super::*;

fn parsed(d: &Document) -> Value {
    serde_json::from_slice(&d.bytes).expect("a served document is JSON")
}

fn schemas(doc: &Value) -> &Map<String, Value> {
    doc["components"]["schemas"]
        .as_object()
        .expect("components.schemas")
}

fn has_gvk(schema: &Value, gvk: &Value) -> bool {
    schema["x-kubernetes-group-version-kind"]
        .as_array()
        .is_some_and(|l| l.contains(gvk))
}

#[test]
fn every_served_kind_has_its_schema_and_an_operation_with_its_gvk() {
    for r in RESOURCES {
        let path = gv_path(r.group, r.version);
        let d = document(&path).unwrap_or_else(|| panic!("no document for {path}"));
        let doc = parsed(d);
        let gvk = json!({"group": r.group, "version": r.version, "kind": r.kind});
        let found: Vec<&String> = schemas(&doc)
            .iter()
            .filter(|(_, s)| has_gvk(s, &gvk))
            .map(|(name, _)| name)
            .collect();
        assert_eq!(
            found.len(),
            1,
            "{}: schemas with its GVK: {found:?}",
            r.kind
        );
        // The apiserver's definition name: io.k8s.api.<group prefix>.<version>.<Kind>.
        let group = if r.group.is_empty() { "core" } else { r.group };
        let name = format!("io.k8s.api.{group}.{}.{}", r.version, r.kind);
        assert_eq!(found[0], &name);
        let ops = doc["paths"].as_object().expect("paths");
        assert!(
            ops.values()
                .any(|p| p["patch"]["x-kubernetes-group-version-kind"] == gvk),
            "{}: no operation names its GVK",
            r.kind
        );
        let schema = &schemas(&doc)[&name];
        assert!(
            schema["properties"]["metadata"].is_object(),
            "{name} has metadata"
        );
        // As on a real apiserver (k8s-openapi's own schemas say it is required).
        let required = schema["required"].as_array().cloned().unwrap_or_default();
        assert!(
            !required.contains(&json!("metadata")),
            "{name}: {required:?}"
        );
    }
    // Scale, the apps/v1 types' subresource, is described in the apps/v1 document.
    let apps = parsed(document("apis/apps/v1").expect("apps/v1"));
    let scale = &schemas(&apps)["io.k8s.api.autoscaling.v1.Scale"];
    let gvk = json!({"group": "autoscaling", "version": "v1", "kind": "Scale"});
    assert!(has_gvk(scale, &gvk));
}

fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref") {
                out.push(r);
            }
            m.values().for_each(|v| refs(v, out));
        }
        Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[test]
fn every_reference_resolves_in_its_own_document() {
    assert!(documents().len() >= 5, "documents: {:?}", documents().len());
    for d in documents() {
        let doc = parsed(d);
        let mut found = Vec::new();
        refs(&doc, &mut found);
        assert!(!found.is_empty(), "{}: no references", d.path);
        for r in found {
            let name = r
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("{}: reference {r} is not to components", d.path));
            assert!(schemas(&doc).contains_key(name), "{}: {r} dangles", d.path);
        }
    }
}

#[test]
fn a_reference_with_a_description_is_wrapped_in_all_of_as_kube_openapi_writes_it() {
    let doc = parsed(document("api/v1").expect("api/v1"));
    let pod = &schemas(&doc)["io.k8s.api.core.v1.Pod"];
    assert!(
        pod["description"]
            .as_str()
            .is_some_and(|d| d.starts_with("Pod is a collection of containers"))
    );
    let spec = &pod["properties"]["spec"];
    assert_eq!(
        spec["allOf"],
        json!([{"$ref": "#/components/schemas/io.k8s.api.core.v1.PodSpec"}])
    );
    assert!(spec["description"].is_string());
    assert!(spec.get("$ref").is_none());
    let containers = &schemas(&doc)["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"];
    assert_eq!(containers["type"], "array");
    assert_eq!(
        schemas(&doc)["io.k8s.api.core.v1.PodSpec"]["required"],
        json!(["containers"])
    );
}

#[test]
fn the_root_lists_each_document_under_its_hash() {
    let root = root();
    for d in documents() {
        let url = root["paths"][&d.path]["serverRelativeURL"]
            .as_str()
            .unwrap_or_else(|| panic!("{} not in the root", d.path));
        let digest: String = Sha512::digest(&d.bytes)
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect();
        assert_eq!(url, format!("/openapi/v3/{}?hash={digest}", d.path));
        assert_eq!(d.hash.len(), 128);
    }
    assert!(document("apis/policy/v1").is_none());
}

#[test]
fn unknown_fields_are_named_as_the_strict_decoder_names_them() {
    use crate::resources::{DEPLOYMENTS, PODS};
    let mut typo = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}, "managedFields": [
            {"manager": "kubectl", "fieldsV1": {"f:spec": {"f:replicas": {}}}}]},
        "spec": {"replica": 2, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
                     {"name": "web", "image": "nginx"},
                     {"name": "b", "image": "nginx", "imagePullPolcy": "Always",
                      "resources": {"limits": {"cpu": "1"}},
                      "ports": [{"containerPort": 80, "protocl": "TCP"}]}]}}},
        "status": {"replicas": 1},
    });
    assert_eq!(
        drop_unknown_fields(&DEPLOYMENTS, &mut typo),
        vec![
            "spec.replica",
            "spec.template.spec.containers[1].imagePullPolcy",
            "spec.template.spec.containers[1].ports[0].protocl",
        ]
    );
    // Dropped, as the decoder drops them; the known ones stay.
    assert!(typo["spec"].get("replica").is_none());
    let b = &typo["spec"]["template"]["spec"]["containers"][1];
    assert_eq!(
        b,
        &json!({"name": "b", "image": "nginx",
        "resources": {"limits": {"cpu": "1"}}, "ports": [{"containerPort": 80}]})
    );
    assert_eq!(
        typo["metadata"]["managedFields"][0]["fieldsV1"]["f:spec"],
        json!({"f:replicas": {}})
    );
    // Maps, quantities, int-or-strings and FieldsV1 have no fixed fields.
    let mut pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "c", "image": "i",
            "readinessProbe": {"httpGet": {"port": "http"}}}]}});
    assert!(drop_unknown_fields(&PODS, &mut pod).is_empty());
}
