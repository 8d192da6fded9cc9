use super::edit::{apply, edits_for, unified_diff};
use super::*;

const MULTI: &str = r#"# gateway, as the E2E suite deploys it
apiVersion: apps/v1
kind: Deployment
metadata:
  name: gateway
  namespace: e2e
spec:
  template:
    spec:
      initContainers:
        - name: wait-db
          image: 'busybox:1.36'   # pinned
      containers:
        - name: gateway
          image: kubernaut/gateway:debug # built by make
          imagePullPolicy: Never
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: report}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          nodeSelector: {tier: backend}
          containers:
            - {name: report, image: "localhost/report"}
"#;

#[test]
fn reads_workloads_containers_and_positions() {
    let p = parse(MULTI, "default").expect("parses");
    assert_eq!(p.workloads.len(), 2);
    assert_eq!(p.workloads[1].kind, "CronJob");
    assert_eq!(p.workloads[1].namespace, "default");
    assert_eq!(
        p.workloads[1]
            .spec
            .node_selector
            .as_ref()
            .and_then(|s| s.get("tier"))
            .map(String::as_str),
        Some("backend")
    );
    let gw = p
        .fields
        .iter()
        .find(|f| f.container == "gateway")
        .expect("gateway");
    assert_eq!(gw.workload, "Deployment/gateway");
    assert_eq!(gw.namespace, "e2e");
    let pos = gw.image_pos.expect("editable");
    assert_eq!((pos.line, pos.column), (15, 18));
    assert_eq!(&MULTI[pos.start..pos.end], "kubernaut/gateway:debug");
    let init = p.fields.iter().find(|f| f.init).expect("init");
    let ipos = init.image_pos.expect("editable");
    assert_eq!(&MULTI[ipos.start..ipos.end], "'busybox:1.36'");
    let report = p
        .fields
        .iter()
        .find(|f| f.container == "report")
        .expect("report");
    let rpos = report.image_pos.expect("editable");
    assert_eq!(&MULTI[rpos.start..rpos.end], "\"localhost/report\"");
}

#[test]
fn edits_touch_only_the_scalars() {
    let p = parse(MULTI, "default").expect("parses");
    let mut edits = Vec::new();
    for f in &p.fields {
        let (image, policy) = match f.container.as_str() {
            "gateway" => (Some("localhost/kubernaut/gateway:debug"), None),
            "wait-db" => (Some("busybox:1.37"), Some("IfNotPresent")),
            _ => (None, Some("IfNotPresent")),
        };
        edits.extend(edits_for(f, MULTI, image, policy).expect("editable"));
    }
    let out = apply(MULTI, &edits);
    let expected = MULTI
        .replace(
            "image: kubernaut/gateway:debug # built by make",
            "image: localhost/kubernaut/gateway:debug # built by make",
        )
        .replace(
            "          image: 'busybox:1.36'   # pinned\n",
            "          image: 'busybox:1.37'   # pinned\n          imagePullPolicy: IfNotPresent\n",
        )
        .replace(
            r#"image: "localhost/report"}"#,
            r#"image: "localhost/report", imagePullPolicy: IfNotPresent}"#,
        );
    assert_eq!(out, expected);
    // The result still parses and reads back the new values.
    let back = parse(&out, "default").expect("parses");
    let gw = back
        .fields
        .iter()
        .find(|f| f.container == "gateway")
        .expect("gateway");
    assert_eq!(gw.image, "localhost/kubernaut/gateway:debug");
    let diff = unified_diff("deploy/gw.yaml", MULTI, &out);
    assert!(
        diff.starts_with("--- a/deploy/gw.yaml\n+++ b/deploy/gw.yaml\n"),
        "{diff}"
    );
    assert!(diff.contains("-          image: kubernaut/gateway:debug # built by make\n"));
}

#[test]
fn json_and_lists() {
    let json = r#"{"apiVersion":"v1","kind":"List","items":[
  {"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},
   "spec":{"containers":[{"name":"c","image":"kubernaut/gateway:debug"}]}}]}"#;
    let p = parse(json, "default").expect("parses");
    assert_eq!(p.fields.len(), 1);
    let f = &p.fields[0];
    assert_eq!(f.workload, "Pod/p");
    let edits = edits_for(
        f,
        json,
        Some("localhost/kubernaut/gateway:debug"),
        Some("Never"),
    )
    .expect("editable");
    let out = apply(json, &edits);
    assert!(
        out.contains(r#""image":"localhost/kubernaut/gateway:debug", "imagePullPolicy": "Never"}"#),
        "{out}"
    );
    let v: serde_json::Value = serde_json::from_str(&out).expect("still JSON");
    assert_eq!(
        v["items"][0]["spec"]["containers"][0]["imagePullPolicy"],
        "Never"
    );
}

#[test]
fn aliases_are_not_edited_and_templates_are_recognised() {
    let text = "kind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: a\n      image: &img x:1\n    - name: b\n      image: *img\n";
    let p = parse(text, "default").expect("parses");
    assert!(p.fields.iter().all(|f| f.image_pos.is_none()));
    assert!(edits_for(&p.fields[0], text, Some("y:1"), None).is_err());
    assert!(is_templated("image: {{ .Values.image }}"));
    assert!(!is_templated(MULTI));
}
