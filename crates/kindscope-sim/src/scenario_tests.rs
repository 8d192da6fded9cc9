use super::*;

const HEAD: &str = "kind: Scenario\nname: demo\nnodes:\n  - {name: demo-control-plane, role: control-plane}\n  - {name: demo-worker, role: worker, images: [localhost/app:dev]}\n";

fn invalid(text: &str) -> (Option<usize>, Option<usize>, String) {
    match parse(text, "s.yaml") {
        Err(ScenarioError::Invalid {
            origin,
            document,
            line,
            message,
        }) => {
            assert_eq!(origin, "s.yaml");
            (document, line, message)
        }
        other => panic!("expected an Invalid error, got {other:?}"),
    }
}

#[test]
fn embedded_default_is_the_seed_story() {
    let s = embedded_default();
    assert_eq!(s.name, "gateway-debug");
    assert_eq!(s.provider, Provider::Podman);
    assert_eq!(s.nodes.len(), 2);
    assert_eq!(
        s.nodes[1].images[0].names,
        ["localhost/kubernaut/datastorage:debug"]
    );
    let names: Vec<&str> = s.manifests.iter().map(Manifest::name).collect();
    assert!(
        names.contains(&"datastorage") && names.contains(&"gateway"),
        "{names:?}"
    );
    assert!(s.manifests.iter().all(|m| m.document >= 2 && m.line > 1));
}

#[test]
fn every_shipped_scenario_parses() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/scenarios");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("assets/scenarios") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let s = load_file(&path).unwrap_or_else(|e| panic!("{e}"));
            assert!(!s.manifests.is_empty(), "{}", path.display());
            n += 1;
        }
    }
    assert!(n >= 8, "expected a scenario per finding kind, found {n}");
}

#[test]
fn manifests_get_default_namespace_and_locations() {
    let text = format!(
        "{HEAD}---\n# a comment\napiVersion: v1\nkind: Namespace\nmetadata: {{name: team}}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web}}\nspec: {{}}\n"
    );
    let s = parse(&text, "x").expect("valid");
    assert_eq!(s.manifests.len(), 2);
    assert_eq!(s.manifests[1].namespace(), "default");
    assert_eq!((s.manifests[1].document, s.manifests[1].line), (3, 11));
    assert_eq!(s.kubernetes_version, DEFAULT_KUBERNETES_VERSION);
    assert_eq!(s.provider, Provider::Docker);
}

#[test]
fn bad_yaml_names_file_document_and_line() {
    let text = format!("{HEAD}---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: [unclosed\n");
    let (doc, line, msg) = invalid(&text);
    assert_eq!(doc, Some(2));
    assert!(line.is_some_and(|l| l >= 8), "line {line:?}");
    assert!(msg.contains("unclosed"), "{msg}");
    let shown = parse(&text, "s.yaml").expect_err("bad").to_string();
    assert!(
        shown.starts_with("scenario s.yaml, document 2 (line "),
        "{shown}"
    );
}

#[test]
fn unknown_kind_is_refused() {
    let text = format!("{HEAD}---\napiVersion: batch/v1\nkind: CronJob\nmetadata: {{name: c}}\n");
    let (doc, line, msg) = invalid(&text);
    assert_eq!((doc, line), (Some(2), Some(6)));
    assert!(msg.contains("unknown kind `CronJob`"), "{msg}");
}

#[test]
fn missing_name_is_refused() {
    let text = format!("{HEAD}---\napiVersion: v1\nkind: Pod\nmetadata: {{namespace: default}}\n");
    let (doc, _, msg) = invalid(&text);
    assert_eq!(doc, Some(2));
    assert!(msg.contains("metadata.name"), "{msg}");
}

#[test]
fn scenario_document_errors() {
    let (doc, _, msg) = invalid("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n");
    assert_eq!(doc, Some(1));
    assert!(
        msg.contains("first document must be the `kind: Scenario`"),
        "{msg}"
    );
    let (_, line, msg) = invalid("kind: Scenario\nname: x\nnodez: []\n");
    assert!(msg.contains("nodez"), "{msg}");
    assert_eq!(line, Some(3));
    let (_, _, msg) = invalid("kind: Scenario\nname: x\nnodes:\n  - {name: w, role: worker}\n");
    assert!(msg.contains("control-plane"), "{msg}");
    let (_, _, msg) = invalid("kind: Scenario\nname: Bad_Name\n");
    assert!(msg.contains("Bad_Name"), "{msg}");
    let (_, _, msg) = invalid(
        "kind: Scenario\nname: x\nnodes:\n  - {name: x-control-plane, role: control-plane, images: [\"Upper/Case\"]}\n",
    );
    assert!(
        msg.contains("Upper/Case") && msg.contains("x-control-plane"),
        "{msg}"
    );
    let (_, _, msg) = invalid("");
    assert!(msg.contains("empty"), "{msg}");
}

#[test]
fn undeclared_namespace_and_duplicates_are_refused() {
    let text =
        format!("{HEAD}---\napiVersion: v1\nkind: Pod\nmetadata: {{name: p, namespace: nope}}\n");
    let (_, _, msg) = invalid(&text);
    assert!(msg.contains("namespace `nope`"), "{msg}");
    let pod = "---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\n";
    let (doc, _, msg) = invalid(&format!("{HEAD}{pod}{pod}"));
    assert_eq!(doc, Some(3));
    assert!(msg.contains("defined twice"), "{msg}");
}

#[test]
fn missing_file_is_a_read_error() {
    let e = load_file(Path::new("/nonexistent/s.yaml")).expect_err("missing");
    assert!(matches!(e, ScenarioError::Read { .. }));
    assert!(e.to_string().contains("/nonexistent/s.yaml"));
}
