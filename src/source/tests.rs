use super::*;

/// The exact lines of the story (docs/troubleshooting.md): the manifest asked for the name
/// without `localhost/` because this Go line stripped it.
const SEED_GO: &str = r#"	fmt.Fprintln(writer, "\n📦 PHASE 4: Deploying Gateway (coverage-enabled)...")

	// Strip "localhost/" prefix from image name for Kubernetes manifest
	// After loading into Kind, images are available without the localhost/ prefix
	k8sImageName := strings.TrimPrefix(gatewayImageName, "localhost/")
"#;

fn finding(image: &str, suggested: &str) -> Finding {
    Finding {
        kind: crate::diagnose::FindingKind::RegistryPrefix,
        namespace: "default".into(),
        workload: "Deployment/gateway".into(),
        container: "gateway".into(),
        init_container: false,
        image: image.into(),
        suggested_image: Some(suggested.into()),
        suggested_pull_policy: None,
        candidates: vec![],
        nodes: vec![],
        pods: vec![],
        evidence: vec![],
        summary: String::new(),
        command: None,
        patch: None,
        plan: None,
        sources: vec![],
    }
}

fn seed_needles() -> Needles {
    needles_for([(
        "kubernaut/gateway:debug",
        Some("localhost/kubernaut/gateway:debug"),
    )])
}

#[test]
fn finds_the_seed_trim_prefix_in_go() {
    let hits = match_file(
        "test/infrastructure/gateway_e2e.go",
        SEED_GO,
        &seed_needles(),
    );
    let rewrites: Vec<_> = hits.iter().filter(|h| h.why == Why::Rewrite).collect();
    assert_eq!(rewrites.len(), 1, "{hits:?}");
    assert_eq!(rewrites[0].line, 5);
    assert_eq!(rewrites[0].column, 26);
    assert!(
        rewrites[0]
            .text
            .starts_with("k8sImageName := strings.TrimPrefix")
    );
    // The comments that mention the prefix are not rewrites.
    assert!(hits.iter().all(|h| h.line == 5));
}

#[test]
fn finds_rewrites_in_other_languages() {
    let cases = [
        ("a.py", r#"name = image.replace("localhost/", "")"#),
        ("a.py", r#"name = image.removeprefix('localhost/')"#),
        ("a.py", r#"name = re.sub(r"^localhost/", "", image)"#),
        (
            "a.rs",
            r#"let n = image.strip_prefix("localhost/").unwrap_or(&image);"#,
        ),
        ("a.rs", r#"let n = image.trim_start_matches("localhost/");"#),
        ("a.js", r#"const n = image.replace(/^localhost\//, '');"#),
        (
            "run.sh",
            r#"kubectl set image deploy/gw gw="${IMAGE#localhost/}""#,
        ),
        ("run.sh", r#"K8S_IMAGE=${IMAGE##localhost/}"#),
        ("run.sh", r#"echo "$IMAGE" | sed 's|localhost/||'"#),
        ("run.sh", r#"echo "$IMAGE" | sed -e 's/^localhost\///'"#),
        ("Makefile", r#"K8S_IMG := $(subst localhost/,,$(IMG))"#),
        ("a.go", r#"n := strings.Replace(img, "localhost/", "", 1)"#),
    ];
    for (path, line) in cases {
        let hits = match_file(path, line, &seed_needles());
        assert!(
            hits.iter()
                .any(|h| h.why == Why::Rewrite && h.prefix == Some(0)),
            "{path}: {line}: {hits:?}"
        );
    }
    // Adding the prefix, or only naming it, is no rewrite.
    for line in [
        r#"img := "localhost/" + name"#,
        r#"// images keep the localhost/ prefix"#,
        r#"strings.HasPrefix(img, "localhost/")"#,
    ] {
        let hits = match_file("a.go", line, &seed_needles());
        assert!(
            hits.iter().all(|h| h.why != Why::Rewrite),
            "{line}: {hits:?}"
        );
    }
}

#[test]
fn classifies_manifest_values_kustomize_and_literals() {
    let n = seed_needles();
    let manifest = "spec:\n  containers:\n    - name: gateway\n      image: kubernaut/gateway:debug # built by make\n";
    let hits = match_file("deploy/gateway.yaml", manifest, &n);
    assert_eq!(hits.len(), 1);
    assert_eq!(
        (hits[0].line, hits[0].column, hits[0].why),
        (4, 14, Why::ManifestField)
    );

    let values = "image:\n  repository: kubernaut/gateway\n  pullPolicy: Never\n  tag: \"debug\"\n";
    let hits = match_file("chart/values-e2e.yaml", values, &n);
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(
        (hits[0].line, hits[0].column, hits[0].why),
        (2, 15, Why::HelmValues)
    );
    // The same repository with another tag is not this image.
    let other = values.replace("\"debug\"", "v2");
    assert!(match_file("chart/values.yaml", &other, &n).is_empty());

    let kust = "images:\n  - name: kubernaut/gateway\n    newTag: debug\n";
    let hits = match_file("overlays/e2e/kustomization.yaml", kust, &n);
    assert_eq!(hits.len(), 1);
    assert_eq!((hits[0].line, hits[0].why), (2, Why::Kustomize));

    let code = "const img = \"kubernaut/gateway:debug\"\nother := \"kubernaut/gateway:\" + tag\n";
    let hits = match_file("e2e/suite_test.go", code, &n);
    assert_eq!(hits.len(), 2, "{hits:?}");
    assert!(hits.iter().all(|h| h.why == Why::CodeLiteral));
}

#[test]
fn a_longer_name_that_contains_the_image_is_not_it() {
    let n = seed_needles();
    for text in [
        "image: localhost/kubernaut/gateway:debug",
        "image: kubernaut/gateway:debug2",
        "image: kubernaut/gateway:debug-arm64",
        "image: myorg/kubernaut/gateway:debug",
    ] {
        let hits = match_file("a.yaml", text, &n);
        assert!(hits.is_empty(), "{text}: {hits:?}");
    }
}

#[test]
fn durable_edit_names_the_line_and_the_change() {
    let src = Source {
        path: "deploy/gw.yaml".into(),
        line: 4,
        column: 14,
        text: "image: kubernaut/gateway:debug".into(),
        why: Why::ManifestField.phrase().into(),
    };
    assert_eq!(
        durable_edit(
            &src,
            "kubernaut/gateway:debug",
            Some("localhost/kubernaut/gateway:debug")
        ),
        "deploy/gw.yaml:4: kubernaut/gateway:debug → localhost/kubernaut/gateway:debug"
    );
}

#[test]
fn walk_respects_gitignore_skips_binaries_and_attaches_sources() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let write = |p: &str, body: &[u8]| {
        let path = root.join(p);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, body).expect("write");
    };
    write("test/infrastructure/gateway_e2e.go", SEED_GO.as_bytes());
    write(
        "deploy/gw.yaml",
        b"spec:\n  template:\n    spec:\n      containers:\n        - image: kubernaut/gateway:debug\n",
    );
    write(".gitignore", b"out/\n");
    write("out/rendered.yaml", b"image: kubernaut/gateway:debug\n");
    write("bin/blob", b"\0\0image: kubernaut/gateway:debug\n");
    let mut findings = vec![finding(
        "kubernaut/gateway:debug",
        "localhost/kubernaut/gateway:debug",
    )];
    let outcome = attach_sources(&mut findings, root, Budget::default());
    assert!(outcome.complete);
    let got: Vec<(&str, u64, &str)> = findings[0]
        .sources
        .iter()
        .map(|s| (s.path.as_str(), s.line, s.why.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "test/infrastructure/gateway_e2e.go",
                5,
                "this rewrites the image name"
            ),
            ("deploy/gw.yaml", 5, "manifest image field"),
        ]
    );
}

#[test]
fn an_exhausted_budget_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("a.yaml"), "image: x:1\n").expect("write");
    let needles = needles_for([("x:1", None)]);
    let budget = Budget {
        time: std::time::Duration::ZERO,
        ..Budget::default()
    };
    let outcome = search(dir.path(), &needles, budget);
    assert!(!outcome.complete);
    assert!(
        outcome
            .note
            .as_deref()
            .is_some_and(|n| n.contains("stopped"))
    );
}

#[test]
fn escape_sequences_in_a_file_never_reach_the_terminal() {
    let line = "image: kubernaut/gateway:debug \u{1b}[2J\u{1b}]0;owned\u{7}";
    let hits = match_file("a.yaml", line, &seed_needles());
    assert_eq!(hits.len(), 1);
    assert!(
        hits[0].text.chars().all(|c| !c.is_control()),
        "{:?}",
        hits[0].text
    );
    let long = "x".repeat(500);
    assert_eq!(printable(&long).chars().count(), 201);
}
