//! TLS and authentication: kubeconfigs that do not fit the cluster and credential plugins that
//! fail, print garbage or hang each end in one sentence and exit 3 within 10 s; the sim refuses
//! clients without credentials and requests addressed to another host.

use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use kindscope::sim::identity::Identity;
use kindscope::sim::kubeconfig::{Credentials, kubeconfig_yaml};

use crate::support::cli::{NO_HANG, command, ready, sim_serve};

/// A cluster kindscope cannot use is reported within 10 s (docs/cli.md). That promise is held
/// by connect's own deadlines and checked on paused time in `cluster::connect`'s tests; here a
/// run only has to end by itself ([`NO_HANG`], a give-up bound no busy machine reaches).
const PROMISE: Duration = NO_HANG;

/// `kindscope sim serve` in the background, with the kubeconfig it wrote.
struct Served {
    child: Child,
    url: String,
    port: u16,
    kubeconfig: PathBuf,
}

impl Served {
    fn start(dir: &Path, name: &str, flags: &[&str]) -> Served {
        let kubeconfig = dir.join(name);
        let mut cmd = sim_serve(&kubeconfig);
        cmd.args(flags);
        let (child, line) = ready(cmd);
        let url = line
            .split(" at ")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .unwrap_or_else(|| panic!("no URL in {line:?}"))
            .to_string();
        let port = url
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("port");
        Served {
            child,
            url,
            port,
            kubeconfig,
        }
    }

    /// The PEM texts of the kubeconfig it wrote.
    fn credentials(&self) -> Credentials {
        let kc = kube::config::Kubeconfig::read_from(&self.kubeconfig).expect("kubeconfig");
        let decode = |b64: Option<&str>| {
            b64.map(|d| {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(d)
                    .expect("base64");
                String::from_utf8(bytes).expect("PEM text")
            })
        };
        let cluster = kc.clusters[0].cluster.as_ref().expect("cluster");
        let user = kc.auth_infos[0].auth_info.as_ref().expect("user");
        Credentials {
            ca_pem: decode(cluster.certificate_authority_data.as_deref()),
            client_cert_pem: decode(user.client_certificate_data.as_deref()),
            client_key_pem: None,
            token: None,
        }
    }

    fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `kindscope diagnose` with `kubeconfig`: (output, how long it took).
fn diagnose(kubeconfig: &Path, dir: &Path) -> (Output, Duration) {
    let started = Instant::now();
    let kc = kubeconfig.to_str().expect("utf8 path");
    let out = command(
        &["diagnose", "--kubeconfig", kc, "--runtime", "none"],
        &dir.join("state"),
    )
    .stdin(Stdio::null())
    .output()
    .expect("run kindscope diagnose");
    (out, started.elapsed())
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Exit 3 within the promise, and stderr is one sentence naming every `words`: no dump of a
/// process output, no YAML excerpt, no panic.
fn one_sentence(out: &Output, took: Duration, words: &[&str]) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(took < PROMISE, "took {took:?}: {err}");
    assert_eq!(err.trim().lines().count(), 1, "one line:\n{err}");
    assert!(err.starts_with("kindscope: "), "{err}");
    for w in words {
        assert!(err.contains(w), "{err:?} should name {w:?}");
    }
    for junk in [
        "Output {",
        "status: ExitStatus",
        " --> ",
        "panicked",
        "stdout: [",
    ] {
        assert!(!err.contains(junk), "{err:?} has {junk:?}");
    }
}

fn write(path: &Path, text: &str) -> PathBuf {
    std::fs::write(path, text).expect("write");
    path.to_path_buf()
}

/// An executable shell script for an exec plugin.
fn plugin(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = write(&dir.join(name), &format!("#!/bin/sh\n{body}\n"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    path
}

/// A kubeconfig whose user is the exec plugin `script`, for the sim at `url` trusting `ca`.
fn exec_kubeconfig(dir: &Path, url: &str, ca_pem: Option<&str>, script: &Path) -> PathBuf {
    let ca = ca_pem
        .map(|pem| {
            let b64 = base64::engine::general_purpose::STANDARD.encode(pem);
            format!("    certificate-authority-data: {b64}\n")
        })
        .unwrap_or_default();
    let text = format!(
        "apiVersion: v1
clusters:
- cluster:
{ca}    server: {url}
  name: kind-gateway-debug
contexts:
- context:
    cluster: kind-gateway-debug
    user: kind-gateway-debug
  name: kind-gateway-debug
current-context: kind-gateway-debug
kind: Config
users:
- name: kind-gateway-debug
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: {script:?}
      interactiveMode: Never
"
    );
    write(&dir.join("exec.kubeconfig"), &text)
}

#[test]
fn the_kubeconfig_of_a_recreated_cluster_is_one_sentence_naming_kind_export() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Not port 0: an ephemeral port can be taken by an outgoing connection of a test running
    // beside this one between the stop and the restart.
    let port = crate::support::ports::outside_ephemeral_range().to_string();
    let first = Served::start(dir.path(), "old.kubeconfig", &["--port", &port]);
    let old = first.kubeconfig.clone();
    let (out, _) = diagnose(&old, dir.path());
    assert_eq!(out.status.code(), Some(1), "control: {}", stderr(&out));
    first.stop();
    // Recreated on the same address: a new CA, as `kind delete` + `kind create` gives.
    let _second = Served::start(dir.path(), "new.kubeconfig", &["--port", &port]);
    let (out, took) = diagnose(&old, dir.path());
    one_sentence(
        &out,
        took,
        &[
            "kind-gateway-debug",
            "does not match the certificate authority",
            "kind export kubeconfig --name gateway-debug",
        ],
    );
}

#[test]
fn a_wrong_token_and_a_foreign_client_certificate_are_401_sentences() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = Served::start(dir.path(), "kubeconfig", &[]);
    let ca = sim.credentials().ca_pem;
    let token = Credentials {
        ca_pem: ca.clone(),
        token: Some("not-the-sims-token".into()),
        ..Credentials::default()
    };
    let path = write(
        &dir.path().join("token.kubeconfig"),
        &kubeconfig_yaml("gateway-debug", &sim.url, &token),
    );
    let (out, took) = diagnose(&path, dir.path());
    one_sentence(
        &out,
        took,
        &[
            "rejected the token (401 Unauthorized)",
            "kind export kubeconfig --name gateway-debug",
        ],
    );

    // A certificate of another CA (another cluster's admin), and none at all.
    let stranger = Identity::generate("stranger").expect("another identity");
    let foreign = Credentials {
        ca_pem: ca.clone(),
        ..stranger.credentials(true)
    };
    let path = write(
        &dir.path().join("cert.kubeconfig"),
        &kubeconfig_yaml("gateway-debug", &sim.url, &foreign),
    );
    let (out, took) = diagnose(&path, dir.path());
    one_sentence(&out, took, &["rejected the client certificate (401"]);
    let nothing = Credentials {
        ca_pem: ca,
        ..Credentials::default()
    };
    let path = write(
        &dir.path().join("none.kubeconfig"),
        &kubeconfig_yaml("gateway-debug", &sim.url, &nothing),
    );
    let (out, took) = diagnose(&path, dir.path());
    one_sentence(&out, took, &["rejected a request without credentials (401"]);
}

#[test]
fn exec_plugins_that_hang_fail_or_print_garbage_are_sentences_naming_them() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = Served::start(dir.path(), "kubeconfig", &[]);
    let ca = sim.credentials().ca_pem.expect("CA");
    let cases = [
        ("hang.sh", "sleep 60", "did not finish within 5 s"),
        (
            "fail.sh",
            "echo 'error: the SSO session has expired' >&2; exit 4",
            "failed (exit code 4, saying \"error: the SSO session has expired\")",
        ),
        (
            "garbage.sh",
            "echo '<html>{{{ not a credential'",
            "is not an ExecCredential",
        ),
        (
            "empty.sh",
            r#"echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{}}'"#,
            "without a token or a client certificate",
        ),
    ];
    for (name, body, what) in cases {
        let script = plugin(dir.path(), name, body);
        let kc = exec_kubeconfig(dir.path(), &sim.url, Some(&ca), &script);
        let (out, took) = diagnose(&kc, dir.path());
        // Named by its command, as the kubeconfig gives it.
        let named = format!("the exec credential plugin `{}`", script.display());
        one_sentence(&out, took, &[&named, "kind-gateway-debug", what]);
    }
}

#[test]
fn an_exec_plugin_that_prints_the_client_certificate_connects() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = Served::start(dir.path(), "kubeconfig", &[]);
    let kc = kube::config::Kubeconfig::read_from(&sim.kubeconfig).expect("kubeconfig");
    let user = kc.auth_infos[0].auth_info.as_ref().expect("user");
    let pem = |b64: &str| {
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .expect("base64"),
        )
        .expect("PEM")
    };
    let cert = pem(user.client_certificate_data.as_deref().expect("cert"));
    // The key is a secret in kube's types; take it from the file text instead.
    let text = std::fs::read_to_string(&sim.kubeconfig).expect("read");
    let key_b64 = text
        .split("client-key-data: ")
        .nth(1)
        .and_then(|r| r.lines().next())
        .expect("client-key-data");
    let credential = serde_json::json!({
        "apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
        "status": {"clientCertificateData": cert, "clientKeyData": pem(key_b64)},
    });
    let json = write(&dir.path().join("credential.json"), &credential.to_string());
    let script = plugin(dir.path(), "ok.sh", &format!("cat {json:?}"));
    let ca = sim.credentials().ca_pem.expect("CA");
    let path = exec_kubeconfig(dir.path(), &sim.url, Some(&ca), &script);
    let (out, _) = diagnose(&path, dir.path());
    // The embedded story has findings: exit 1, a report, not a connection error.
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(!out.stdout.is_empty());
}

#[test]
fn an_expiring_exec_token_connects_and_stays_with_the_plugin() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = Served::start(dir.path(), "kubeconfig", &["--plain-http"]);
    let text = std::fs::read_to_string(&sim.kubeconfig).expect("read");
    let token = text
        .split("token: ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .expect("the sim's token")
        .trim_matches('"')
        .to_string();
    let credential = serde_json::json!({
        "apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
        "status": {"token": token, "expirationTimestamp": "2999-01-01T00:00:00Z"},
    });
    let json = write(&dir.path().join("credential.json"), &credential.to_string());
    let script = plugin(dir.path(), "token.sh", &format!("cat {json:?}"));
    let path = exec_kubeconfig(dir.path(), &sim.url, None, &script);
    let (out, took) = diagnose(&path, dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(took < PROMISE, "{took:?}");
}

// ---------------------------------------------------------------------------------------------
// The sim's side: raw HTTPS requests.

/// A raw HTTPS/1.1 request to the sim with `headers`, presenting `client` (cert, key PEM) when
/// given; (status, body).
async fn https(
    port: u16,
    ca_pem: &str,
    client: Option<(&str, &str)>,
    headers: &str,
) -> (u16, String) {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(ca_pem.as_bytes()).expect("CA"))
        .expect("root");
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_root_certificates(roots);
    let config = match client {
        Some((cert, key)) => builder
            .with_client_auth_cert(
                vec![CertificateDer::from_pem_slice(cert.as_bytes()).expect("cert")],
                PrivateKeyDer::from_pem_slice(key.as_bytes()).expect("key"),
            )
            .expect("client auth"),
        None => builder.with_no_client_auth(),
    };
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let name = ServerName::try_from("127.0.0.1").expect("name");
    let mut tls = connector.connect(name, tcp).await.expect("TLS handshake");
    let request = format!("GET /version HTTP/1.1\r\n{headers}Connection: close\r\n\r\n");
    tls.write_all(request.as_bytes()).await.expect("send");
    let mut answer = Vec::new();
    let _ = tls.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

#[tokio::test]
async fn the_sim_refuses_clients_without_credentials_and_foreign_hosts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = Served::start(dir.path(), "kubeconfig", &[]);
    let text = std::fs::read_to_string(&sim.kubeconfig).expect("read");
    let field = |key: &str| {
        let b64 = text
            .split(key)
            .nth(1)
            .and_then(|r| r.lines().next())
            .unwrap_or_else(|| panic!("{key}"));
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .expect("base64"),
        )
        .expect("PEM")
    };
    let (ca, cert, key) = (
        field("certificate-authority-data: "),
        field("client-certificate-data: "),
        field("client-key-data: "),
    );
    let admin = Some((cert.as_str(), key.as_str()));
    let local = format!("Host: 127.0.0.1:{}\r\n", sim.port);

    // Control: the kubeconfig's certificate, addressed to the loopback name.
    let (code, body) = https(sim.port, &ca, admin, &local).await;
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("gitVersion"), "{body}");
    let (code, _) = https(sim.port, &ca, admin, "Host: localhost\r\n").await;
    assert_eq!(code, 200);

    // No certificate, or one of another CA: the apiserver's 401 Status.
    let stranger = Identity::generate("stranger")
        .expect("identity")
        .credentials(true);
    let foreign = Some((
        stranger.client_cert_pem.as_deref().expect("cert"),
        stranger.client_key_pem.as_deref().expect("key"),
    ));
    for client in [None, foreign] {
        let (code, body) = https(sim.port, &ca, client, &local).await;
        assert_eq!(code, 401, "{body}");
        let status: serde_json::Value = serde_json::from_str(&body).expect("a Status");
        assert_eq!(
            status,
            serde_json::json!({"kind": "Status", "apiVersion": "v1", "metadata": {},
                               "status": "Failure", "message": "Unauthorized",
                               "reason": "Unauthorized", "code": 401})
        );
    }
    let bearer = format!("{local}Authorization: Bearer wrong\r\n");
    assert_eq!(https(sim.port, &ca, None, &bearer).await.0, 401);

    // A page at another name (DNS rebinding) or origin: refused even with the certificate.
    for headers in [
        format!("Host: evil.example:{}\r\n", sim.port),
        "Host: 127.0.0.1.evil.example\r\n".to_string(),
        format!("{local}Origin: https://evil.example\r\n"),
    ] {
        let (code, body) = https(sim.port, &ca, admin, &headers).await;
        assert_eq!(code, 403, "{headers}: {body}");
        assert!(body.contains("\"reason\":\"Forbidden\""), "{body}");
    }
    let (code, _) = https(sim.port, &ca, admin, "").await;
    assert_eq!(code, 400, "no Host header");

    // Bound to 127.0.0.1 alone: another address of this machine (even another loopback one)
    // finds no listener.
    assert!(std::net::TcpStream::connect(("127.0.0.2", sim.port)).is_err());
}

#[test]
fn https_to_a_plain_http_sim_says_it_does_not_speak_tls() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = Served::start(dir.path(), "kubeconfig", &["--plain-http"]);
    let text = std::fs::read_to_string(&sim.kubeconfig).expect("read");
    let path = write(
        &dir.path().join("https.kubeconfig"),
        &text.replace("http://", "https://"),
    );
    let (out, took) = diagnose(&path, dir.path());
    one_sentence(&out, took, &["does not speak TLS", "kind-gateway-debug"]);
}
