//! The kubeconfig a sim writes, laid out as `kind` writes one (kind takes kubeadm's
//! `admin.conf`, renames cluster, user and context to `kind-NAME`, makes that context current
//! and writes the keys in sorted order): `certificate-authority-data` on the cluster,
//! `client-certificate-data`/`client-key-data` on the user. A `--plain-http` sim's user carries
//! a bearer token instead.

use std::io::Write;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// What the kubeconfig's cluster and user entries carry (PEM text; written base64-encoded).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    pub ca_pem: Option<String>,
    pub client_cert_pem: Option<String>,
    pub client_key_pem: Option<String>,
    pub token: Option<String>,
}

/// A YAML scalar: plain when it is a simple word/URL (as kind's YAML encoder writes names and
/// servers), else double-quoted (JSON string syntax is valid YAML).
fn scalar(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '/' | ':'))
        && !s.contains(": ");
    if plain {
        s.to_string()
    } else {
        serde_json::Value::String(s.to_string()).to_string()
    }
}

fn data(pem: &str) -> String {
    STANDARD.encode(pem.as_bytes())
}

/// The kubeconfig for a sim cluster named `cluster_name` at `server_url`.
pub fn kubeconfig_yaml(cluster_name: &str, server_url: &str, creds: &Credentials) -> String {
    let ctx = scalar(&format!("kind-{cluster_name}"));
    let server = scalar(server_url);
    let mut cluster = String::new();
    if let Some(ca) = &creds.ca_pem {
        cluster.push_str(&format!("    certificate-authority-data: {}\n", data(ca)));
    }
    let mut user = String::new();
    if let Some(cert) = &creds.client_cert_pem {
        user.push_str(&format!("    client-certificate-data: {}\n", data(cert)));
    }
    if let Some(key) = &creds.client_key_pem {
        user.push_str(&format!("    client-key-data: {}\n", data(key)));
    }
    if let Some(token) = &creds.token {
        user.push_str(&format!("    token: {}\n", scalar(token)));
    }
    if user.is_empty() {
        user.push_str("    {}\n");
    }
    format!(
        "apiVersion: v1
clusters:
- cluster:
{cluster}    server: {server}
  name: {ctx}
contexts:
- context:
    cluster: {ctx}
    user: {ctx}
  name: {ctx}
current-context: {ctx}
kind: Config
preferences: {{}}
users:
- name: {ctx}
  user:
{user}"
    )
}

/// Write the kubeconfig to `path` (replacing the file), creating parent directories; the file
/// is readable by its owner only, as kubeconfigs hold credentials.
pub fn write_kubeconfig(
    path: &Path,
    cluster_name: &str,
    server_url: &str,
    creds: &Credentials,
) -> std::io::Result<()> {
    let text = kubeconfig_yaml(cluster_name, server_url, creds);
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
        f.write_all(text.as_bytes())?;
        f.sync_all()
    }
    #[cfg(not(unix))]
    {
        let mut f = opts.open(path)?;
        f.write_all(text.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> Credentials {
        Credentials {
            ca_pem: Some("-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n".into()),
            client_cert_pem: Some("CERT".into()),
            client_key_pem: Some("KEY".into()),
            token: None,
        }
    }

    #[test]
    fn kube_reads_the_written_kubeconfig() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("nested/dir/config");
        write_kubeconfig(&path, "gateway-debug", "https://127.0.0.1:4321", &creds())
            .expect("write");
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
        let c = cluster.cluster.as_ref().expect("cluster");
        assert_eq!(c.server.as_deref(), Some("https://127.0.0.1:4321"));
        assert_eq!(
            c.certificate_authority_data.as_deref(),
            Some(data(creds().ca_pem.as_deref().expect("ca")).as_str())
        );
        let user = &kc.auth_infos[0];
        assert_eq!(user.name, "kind-gateway-debug");
        let u = user.auth_info.as_ref().expect("user");
        assert_eq!(u.client_certificate_data.as_deref(), Some("Q0VSVA=="));
        assert!(u.token.is_none());
        assert_eq!(kc.contexts[0].name, "kind-gateway-debug");
    }

    #[test]
    fn the_layout_is_kinds_sorted_keys() {
        let text = kubeconfig_yaml("demo", "https://127.0.0.1:1", &creds());
        let top: Vec<&str> = text
            .lines()
            .filter(|l| !l.starts_with([' ', '-']))
            .map(|l| l.split(':').next().unwrap_or(""))
            .collect();
        assert_eq!(
            top,
            [
                "apiVersion",
                "clusters",
                "contexts",
                "current-context",
                "kind",
                "preferences",
                "users"
            ]
        );
        assert!(text.contains("\n  name: kind-demo\n"), "{text}");
        assert!(text.contains("    client-key-data: S0VZ\n"), "{text}");
    }

    #[test]
    fn odd_names_are_quoted_and_a_token_user_parses() {
        let creds = Credentials {
            token: Some("t0k".into()),
            ..Credentials::default()
        };
        let text = kubeconfig_yaml("a b: c", "http://127.0.0.1:1", &creds);
        let kc = kube::config::Kubeconfig::from_yaml(&text).expect("parses");
        assert_eq!(kc.current_context.as_deref(), Some("kind-a b: c"));
        let u = kc.auth_infos[0].auth_info.as_ref().expect("user");
        assert!(u.token.is_some() && u.client_certificate_data.is_none());
        assert!(text.contains("    token: t0k\n"), "{text}");
    }
}
