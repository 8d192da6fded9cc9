//! Enter: the full story of the selected row, in plain lines.

use crate::imageref::ImageRef;
use crate::k8s::PullPolicy;
use crate::tui::action::Pane;
use crate::tui::app::App;
use crate::tui::format;
use crate::tui::view::{NodeRow, WorkloadRow};

fn explain_image(lines: &mut Vec<String>, image: &str) {
    match ImageRef::parse(image) {
        Ok(r) => {
            // What containerd matches against the names it holds (tag dropped beside a digest).
            lines.push(format!("  containerd looks for: {}", r.lookup_name()));
            lines.push(format!(
                "  registry {}, repository {}, tag {}",
                r.domain,
                r.path,
                r.effective_tag().unwrap_or("(digest)")
            ));
        }
        Err(e) => lines.push(format!("  does not parse: {e}")),
    }
}

pub fn for_selection(app: &App) -> Option<(String, Vec<String>)> {
    let selected = app.pane(app.focus).selected;
    let mut lines = Vec::new();
    let title = match app.focus {
        Pane::Nodes => match app.view.nodes.get(selected)? {
            NodeRow::Node {
                name,
                images,
                source,
                maybe_incomplete,
                runtime_error,
                ..
            } => {
                lines.push(format!("{images} images, listed by: {source}"));
                if let Some(e) = runtime_error {
                    lines.push(format!("Runtime listing failed: {e}"));
                }
                if *maybe_incomplete {
                    lines.push(format!(
                        "Node.status.images holds {} entries, the kubelet's maximum (largest first): smaller images may be on the node but missing here.",
                        crate::NODE_STATUS_MAX_IMAGES
                    ));
                }
                format!("Node {name}")
            }
            NodeRow::Note { text } => {
                lines.push(text.clone());
                "Note".to_string()
            }
            NodeRow::Image {
                node,
                name,
                size_bytes,
                runtime,
                api,
                ..
            } => {
                lines.push(format!("On node {node}, {}", format::size(*size_bytes)));
                let src = match (runtime, api) {
                    (true, true) => "container runtime and Node.status.images",
                    (true, false) => "container runtime only",
                    _ => "Node.status.images only",
                };
                lines.push(format!("Seen in: {src}"));
                if let Some(img) = app
                    .snapshot
                    .node_images
                    .get(node)
                    .and_then(|l| l.images.iter().find(|i| i.names.contains(name)))
                {
                    lines.push("All names:".to_string());
                    lines.extend(img.names.iter().map(|n| format!("  {n}")));
                    if let Some(id) = &img.id {
                        lines.push(format!("ID: {id}"));
                    }
                }
                format!("Image {name}")
            }
        },
        Pane::Pods => {
            let pod = app.view.pods.get(selected)?;
            lines.push(format!("Phase: {}", pod.phase));
            if let Some(r) = &pod.reason {
                lines.push(format!("Waiting: {r}"));
            }
            lines.push(format!("Node: {}", pod.node));
            lines.push(format!("Restarts: {}", pod.restarts));
            if let Some(w) = &pod.workload {
                lines.push(format!("Owned by Deployment {}/{}", w.namespace, w.name));
            }
            if let Some(p) = app.snapshot.pods.iter().find(|p| {
                p.metadata.name.as_deref() == Some(&pod.name)
                    && p.metadata.namespace.as_deref() == Some(&pod.namespace)
            }) {
                let statuses = p.status.as_ref().into_iter().flat_map(|s| {
                    s.init_container_statuses
                        .iter()
                        .flatten()
                        .chain(s.container_statuses.iter().flatten())
                });
                for s in statuses {
                    lines.push(format!("Container {} ({})", s.name, s.image));
                    if let Some(w) = s.state.as_ref().and_then(|st| st.waiting.as_ref()) {
                        lines.push(format!(
                            "  waiting: {} {}",
                            w.reason.as_deref().unwrap_or(""),
                            w.message.as_deref().unwrap_or("")
                        ));
                    }
                }
            }
            format!("Pod {}/{}", pod.namespace, pod.name)
        }
        Pane::Workloads => match app.view.workloads.get(selected)? {
            WorkloadRow::Deployment {
                key,
                desired,
                ready,
                updated,
                available,
                findings,
                ..
            } => {
                lines.push(format!(
                    "Replicas: {desired} desired, {updated} updated, {ready} ready, {available} available"
                ));
                lines.push(format!("Findings: {findings}"));
                format!("Deployment {}/{}", key.namespace, key.name)
            }
            WorkloadRow::Container {
                key,
                name,
                init,
                image,
                policy,
                defaulted,
                finding,
            } => {
                lines.push(format!("Image: {image}"));
                explain_image(&mut lines, image);
                let default = PullPolicy::default_for(image).as_str();
                lines.push(format!(
                    "Pull policy: {}{}",
                    policy.as_deref().unwrap_or(default),
                    if *defaulted {
                        " (the apiserver default for this image)"
                    } else {
                        " (set explicitly)"
                    }
                ));
                if let Some(f) = finding.and_then(|i| app.view.findings.get(i)) {
                    lines.push(format!("Finding: {}", f.kind.as_str()));
                    if !f.summary.is_empty() {
                        lines.push(format!("  {}", f.summary));
                    }
                    lines.extend(f.evidence.iter().map(|e| format!("  {e}")));
                }
                format!(
                    "{} {name} of Deployment {}/{}",
                    if *init { "Init container" } else { "Container" },
                    key.namespace,
                    key.name
                )
            }
        },
    };
    Some((title, lines))
}
