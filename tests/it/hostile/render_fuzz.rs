//! The human and JSON renderers over arbitrary snapshots: no panic (a width past 65,535 used
//! to abort `diagnose`), nothing a terminal would act on, and JSON that parses back equal.

use std::sync::Arc;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Event, Pod};
use kindscope::commands::output::{
    Style, findings_table, render_finding, render_plan, render_report,
};
use kindscope::fix::{FixPlan, Target};
use kindscope::model::{ResourceState, Snapshot};
use proptest::prelude::*;
use serde_json::json;

/// Any text, short or (sometimes) past 65,535 characters, controls and bidi included.
fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => "\\PC{0,12}",
        4 => proptest::collection::vec(
            prop_oneof![
                Just('\x1b'), Just('\u{9b}'), Just('\u{202e}'), Just('\u{2066}'), Just('\0'),
                Just('\r'), Just('\n'), Just('\x7f'), Just('['), Just('m'), Just('a'), Just('1'),
            ],
            0..24
        )
        .prop_map(|c| c.into_iter().collect()),
        1 => (0usize..3).prop_map(|i| ["a", "\x1b", "é"][i].repeat(70_000)),
    ]
}

/// A snapshot of hostile pods, Deployments and events, as a cluster (or a bundle) may hold.
fn snapshot() -> impl Strategy<Value = Snapshot> {
    let workload = (
        hostile_text(),
        hostile_text(),
        hostile_text(),
        hostile_text(),
        hostile_text(),
    );
    (
        proptest::collection::vec(workload, 1..4),
        hostile_text(),
        hostile_text(),
    )
        .prop_map(|(workloads, context, reason)| {
            let mut snap = Snapshot {
                context,
                ..Snapshot::default()
            };
            for (i, (name, container, image, message, node)) in workloads.into_iter().enumerate() {
                let labels = json!({"app": format!("a{i}")});
                let deployment: Deployment = serde_json::from_value(json!({
                    "metadata": {"name": name, "namespace": "default", "uid": format!("u{i}"),
                        "labels": labels, "generation": 1},
                    "spec": {"selector": {"matchLabels": labels}, "template": {
                        "metadata": {"labels": labels},
                        "spec": {"containers": [{"name": container, "image": image,
                            "imagePullPolicy": "IfNotPresent"}]}}}
                }))
                .expect("deployment");
                let pod: Pod = serde_json::from_value(json!({
                    "metadata": {"name": format!("{name}-p"), "namespace": "default",
                        "labels": labels},
                    "spec": {"nodeName": node, "containers": [{"name": container, "image": image}]},
                    "status": {"phase": "Pending", "containerStatuses": [{"name": container,
                        "image": image, "imageID": "", "ready": false, "restartCount": 0,
                        "state": {"waiting": {"reason": "ErrImagePull", "message": message}}}]}
                }))
                .expect("pod");
                let event: Event = serde_json::from_value(json!({
                    "metadata": {"name": format!("e{i}"), "namespace": "default"},
                    "involvedObject": {"kind": "Pod", "namespace": "default",
                        "name": format!("{name}-p"), "fieldPath": format!("spec.containers{{{container}}}")},
                    "reason": "Failed", "type": "Warning", "message": message
                }))
                .expect("event");
                snap.deployments.push(Arc::new(deployment));
                snap.pods.push(Arc::new(pod));
                snap.events.push(Arc::new(event));
            }
            snap.resources
                .insert(kindscope::model::Resource::Events, ResourceState::Forbidden { reason });
            snap
        })
}

/// Only newlines, tabs and (with colour) kindscope's own `ESC [ digits m` may be raw.
fn assert_safe(text: &str, colour: bool) {
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if colour && rest.starts_with("\x1b[") {
            let code = &rest[2..];
            let len = code.find('m').expect("an SGR code ends in m");
            assert!(
                code[..len].chars().all(|c| c.is_ascii_digit() || c == ';'),
                "not a colour code: {:?}",
                &rest[..(len + 3).min(rest.len())]
            );
            rest = &code[len + 1..];
            continue;
        }
        assert!(
            c == '\n' || c == '\t' || !kindscope::sanitize::is_unsafe(c),
            "raw {c:?} in output"
        );
        rest = &rest[c.len_utf8()..];
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn renderers_never_panic_and_print_nothing_raw(snap in snapshot(), colour in any::<bool>()) {
        let report = kindscope::diagnose::report(&snap);
        let findings = report.findings.clone();
        let style = Style { color: colour };
        assert_safe(&render_report(&report, &snap, style), colour);
        assert_safe(&findings_table(&findings, style), colour);
        for (i, f) in findings.iter().enumerate() {
            assert_safe(&render_finding(i + 1, f, style), colour);
        }
        let json = kindscope::sanitize::json(serde_json::to_string_pretty(&report).expect("json"));
        assert_safe(&json, false);
        let back: serde_json::Value = serde_json::from_str(&json).expect("still JSON");
        prop_assert_eq!(back, serde_json::to_value(&report).expect("value"));
    }

    #[test]
    fn a_plan_of_hostile_text_prints_safely(
        parts in proptest::collection::vec(hostile_text(), 6),
        colour in any::<bool>(),
    ) {
        let plan = FixPlan {
            target: Target { kind: parts[0].clone().into(), namespace: parts[1].clone(), name: parts[2].clone() },
            container: parts[3].clone(),
            patch: json!([{"op": "replace", "path": "/x", "value": parts[4]}]),
            undo: json!([]),
            image_before: parts[4].clone(),
            image_after: parts[5].clone(),
            pull_policy_before: Some(parts[5].clone()),
            pull_policy_after: None,
        };
        assert_safe(&render_plan(&plan, Style { color: colour }), colour);
    }
}
