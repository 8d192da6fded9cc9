//! `:ctx NAME`: attaching the dashboard to another context of the kubeconfig without a
//! restart. Only contexts the write guard would let kindscope write to are offered — Kind
//! clusters (`kind-*` on a loopback server), plus `allowed_write_contexts`, or every context
//! with `--allow-write` — so `:ctx` never wanders onto a shared cluster by a typo.

use std::path::PathBuf;
use std::sync::Arc;

use crate::cli::{ConnectArgs, RuntimeChoice, WriteArgs};
use crate::cluster::connect::{self, Connection};
use crate::cluster::guard;
use crate::cluster::watch::Feed;
use crate::config::Config;
use crate::error::CliError;
use crate::tui::cluster_service::FeedSource;
use crate::tui::port::ContextInfo;

/// What the backend needs to attach to another context.
#[derive(Debug, Clone)]
pub struct Switcher {
    pub kubeconfig: Option<PathBuf>,
    pub runtime: Option<RuntimeChoice>,
    pub write: WriteArgs,
    pub config: Arc<Config>,
}

/// A connection to the new context, ready to replace the old one.
pub struct Attached {
    pub conn: Connection,
    pub source: FeedSource,
    pub feed: Feed,
    pub guard: Result<(), String>,
    pub info: ContextInfo,
}

impl Switcher {
    /// May `:ctx` go to this context? (`--read-only` narrows writes, not where to look.)
    fn eligible(&self, context: &str, server: &str) -> bool {
        let write = WriteArgs {
            read_only: false,
            ..self.write
        };
        guard::check_target(context, server, &write, &self.config.allowed_write_contexts).is_ok()
    }

    /// The contexts `:ctx` offers, in kubeconfig order (none when it cannot be read).
    pub fn choices(&self) -> Vec<String> {
        connect::context_servers(self.kubeconfig.as_deref())
            .unwrap_or_default()
            .into_iter()
            .filter(|(c, s)| self.eligible(c, s))
            .map(|(c, _)| c)
            .collect()
    }

    /// Connect to `context` (probing it as at start), with its feed and write guard.
    pub async fn attach(
        &self,
        context: &str,
        namespace: Option<String>,
    ) -> Result<Attached, String> {
        let args = ConnectArgs {
            kubeconfig: self.kubeconfig.clone(),
            context: Some(context.to_string()),
            namespace,
            runtime: self.runtime,
        };
        let conn = connect::connect_checked(&args, |c, s| {
            if self.eligible(c, s) {
                Ok(())
            } else {
                Err(CliError::usage(format!(
                    "context \"{c}\" (server {s}) is not a local Kind cluster, so :ctx does not \
                     switch to it; start kindscope with --allow-write to allow it"
                )))
            }
        })
        .await
        .map_err(|e| e.message)?;
        let (source, notice) = super::start::feed_source(self.runtime, &self.config, &conn).await;
        let checked = guard::check_write(&conn, &self.write, &self.config.allowed_write_contexts);
        let write = super::start::write_access(&checked, &self.write, &conn);
        let feed = source.start(&conn);
        Ok(Attached {
            info: ContextInfo {
                context: conn.context.clone(),
                server: conn.server.clone(),
                write,
                notice,
            },
            guard: checked.map(|_| ()),
            conn,
            source,
            feed,
        })
    }
}
