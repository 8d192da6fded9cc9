//! The kubeconfig a `sim serve` writes, shaped like the one `kind create cluster` writes:
//! cluster, user and context all named `kind-NAME`, and the context made current.

use std::io::Write;
use std::path::Path;

/// A YAML double-quoted scalar (JSON string syntax is valid YAML).
fn quote(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// The kubeconfig for a sim cluster. The server is plain http on loopback, so there is no CA;
/// the user carries a dummy token because some clients insist on credentials.
pub fn kubeconfig_yaml(cluster_name: &str, server_url: &str) -> String {
    let ctx = quote(&format!("kind-{cluster_name}"));
    let server = quote(server_url);
    format!(
        "apiVersion: v1
kind: Config
clusters:
- cluster:
    server: {server}
  name: {ctx}
contexts:
- context:
    cluster: {ctx}
    user: {ctx}
  name: {ctx}
current-context: {ctx}
preferences: {{}}
users:
- name: {ctx}
  user:
    token: \"kindscope-sim\"
"
    )
}

/// Write the kubeconfig to `path` (replacing the file), creating parent directories; the file
/// is readable by its owner only, as kubeconfigs hold credentials.
pub fn write_kubeconfig(path: &Path, cluster_name: &str, server_url: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        opts.mode(0o600);
        let mut f = opts.open(path)?;
        // `mode` only applies to new files; tighten an existing one too.
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        f.write_all(kubeconfig_yaml(cluster_name, server_url).as_bytes())?;
        f.sync_all()
    }
    #[cfg(not(unix))]
    {
        let mut f = opts.open(path)?;
        f.write_all(kubeconfig_yaml(cluster_name, server_url).as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kube_reads_the_written_kubeconfig() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("nested/dir/config");
        write_kubeconfig(&path, "gateway-debug", "http://127.0.0.1:4321").expect("write");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let kc = kube::config::Kubeconfig::read_from(&path).expect("parses");
        assert_eq!(kc.current_context.as_deref(), Some("kind-gateway-debug"));
        let cluster = &kc.clusters[0];
        assert_eq!(cluster.name, "kind-gateway-debug");
        assert_eq!(
            cluster.cluster.as_ref().and_then(|c| c.server.as_deref()),
            Some("http://127.0.0.1:4321")
        );
        assert_eq!(kc.auth_infos[0].name, "kind-gateway-debug");
    }
}
