//! `kubectl describe pod` text (its Events table) → the Pod and Events it describes, so recorded
//! text can be served as objects. What the text does not carry comes from the fixture's `# `
//! annotation lines (tests/fixtures/realworld/SOURCES.md says what each adds); nothing is guessed.

use serde_json::{Value, json};

/// The objects a describe fixture stands for.
pub struct Described {
    pub pod: Value,
    pub events: Vec<Value>,
    /// The node named by the `Scheduled` event, if recorded.
    pub node: Option<String>,
}

pub fn parse(text: &str) -> Described {
    let note = |key: &str| {
        text.lines()
            .filter_map(|l| l.strip_prefix("# "))
            .filter_map(|l| l.strip_prefix(key))
            .filter_map(|l| l.strip_prefix(": "))
            .next_back()
            .map(str::trim)
    };
    let (namespace, name) = note("pod")
        .and_then(|p| p.split_once('/'))
        .expect("a describe fixture names its pod (# pod: NS/NAME)");
    let container = note("container").expect("# container: annotation");
    let waiting = note("waiting").expect("# waiting: annotation");
    let rows = event_rows(text);
    let node = rows.iter().find(|r| r.reason == "Scheduled").and_then(|r| {
        r.message
            .rsplit_once(" to ")
            .map(|(_, n)| n.trim().to_string())
    });
    let image = rows
        .iter()
        .find_map(|r| quoted_after(&r.message, "Pulling image "))
        .expect("a Pulling event names the image");
    let failed = rows
        .iter()
        .filter(|r| r.reason == "Failed")
        .find_map(|r| r.message.split_once("\": ").map(|(_, e)| e.to_string()));
    let message = match waiting {
        // The kubelet's own wordings (pkg/kubelet/images/image_manager.go).
        "ImagePullBackOff" => format!("Back-off pulling image \"{image}\""),
        _ => failed.clone().unwrap_or_default(),
    };
    let mut pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "uid": format!("uid-{name}")},
        "spec": {"containers": [{"name": container, "image": image, "imagePullPolicy": default_policy(&image)}]},
        "status": {"phase": "Pending", "containerStatuses": [{
            "name": container, "image": image, "imageID": "", "ready": false, "restartCount": 0,
            "state": {"waiting": {"reason": waiting, "message": message}}}]}
    });
    if let Some(n) = &node {
        pod["spec"]["nodeName"] = json!(n);
    }
    if let Some((kind, owner)) = note("owner").and_then(|o| o.split_once('/')) {
        let api = if kind == "Job" { "batch/v1" } else { "apps/v1" };
        pod["metadata"]["ownerReferences"] = json!([{"apiVersion": api, "kind": kind, "name": owner, "uid": format!("uid-{owner}"), "controller": true}]);
    }
    let events = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let kubelet = r.from == "kubelet";
            let mut involved = json!({"kind": "Pod", "namespace": namespace, "name": name, "uid": format!("uid-{name}")});
            if kubelet {
                involved["fieldPath"] = json!(format!("spec.containers{{{container}}}"));
            }
            json!({"apiVersion": "v1", "kind": "Event",
                "metadata": {"name": format!("{name}.{i:04}"), "namespace": namespace},
                "involvedObject": involved, "reason": r.reason, "message": r.message, "type": r.kind,
                "count": r.count, "source": {"component": r.from}})
        })
        .collect();
    Described { pod, events, node }
}

/// The apiserver's default for an unset `imagePullPolicy`: `Always` for a `:latest` or untagged
/// image, else `IfNotPresent` (k8s `SetDefaults_Container`).
fn default_policy(image: &str) -> &'static str {
    let name = image.split('@').next().unwrap_or(image);
    let last = name.rsplit('/').next().unwrap_or(name);
    match last.split_once(':') {
        Some((_, tag)) if tag != "latest" => "IfNotPresent",
        None if image.contains('@') => "IfNotPresent",
        _ => "Always",
    }
}

struct Row {
    kind: String,
    reason: String,
    from: String,
    message: String,
    count: u32,
}

/// The rows of the Events table, cut at the header's column positions.
fn event_rows(text: &str) -> Vec<Row> {
    let mut lines = text
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("Type "));
    let Some(header) = lines.next() else {
        return Vec::new();
    };
    let col = |name: &str| header.find(name).expect("Events header column");
    let (reason_at, age_at, from_at, msg_at) =
        (col("Reason"), col("Age"), col("From"), col("Message"));
    lines
        .filter(|l| !l.trim_start().starts_with("----") && l.len() > msg_at)
        .map(|l| {
            let cut = |a: usize, b: usize| l.get(a..b).unwrap_or("").trim().to_string();
            let age = cut(age_at, from_at);
            let count = age
                .split_once("(x")
                .and_then(|(_, r)| r.split_whitespace().next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(1);
            Row {
                kind: cut(0, reason_at),
                reason: cut(reason_at, age_at),
                from: cut(from_at, msg_at),
                message: l.get(msg_at..).unwrap_or("").trim().to_string(),
                count,
            }
        })
        .collect()
}

fn quoted_after(s: &str, prefix: &str) -> Option<String> {
    let rest = s.strip_prefix(prefix)?.strip_prefix('"')?;
    rest.split_once('"').map(|(q, _)| q.to_string())
}

/// Full `kubectl describe pod` blocks (one per pod, each starting with `Name:`) → the Pods and
/// Events they record: name, namespace, node, controller, each container's image, image ID,
/// state (waiting reason, running) and restart count, and the Events table.
pub fn parse_pods(text: &str) -> (Vec<Value>, Vec<Value>) {
    let mut blocks: Vec<String> = Vec::new();
    for line in text.lines() {
        if line.starts_with("Name:") || blocks.is_empty() {
            blocks.push(String::new());
        }
        if let Some(b) = blocks.last_mut() {
            b.push_str(line);
            b.push('\n');
        }
    }
    let (mut pods, mut events) = (Vec::new(), Vec::new());
    for b in blocks.iter().filter(|b| b.starts_with("Name:")) {
        let field = |key: &str| {
            b.lines()
                .find_map(|l| l.strip_prefix(key).map(str::trim))
                .unwrap_or_default()
                .to_string()
        };
        let (name, namespace) = (field("Name:"), field("Namespace:"));
        let node = field("Node:")
            .split('/')
            .next()
            .unwrap_or_default()
            .to_string();
        let mut containers = Vec::new();
        let mut statuses: Vec<Value> = Vec::new();
        let mut in_containers = false;
        let mut last_key = "";
        for l in b.lines() {
            if l.starts_with("Containers:") {
                in_containers = true;
                continue;
            }
            if in_containers && !l.starts_with(' ') {
                in_containers = false;
            }
            if !in_containers {
                continue;
            }
            let t = l.trim();
            if l.starts_with("  ") && !l.starts_with("   ") && t.ends_with(':') {
                let c = t.trim_end_matches(':');
                containers.push(json!({"name": c}));
                statuses.push(json!({"name": c, "ready": false, "restartCount": 0, "state": {}}));
                continue;
            }
            let (Some(c), Some(s)) = (containers.last_mut(), statuses.last_mut()) else {
                continue;
            };
            let Some((key, value)) = t.split_once(':') else {
                continue;
            };
            let value = value.trim();
            match (key, l.starts_with("      ")) {
                ("Image", false) => {
                    c["image"] = json!(value);
                    c["imagePullPolicy"] = json!(default_policy(value));
                    s["image"] = json!(value);
                }
                ("Image ID", false) => s["imageID"] = json!(value),
                ("State", false) => {
                    last_key = "State";
                    match value {
                        "Running" => s["state"] = json!({"running": {}}),
                        "Waiting" => s["state"] = json!({"waiting": {}}),
                        "Terminated" => s["state"] = json!({"terminated": {"exitCode": 0}}),
                        _ => {}
                    }
                }
                ("Last State", false) => last_key = "Last State",
                ("Reason", true) if last_key == "State" && s["state"]["waiting"].is_object() => {
                    s["state"]["waiting"]["reason"] = json!(value);
                }
                ("Restart Count", false) => {
                    s["restartCount"] = json!(value.parse::<u32>().unwrap_or(0));
                }
                _ => {}
            }
        }
        let mut pod = json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "uid": format!("uid-{name}")},
            "spec": {"nodeName": node, "containers": containers},
            "status": {"phase": field("Status:"), "containerStatuses": statuses},
        });
        if let Some((kind, owner)) = field("Controlled By:").split_once('/') {
            pod["metadata"]["ownerReferences"] = json!([{"apiVersion": "apps/v1", "kind": kind,
                "name": owner, "uid": format!("uid-{owner}"), "controller": true}]);
        }
        let container = pod["spec"]["containers"][0]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        for (i, r) in event_rows(b).iter().enumerate() {
            let mut involved = json!({"kind": "Pod", "namespace": namespace, "name": name, "uid": format!("uid-{name}")});
            if r.from == "kubelet" {
                involved["fieldPath"] = json!(format!("spec.containers{{{container}}}"));
            }
            events.push(json!({"apiVersion": "v1", "kind": "Event",
                "metadata": {"name": format!("{name}.{i:04}"), "namespace": namespace},
                "involvedObject": involved, "reason": r.reason, "message": r.message, "type": r.kind,
                "count": r.count, "source": {"component": r.from}}));
        }
        pods.push(pod);
    }
    (pods, events)
}
