//! Shell commands for what a patch cannot fix: loading an image into Kind nodes, and changing
//! workloads kindscope does not patch itself (StatefulSet, DaemonSet, Job, …).

use super::index::NodeIndex;
use crate::model::Snapshot;

/// The Kind cluster as far as the snapshot tells: its name and whether nodes run under podman.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KindCluster {
    pub name: String,
    pub podman: bool,
}

impl KindCluster {
    /// Name from the context (`kind-NAME`), else a node's providerID (`kind://podman/NAME/node`),
    /// else a `NAME-control-plane` node, else Kind's default `kind`. Podman when a providerID or
    /// a runtime listing says so.
    pub fn detect(snap: &Snapshot, ix: &NodeIndex<'_>) -> Self {
        let mut provider = None;
        let mut from_provider_id = None;
        for info in &ix.nodes {
            let pid = info
                .node
                .and_then(|n| n.spec.as_ref())
                .and_then(|s| s.provider_id.as_deref())
                .and_then(|p| p.strip_prefix("kind://"));
            if let Some(rest) = pid {
                let mut parts = rest.split('/');
                provider = provider.or(parts.next().map(str::to_string));
                from_provider_id = from_provider_id.or(parts.next().map(str::to_string));
            }
            if provider.is_none() {
                provider = info.runtime.map(str::to_string);
            }
        }
        let name = snap
            .context
            .strip_prefix("kind-")
            .filter(|n| !n.is_empty())
            .map(str::to_string)
            .or(from_provider_id)
            .or_else(|| {
                ix.nodes
                    .iter()
                    .find_map(|n| n.name.strip_suffix("-control-plane").map(str::to_string))
            })
            .unwrap_or_else(|| "kind".to_string());
        KindCluster {
            name,
            podman: provider.as_deref() == Some("podman"),
        }
    }

    /// `kind load …` for `image` (as the local runtime names it), onto `nodes` or all nodes.
    pub fn load_command(&self, image: &str, nodes: &[String]) -> String {
        let nodes_flag = if nodes.is_empty() {
            String::new()
        } else {
            format!(" --nodes {}", nodes.join(","))
        };
        let image_q = shell_word(image);
        if self.podman {
            let file = format!("/tmp/{}.tar", archive_stem(image));
            format!(
                "podman save -o {file} {image_q} && kind load image-archive {file} --name {}{nodes_flag}",
                self.name
            )
        } else {
            format!(
                "kind load docker-image {image_q} --name {}{nodes_flag}",
                self.name
            )
        }
    }
}

impl KindCluster {
    /// List what `nodes` really hold of `repository` (the familiar path: `crictl images`
    /// prints the repository with its registry in one column and the tag in the next, so the
    /// path matches `docker.io/…` and `localhost/…` alike). For a node whose API image list is
    /// capped, where the image may well be present.
    pub fn check_command(&self, nodes: &[String], repository: &str) -> String {
        let rt = if self.podman { "podman" } else { "docker" };
        nodes
            .iter()
            .map(|node| {
                format!(
                    "{rt} exec {} crictl images | grep -F {}",
                    shell_word(node),
                    shell_word(repository)
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Give `node`'s copy of an image the exact name containerd will look up, as `kind load`
    /// itself re-tags (`ctr --namespace=k8s.io images tag --force SOURCE TARGET`). One command
    /// per node, joined with `&&`.
    pub fn retag_command(&self, per_node: &[(String, String)], target: &str) -> String {
        let rt = if self.podman { "podman" } else { "docker" };
        per_node
            .iter()
            .map(|(node, from)| {
                format!(
                    "{rt} exec {} ctr --namespace=k8s.io images tag --force {} {}",
                    shell_word(node),
                    shell_word(from),
                    shell_word(target)
                )
            })
            .collect::<Vec<_>>()
            .join(" && ")
    }
}

/// A strategic-merge patch for a controller kindscope does not patch itself: containers merge
/// by name, so no index is needed. Jobs cannot change their pod template; they are recreated.
pub(crate) fn controller_command(
    namespace: &str,
    kind: &str,
    name: &str,
    container: &str,
    init: bool,
    image: Option<&str>,
    pull_policy: Option<&str>,
) -> String {
    let mut fields = serde_json::Map::new();
    fields.insert("name".into(), container.into());
    if let Some(i) = image {
        fields.insert("image".into(), i.into());
    }
    if let Some(p) = pull_policy {
        fields.insert("imagePullPolicy".into(), p.into());
    }
    let list = if init { "initContainers" } else { "containers" };
    let change = describe(image, pull_policy);
    let resource = kind.to_lowercase();
    match kind {
        "Pod" | "Job" => format!(
            "kubectl -n {namespace} get {resource}/{name} -o yaml > {name}.yaml && \
             echo 'edit {name}.yaml: {list} {container}: {change}' && \
             kubectl replace --force -f {name}.yaml"
        ),
        _ => {
            let patch = serde_json::json!({"spec": {"template": {"spec": {list: [fields]}}}});
            format!("kubectl -n {namespace} patch {resource}/{name} -p '{patch}'")
        }
    }
}

/// `kubectl set image` for a choice kindscope will not make itself (several candidates, or a
/// guessed spelling no node holds); the alternatives follow as a shell comment.
pub(crate) fn set_image_command(
    namespace: &str,
    kind: &str,
    name: &str,
    container: &str,
    image: &str,
    alternatives: &[String],
) -> String {
    let mut cmd = format!(
        "kubectl -n {namespace} set image {}/{name} {container}={}",
        kind.to_lowercase(),
        shell_word(image)
    );
    if !alternatives.is_empty() {
        cmd.push_str("  # or: ");
        cmd.push_str(&alternatives.join(", "));
    }
    cmd
}

fn describe(image: Option<&str>, pull_policy: Option<&str>) -> String {
    match (image, pull_policy) {
        (Some(i), Some(p)) => format!("set image {i} and imagePullPolicy {p}"),
        (Some(i), None) => format!("set image {i}"),
        (None, Some(p)) => format!("set imagePullPolicy {p}"),
        (None, None) => "no change".to_string(),
    }
}

/// Valid references only contain shell-safe characters, except IPv6 brackets (glob).
fn shell_word(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "-._:/@".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// `kubernaut/gateway:debug` → `gateway-debug`.
fn archive_stem(image: &str) -> String {
    let last = image.rsplit('/').next().unwrap_or(image);
    let last = last.split('@').next().unwrap_or(last);
    let stem: String = last
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if stem.is_empty() {
        "image".to_string()
    } else {
        stem
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_commands() {
        let docker = KindCluster {
            name: "dev".into(),
            podman: false,
        };
        assert_eq!(
            docker.load_command("kubernaut/gateway:debug", &["dev-worker".into()]),
            "kind load docker-image kubernaut/gateway:debug --name dev --nodes dev-worker"
        );
        let podman = KindCluster {
            name: "gateway-debug".into(),
            podman: true,
        };
        assert_eq!(
            podman.load_command("localhost/kubernaut/gateway:debug", &[]),
            "podman save -o /tmp/gateway-debug.tar localhost/kubernaut/gateway:debug && \
             kind load image-archive /tmp/gateway-debug.tar --name gateway-debug"
        );
        assert_eq!(shell_word("[::1]:5000/a:b"), "'[::1]:5000/a:b'");
        assert_eq!(
            podman.check_command(&["dev-worker".into()], "kubernaut/gateway"),
            "podman exec dev-worker crictl images | grep -F kubernaut/gateway"
        );
    }

    #[test]
    fn controller_commands() {
        let c = controller_command(
            "db",
            "StatefulSet",
            "pg",
            "postgres",
            false,
            Some("localhost/pg:16"),
            Some("IfNotPresent"),
        );
        assert_eq!(
            c,
            "kubectl -n db patch statefulset/pg -p '{\"spec\":{\"template\":{\"spec\":{\"containers\":\
             [{\"image\":\"localhost/pg:16\",\"imagePullPolicy\":\"IfNotPresent\",\"name\":\"postgres\"}]}}}}'"
        );
        let j = controller_command("ci", "Job", "migrate", "m", true, Some("x:1"), None);
        assert!(
            j.contains("kubectl replace --force -f migrate.yaml")
                && j.contains("initContainers m: set image x:1")
        );
    }
}
