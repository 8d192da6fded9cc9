//! Connecting like kubectl: kubeconfig resolution (`--kubeconfig`, `KUBECONFIG` with several
//! paths merged, `~/.kube/config`), `--context` (default: current-context), `-n`, and a bounded
//! `/version` probe so an unreachable cluster is an error within seconds, never a hang.

use std::error::Error as StdError;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use kube::config::{AuthInfo, KubeConfigOptions, Kubeconfig, KubeconfigError};

use super::exec_auth::{self, EXEC_TIMEOUT, Outcome};
use crate::cli::ConnectArgs;
use crate::error::CliError;

/// TCP connect timeout for every request of the client.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Upper bound for the `/version` probe (connect + TLS + auth + answer).
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(8);
/// Everything `connect` does (credential plugin, client, probe) ends within this: an
/// unreachable or unusable cluster is reported within 10 s.
pub const CONNECT_DEADLINE: Duration = Duration::from_secs(9);

/// A client for one kubeconfig context.
#[derive(Clone)]
pub struct Connection {
    pub client: kube::Client,
    /// kubeconfig context name (`kind-gateway-debug`).
    pub context: String,
    /// API server URL of the context.
    pub server: String,
    /// Namespace filter (`-n`); None = all namespaces.
    pub namespace: Option<String>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("context", &self.context)
            .field("server", &self.server)
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

/// Resolve the kubeconfig and context like kubectl, build a client and probe the API server.
///
/// Bad input (missing/unreadable/garbage kubeconfig, unknown context) is `CliError::usage`;
/// an unreachable, unauthenticated or forbidding server is `CliError::cluster`.
pub async fn connect(args: &ConnectArgs) -> Result<Connection, CliError> {
    connect_checked(args, |_, _| Ok(())).await
}

/// [`connect`], with `before` deciding from the context name and server URL whether to go on
/// at all — before any network connection (the write guard of `fix`).
pub async fn connect_checked(
    args: &ConnectArgs,
    before: impl FnOnce(&str, &str) -> Result<(), CliError>,
) -> Result<Connection, CliError> {
    let started = tokio::time::Instant::now();
    let loaded = load_kubeconfig(
        args.kubeconfig.as_deref(),
        std::env::var_os("KUBECONFIG"),
        dirs::home_dir(),
    )?;
    let context = pick_context(&loaded, args.context.as_deref())?;
    let options = KubeConfigOptions {
        context: Some(context.clone()),
        cluster: None,
        user: None,
    };
    let mut config = kube::Config::from_custom_kubeconfig(loaded.config, &options)
        .await
        .map_err(|e| context_error(&context, &loaded.source, &e))?;
    // The caller's check (the write guard) before anything that could reach the network:
    // not even an exec credential plugin runs for a refused context.
    before(
        &context,
        config.cluster_url.to_string().trim_end_matches('/'),
    )?;
    let who = credential_kind(&config.auth_info);
    let outcome = if config.auth_info.exec.is_some() {
        exec_auth::resolve(&mut config.auth_info, &context, EXEC_TIMEOUT).await?
    } else {
        Outcome::Static
    };
    let conn = match outcome {
        Outcome::Static => from_config(config, &context, args.namespace.clone())?,
        Outcome::Refreshable => {
            // kube runs the plugin again, synchronously, while it builds the client: off the
            // runtime's threads, and bounded like the first run.
            let plugin = config
                .auth_info
                .exec
                .as_ref()
                .map(exec_auth::plugin_name)
                .unwrap_or_default();
            let (ctx, ns) = (context.clone(), args.namespace.clone());
            let build = tokio::task::spawn_blocking(move || from_config(config, &ctx, ns));
            match tokio::time::timeout(EXEC_TIMEOUT, build).await {
                Ok(Ok(built)) => built?,
                Ok(Err(_)) | Err(_) => {
                    return Err(CliError::cluster(format!(
                        "the exec credential plugin `{plugin}` of context \"{context}\" did not \
                         answer a second time within {} s; run it by hand to check it",
                        EXEC_TIMEOUT.as_secs()
                    )));
                }
            }
        }
    };
    let left = CONNECT_DEADLINE
        .saturating_sub(started.elapsed())
        .clamp(Duration::from_secs(1), PROBE_TIMEOUT);
    probe(&conn, &who, left).await?;
    Ok(conn)
}

/// What the context's user authenticates with, for the 401 sentence.
fn credential_kind(user: &AuthInfo) -> String {
    if let Some(exec) = &user.exec {
        format!(
            "the credential of exec plugin `{}`",
            exec_auth::plugin_name(exec)
        )
    } else if user.token.is_some() || user.token_file.is_some() {
        "the token".to_string()
    } else if user.client_certificate.is_some() || user.client_certificate_data.is_some() {
        "the client certificate".to_string()
    } else if user.username.is_some() {
        "the user name and password".to_string()
    } else if user.auth_provider.is_some() {
        "the auth-provider credential".to_string()
    } else {
        "a request without credentials".to_string()
    }
}

/// What to do about credentials a cluster refuses: for a Kind context (`kind-NAME`), the
/// command that writes the current ones.
fn refresh_hint(context: &str) -> String {
    match context.strip_prefix("kind-").filter(|n| !n.is_empty()) {
        Some(name) => {
            format!("if the cluster was recreated, run `kind export kubeconfig --name {name}`")
        }
        None => "refresh the credentials of that context (for a recreated Kind cluster: `kind \
                 export kubeconfig --name NAME`)"
            .to_string(),
    }
}

/// A connection from a ready-made config (the in-process demo sim). Does not probe.
pub fn from_config(
    mut config: kube::Config,
    context: &str,
    namespace: Option<String>,
) -> Result<Connection, CliError> {
    config.connect_timeout = Some(CONNECT_TIMEOUT);
    // No client-wide read timeout: it would cut quiet watch streams (the watcher has its own
    // idle timeout). One-shot calls (probe, patch) are bounded with tokio timeouts instead.
    let server = config.cluster_url.to_string();
    let server = server.trim_end_matches('/').to_string();
    // Every response body is bounded (crate::limits): a server that sends without end costs
    // a bounded amount of memory and ends in one sentence.
    let client = kube::client::ClientBuilder::try_from(config)
        .map(|b| b.with_layer(&crate::limits::BodyLimitLayer).build())
        .map_err(|e| {
            CliError::usage(format!(
                "cannot build a client for context \"{context}\": {}; check the certificates and \
             credentials of that context in your kubeconfig",
                root_cause(&e)
            ))
        })?;
    Ok(Connection {
        client,
        context: context.to_string(),
        server,
        namespace,
    })
}

/// Ask `/version` with a deadline; classify failures as exit-3 cluster errors.
async fn probe(conn: &Connection, who: &str, deadline: Duration) -> Result<(), CliError> {
    let ctx = &conn.context;
    let server = &conn.server;
    match tokio::time::timeout(deadline, conn.client.apiserver_version()).await {
        Ok(Ok(info)) => {
            tracing::info!(context = %ctx, server = %server, version = %info.git_version, "connected");
            Ok(())
        }
        Ok(Err(kube::Error::Api(status))) if status.code == 401 => Err(CliError::cluster(format!(
            "the API server of context \"{ctx}\" at {server} rejected {who} (401 \
             Unauthorized); {}",
            refresh_hint(ctx)
        ))),
        Ok(Err(kube::Error::Api(status))) if status.code == 403 => Err(CliError::cluster(format!(
            "the API server of context \"{ctx}\" at {server} refused access (403 Forbidden: {}); \
             use a context whose user may read the cluster",
            one_line(&status.message)
        ))),
        Ok(Err(e)) => Err(CliError::cluster(
            match super::tls_errors::explain(&e, ctx, server) {
                Some(sentence) => sentence,
                None => format!(
                    "cannot reach the API server of context \"{ctx}\" at {server} ({}); check that \
                 the cluster is running (`kind get clusters`) and that the kubeconfig points at it",
                    describe_kube_error(&e)
                ),
            },
        )),
        Err(_) => Err(CliError::cluster(format!(
            "the API server of context \"{ctx}\" at {server} did not answer within {} s; check \
             that the cluster is running (`kind get clusters`)",
            deadline.as_secs_f64().round()
        ))),
    }
}

/// A merged kubeconfig and a description of where it came from (for error sentences).
#[derive(Debug)]
struct Loaded {
    config: Kubeconfig,
    source: String,
}

/// The context names of the kubeconfig kubectl would read (`explicit`, else `$KUBECONFIG`,
/// else `~/.kube/config`); for shell completion.
pub fn context_names(explicit: Option<&Path>) -> Result<Vec<String>, CliError> {
    let loaded = load_kubeconfig(explicit, std::env::var_os("KUBECONFIG"), dirs::home_dir())?;
    Ok(loaded.config.contexts.into_iter().map(|c| c.name).collect())
}

/// Every context of that kubeconfig with the API server of its cluster ("" when it has none):
/// what `:ctx` may offer.
pub fn context_servers(explicit: Option<&Path>) -> Result<Vec<(String, String)>, CliError> {
    let config =
        load_kubeconfig(explicit, std::env::var_os("KUBECONFIG"), dirs::home_dir())?.config;
    Ok(config
        .contexts
        .iter()
        .map(|c| {
            let cluster = c.context.as_ref().map(|x| x.cluster.as_str()).unwrap_or("");
            let server = config
                .clusters
                .iter()
                .find(|k| k.name == cluster)
                .and_then(|k| k.cluster.as_ref())
                .and_then(|k| k.server.clone())
                .unwrap_or_default();
            (c.name.clone(), server.trim_end_matches('/').to_string())
        })
        .collect())
}

/// kubectl's rules: an explicit path must exist; `KUBECONFIG` lists files merged first-wins
/// (missing ones skipped, but at least one must exist); otherwise `~/.kube/config`.
fn load_kubeconfig(
    explicit: Option<&Path>,
    env: Option<OsString>,
    home: Option<PathBuf>,
) -> Result<Loaded, CliError> {
    if let Some(path) = explicit {
        return Ok(Loaded {
            config: read_file(
                path,
                "pass --kubeconfig with the path of a valid kubeconfig",
            )?,
            source: path.display().to_string(),
        });
    }
    if let Some(value) = env {
        let paths: Vec<PathBuf> = std::env::split_paths(&value)
            .filter(|p| !p.as_os_str().is_empty())
            .collect();
        if !paths.is_empty() {
            let existing: Vec<&PathBuf> = paths.iter().filter(|p| p.exists()).collect();
            if existing.is_empty() {
                let list = paths
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(CliError::usage(format!(
                    "none of the kubeconfig files in KUBECONFIG exist ({list}); fix KUBECONFIG \
                     or pass --kubeconfig PATH"
                )));
            }
            let mut merged = Kubeconfig::default();
            for path in &existing {
                let next = read_file(path, "remove it from KUBECONFIG")?;
                merged = merged.merge(next).map_err(|e| {
                    CliError::usage(format!(
                        "cannot merge kubeconfig {} with the files before it in KUBECONFIG ({e}); \
                         fix KUBECONFIG or pass --kubeconfig PATH",
                        path.display()
                    ))
                })?;
            }
            let source = existing
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ");
            return Ok(Loaded {
                config: merged,
                source,
            });
        }
    }
    let Some(home) = home else {
        return Err(CliError::usage(
            "no kubeconfig: KUBECONFIG is not set and the home directory is unknown; pass \
             --kubeconfig PATH",
        ));
    };
    let path = home.join(".kube").join("config");
    if !path.exists() {
        return Err(CliError::usage(format!(
            "no kubeconfig at {} and KUBECONFIG is not set; pass --kubeconfig PATH, or create a \
             cluster with `kind create cluster`",
            path.display()
        )));
    }
    Ok(Loaded {
        config: read_file(&path, "pass --kubeconfig PATH")?,
        source: path.display().to_string(),
    })
}

fn read_file(path: &Path, what_to_do: &str) -> Result<Kubeconfig, CliError> {
    Kubeconfig::read_from(path).map_err(|e| match e {
        KubeconfigError::ReadConfig(io, _) if io.kind() == std::io::ErrorKind::NotFound => {
            CliError::usage(format!(
                "kubeconfig {} does not exist; {what_to_do}",
                path.display()
            ))
        }
        KubeconfigError::ReadConfig(io, _) => CliError::usage(format!(
            "cannot read kubeconfig {} ({io}); fix its permissions or {what_to_do}",
            path.display()
        )),
        other => CliError::usage(format!(
            "kubeconfig {} is not a valid kubeconfig ({}); fix it or {what_to_do}",
            path.display(),
            one_line(&root_cause(&other))
        )),
    })
}

/// The context to use: `--context`, else current-context; it must exist in the kubeconfig.
fn pick_context(loaded: &Loaded, wanted: Option<&str>) -> Result<String, CliError> {
    let names: Vec<&str> = loaded
        .config
        .contexts
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    let available = if names.is_empty() {
        "it has no contexts".to_string()
    } else {
        format!("its contexts are: {}", names.join(", "))
    };
    let name = match wanted {
        Some(name) => name.to_string(),
        None => match loaded.config.current_context.as_deref() {
            Some(current) if !current.is_empty() => current.to_string(),
            _ => {
                return Err(CliError::usage(format!(
                    "kubeconfig {} has no current-context; pass --context NAME ({available})",
                    loaded.source
                )));
            }
        },
    };
    if !names.contains(&name.as_str()) {
        return Err(CliError::usage(format!(
            "context \"{name}\" is not in kubeconfig {}; pass --context with an existing one \
             ({available})",
            loaded.source
        )));
    }
    Ok(name)
}

fn context_error(context: &str, source: &str, e: &KubeconfigError) -> CliError {
    CliError::usage(format!(
        "context \"{context}\" in kubeconfig {source} cannot be used ({}); fix its cluster and \
         user entries or pass another --context",
        one_line(&root_cause(e))
    ))
}

/// One short phrase for a kube error: the HTTP status for API errors, else the root cause.
pub fn describe_kube_error(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(status) if status.message.is_empty() => {
            format!("HTTP {} {}", status.code, status.reason)
        }
        kube::Error::Api(status) => format!("HTTP {}: {}", status.code, status.message),
        other => one_line(&root_cause(other)),
    }
}

/// The innermost error message of a chain ("Connection refused (os error 111)").
pub fn root_cause(e: &(dyn StdError + 'static)) -> String {
    let mut cur: &(dyn StdError + 'static) = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// One line, without the source excerpt YAML parsers append after ` --> `.
fn one_line(s: &str) -> String {
    let s = s.split(" --> ").next().unwrap_or(s);
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const GOOD: &str = r#"
apiVersion: v1
kind: Config
current-context: kind-demo
clusters:
- name: kind-demo
  cluster: {server: "http://127.0.0.1:1"}
contexts:
- name: kind-demo
  context: {cluster: kind-demo, user: kind-demo}
- name: other
  context: {cluster: kind-demo, user: kind-demo}
users:
- name: kind-demo
  user: {token: abc}
"#;

    fn file(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
        let path = dir.path().join(name);
        let mut f = std::fs::File::create(&path).expect("create temp kubeconfig");
        f.write_all(text.as_bytes()).expect("write temp kubeconfig");
        path
    }

    fn args(path: &Path) -> ConnectArgs {
        ConnectArgs {
            kubeconfig: Some(path.to_path_buf()),
            ..ConnectArgs::default()
        }
    }

    #[tokio::test]
    async fn missing_file_is_usage_error_naming_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("nope.yaml");
        let err = connect(&args(&path)).await.expect_err("missing file");
        assert_eq!(err.code, crate::error::exit::USAGE);
        assert!(err.message.contains("nope.yaml"), "{}", err.message);
        assert!(err.message.contains("does not exist"), "{}", err.message);
    }

    #[tokio::test]
    async fn garbage_yaml_is_usage_error_naming_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = file(&dir, "garbage.yaml", "clusters: [unclosed\n  - {: :\n");
        let err = connect(&args(&path)).await.expect_err("garbage");
        assert_eq!(err.code, crate::error::exit::USAGE);
        assert!(err.message.contains("garbage.yaml"), "{}", err.message);
        assert!(
            err.message.contains("not a valid kubeconfig"),
            "{}",
            err.message
        );
    }

    #[tokio::test]
    async fn unknown_context_lists_the_existing_ones() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = file(&dir, "config", GOOD);
        let mut a = args(&path);
        a.context = Some("kind-missing".into());
        let err = connect(&a).await.expect_err("unknown context");
        assert_eq!(err.code, crate::error::exit::USAGE);
        assert!(err.message.contains("\"kind-missing\""), "{}", err.message);
        assert!(err.message.contains("kind-demo, other"), "{}", err.message);
    }

    #[tokio::test]
    async fn no_current_context_asks_for_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = file(
            &dir,
            "config",
            &GOOD.replace("current-context: kind-demo", ""),
        );
        let err = connect(&args(&path)).await.expect_err("no current context");
        assert_eq!(err.code, crate::error::exit::USAGE);
        assert!(err.message.contains("--context"), "{}", err.message);
    }

    #[tokio::test]
    async fn unreachable_server_is_cluster_error_quickly() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = file(&dir, "config", GOOD);
        let err = connect(&args(&path)).await.expect_err("unreachable");
        assert_eq!(err.code, crate::error::exit::CLUSTER, "{}", err.message);
        assert!(err.message.contains("127.0.0.1:1"), "{}", err.message);

        // The worst case of the "within 10 s" promise (docs/cli.md): a server that accepts
        // and never answers. On paused time the runtime jumps to the next timer whenever it
        // waits, so the time taken is what connect's own deadlines allow, not the machine's
        // load. (Paused only now: a refusal, above, must arrive before any timer.)
        let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = silent.local_addr().expect("addr").port();
        let path = file(
            &dir,
            "silent",
            &GOOD.replace("127.0.0.1:1", &format!("127.0.0.1:{port}")),
        );
        tokio::time::pause();
        let started = tokio::time::Instant::now();
        let err = connect(&args(&path)).await.expect_err("silent");
        assert_eq!(err.code, crate::error::exit::CLUSTER, "{}", err.message);
        assert!(
            started.elapsed() <= CONNECT_DEADLINE,
            "{:?}: {}",
            started.elapsed(),
            err.message
        );
        drop(silent);
    }

    #[test]
    fn kubeconfig_env_merges_first_wins_and_skips_missing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = file(&dir, "a", GOOD);
        let b = file(
            &dir,
            "b",
            &GOOD
                .replace("current-context: kind-demo", "current-context: other")
                .replace("name: other", "name: third"),
        );
        let missing = dir.path().join("missing");
        let env = std::env::join_paths([missing, a, b]).expect("join paths");
        let loaded = load_kubeconfig(None, Some(env), None).expect("loads");
        // The first file to set current-context wins.
        assert_eq!(pick_context(&loaded, None).expect("ctx"), "kind-demo");
        assert_eq!(pick_context(&loaded, Some("third")).expect("ctx"), "third");
    }

    #[test]
    fn kubeconfig_env_with_only_missing_files_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let env = std::env::join_paths([dir.path().join("x")]).expect("join");
        let err = load_kubeconfig(None, Some(env), None).expect_err("none exist");
        assert_eq!(err.code, crate::error::exit::USAGE);
        assert!(err.message.contains("KUBECONFIG"), "{}", err.message);
    }

    #[test]
    fn default_path_is_home_kube_config() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = load_kubeconfig(None, None, Some(dir.path().to_path_buf()))
            .expect_err("no ~/.kube/config");
        assert!(err.message.contains(".kube/config"), "{}", err.message);
        std::fs::create_dir_all(dir.path().join(".kube")).expect("mkdir");
        file(&dir, ".kube/config", GOOD);
        let loaded = load_kubeconfig(None, None, Some(dir.path().to_path_buf())).expect("loads");
        assert_eq!(pick_context(&loaded, None).expect("ctx"), "kind-demo");
    }
}
