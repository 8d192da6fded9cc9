//! The write guard: kindscope changes only local Kind clusters unless told otherwise.
//!
//! A context may be written when it is a Kind one (named `kind-*` AND its server is on a
//! loopback address), when it is in the configured allow-list, or with `--allow-write`.
//! `--read-only` forbids every write.

use super::connect::Connection;
use crate::cli::WriteArgs;

/// Whether, and why, writes are allowed (shown by the dashboard).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    /// No writes: `--read-only`, or the context is not a Kind one and was not allowed.
    ReadOnly,
    /// A local Kind cluster (`kind-*` context on a loopback server).
    Kind,
    /// Allowed explicitly: `--allow-write` or the context is in the allow-list.
    Allowed,
}

impl WriteMode {
    pub fn label(self) -> &'static str {
        match self {
            WriteMode::ReadOnly => "read-only",
            WriteMode::Kind => "kind",
            WriteMode::Allowed => "writes allowed",
        }
    }
}

/// May kindscope write through `conn`? `Err` is the refusal sentence for the user.
pub fn check_write(
    conn: &Connection,
    write: &WriteArgs,
    allowed_contexts: &[String],
) -> Result<WriteMode, String> {
    check(&conn.context, &conn.server, write, allowed_contexts)
}

/// The same decision from a context name and server URL alone, before any connection exists:
/// `fix` asks it before its first request, so a refused context is never contacted (not even
/// a DNS lookup of its server).
pub fn check_target(
    context: &str,
    server: &str,
    write: &WriteArgs,
    allowed_contexts: &[String],
) -> Result<WriteMode, String> {
    check(context, server, write, allowed_contexts)
}

/// `kindscope load` writes to a Kind cluster's node containers through `kind load` (never
/// through an API server, and a Kind cluster is local by construction): only `--read-only`
/// refuses it.
pub fn check_load(write: &WriteArgs, cluster: &str) -> Result<(), String> {
    if write.read_only {
        return Err(format!(
            "writes are disabled by --read-only, so no image was loaded into Kind cluster \
             \"{cluster}\"; run without --read-only to load it"
        ));
    }
    Ok(())
}

/// The mode to display: the allowed mode, or `ReadOnly` when writes are refused.
pub fn mode(conn: &Connection, write: &WriteArgs, allowed_contexts: &[String]) -> WriteMode {
    check_write(conn, write, allowed_contexts).unwrap_or(WriteMode::ReadOnly)
}

fn check(
    context: &str,
    server: &str,
    write: &WriteArgs,
    allowed_contexts: &[String],
) -> Result<WriteMode, String> {
    if write.read_only {
        return Err(format!(
            "writes are disabled by --read-only, so nothing was changed on context \"{context}\"; \
             run without --read-only to apply fixes"
        ));
    }
    if write.allow_write || allowed_contexts.iter().any(|c| c == context) {
        return Ok(WriteMode::Allowed);
    }
    if is_kind_context(context, server) {
        return Ok(WriteMode::Kind);
    }
    Err(format!(
        "context \"{context}\" (server {server}) is not a local Kind cluster, so kindscope will \
         not change it; pass --allow-write to allow writes on this context"
    ))
}

/// `kind-*` context name and a loopback API server, as `kind create cluster` writes them.
pub fn is_kind_context(context: &str, server: &str) -> bool {
    super::kind::is_kind_cluster(context, server)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NONE: WriteArgs = WriteArgs {
        allow_write: false,
        read_only: false,
    };

    #[test]
    fn kind_context_on_loopback_is_writable() {
        for server in [
            "https://127.0.0.1:43211",
            "https://127.3.2.1:6443",
            "https://[::1]:6443",
            "https://localhost:6443",
            "http://LOCALHOST:80",
        ] {
            assert_eq!(
                check("kind-gateway-debug", server, &NONE, &[]),
                Ok(WriteMode::Kind),
                "{server}"
            );
        }
    }

    #[test]
    fn kind_name_alone_or_loopback_alone_is_not_enough() {
        let err = check("kind-prod", "https://10.0.0.5:6443", &NONE, &[]).expect_err("remote");
        assert!(err.contains("--allow-write"), "{err}");
        assert!(err.contains("kind-prod"), "{err}");
        assert!(check("minikube", "https://127.0.0.1:8443", &NONE, &[]).is_err());
        assert!(check("kind-x", "https://localhost.evil.com:6443", &NONE, &[]).is_err());
        assert!(check("kind-x", "not a url", &NONE, &[]).is_err());
    }

    #[test]
    fn allow_write_and_allow_list_permit_any_context() {
        let allow = WriteArgs {
            allow_write: true,
            read_only: false,
        };
        assert_eq!(
            check("prod", "https://10.0.0.5:6443", &allow, &[]),
            Ok(WriteMode::Allowed)
        );
        let list = vec!["staging".to_string()];
        assert_eq!(
            check("staging", "https://10.0.0.5:6443", &NONE, &list),
            Ok(WriteMode::Allowed)
        );
        assert!(check("prod", "https://10.0.0.5:6443", &NONE, &list).is_err());
    }

    #[test]
    fn read_only_forbids_even_kind() {
        let ro = WriteArgs {
            allow_write: false,
            read_only: true,
        };
        let err = check("kind-x", "https://127.0.0.1:1", &ro, &[]).expect_err("read-only");
        assert!(err.contains("--read-only"), "{err}");
        let err = check_load(&ro, "dev").expect_err("read-only load");
        assert!(err.contains("--read-only") && err.contains("dev"), "{err}");
        assert_eq!(check_load(&NONE, "dev"), Ok(()));
    }
}
