//! The cluster read once, for commands that judge one moment (`diagnose`, `check`): the five
//! lists the feed would list first, without its watches.
//!
//! The feed lists through kube's watcher, which reads each page whole, decodes it, and only
//! then asks for the next one. Here the five lists run concurrently, each page is decoded item
//! by item while it arrives ([`ListSplitter`]), trimmed at once by the feed's own `keep`
//! functions, and the next page is asked for as soon as this page's `continue` token has been
//! read (the list's metadata precedes its items), so the server prepares it while this one is
//! decoded. What the snapshot says is the feed's: the same per-resource states
//! ([`Shared::update`]), the same readiness and errors ([`readiness`], [`timeout_result`]),
//! the same filters, the same node images ([`assemble_node_images`]).

use std::sync::Arc;
use std::time::Duration;

use futures::{AsyncBufRead, AsyncBufReadExt};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{Event, Node, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ListMeta;
use kube::Resource;
use kube::api::ListParams;
use kube::runtime::watcher;
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::connect::Connection;
use super::feed_state::{
    Readiness, Shared, Step, forbidden_error, is_gone, readiness, timeout_result,
};
use super::list_split::{ListSplitter, Piece, SplitError};
use super::retry::Retry;
use super::runtime_feed::{RuntimeLists, assemble_node_images};
use super::watch::{Events, PAGE_SIZE, event_filter, keep};
use crate::error::CliError;
use crate::model::{ObjectList, Resource as Watched, Snapshot};

/// A finished list, put into the snapshot being assembled.
type Put = Box<dyn FnOnce(&mut Snapshot) + Send>;

/// Every required list (and events, unless they are forbidden or late), as the feed's first
/// complete snapshot would hold them; node images from the API only ([`with_runtime_images`]
/// adds the runtime's). Waits at most `timeout`, with the feed's errors.
pub async fn read(
    conn: &Connection,
    events: Events,
    timeout: Duration,
) -> Result<Arc<Snapshot>, CliError> {
    read_paged(conn, events, timeout, PAGE_SIZE).await
}

/// [`read`] with pages of `page` objects (tests force paging with small pages).
pub async fn read_paged(
    conn: &Connection,
    events: Events,
    timeout: Duration,
    page: u32,
) -> Result<Arc<Snapshot>, CliError> {
    let shared = Arc::new(Shared::default());
    let (tx, mut rx) = mpsc::unbounded_channel::<Put>();
    let ns = conn.namespace.as_deref();
    let (event_fields, keep_event) = event_filter(events);
    let lister = Lister {
        client: conn.client.clone(),
        page,
        shared: shared.clone(),
        tx,
    };
    let _tasks = Tasks(vec![
        lister.spawn::<Node>(Watched::Nodes, None, None, keep, |s, v| s.nodes = v),
        lister.spawn::<Pod>(Watched::Pods, ns, None, keep, |s, v| s.pods = v),
        lister.spawn::<Deployment>(Watched::Deployments, ns, None, keep, |s, v| {
            s.deployments = v;
        }),
        lister.spawn::<ReplicaSet>(Watched::ReplicaSets, ns, None, keep, |s, v| {
            s.replicasets = v;
        }),
        lister.spawn::<Event>(Watched::Events, ns, event_fields, keep_event, |s, v| {
            s.events = v;
        }),
    ]);
    drop(lister);
    let mut snap = Snapshot {
        context: conn.context.clone(),
        server: conn.server.clone(),
        namespace: conn.namespace.clone(),
        ..Snapshot::default()
    };
    let deadline = tokio::time::Instant::now() + timeout;
    let mut ended = false;
    loop {
        // States first: a list whose state says listed was sent before it, so it is drained.
        let capture = shared.capture();
        while let Ok(put) = rx.try_recv() {
            put(&mut snap);
        }
        snap.resources = capture.states;
        match readiness(&snap, &capture.listed) {
            Readiness::Ready => break,
            Readiness::Forbidden(name, reason) => {
                return Err(forbidden_error(&snap.context, name, &reason));
            }
            Readiness::Waiting if ended => {
                return Err(CliError::cluster("the cluster lists stopped unexpectedly"));
            }
            Readiness::Waiting => {}
        }
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(put)) => put(&mut snap),
            // Every lister has ended. The messages drained above may be newer than the capture
            // they were judged by (a lister's last state and message landing between the two):
            // judge once more, by the final states, before calling it a failure.
            Ok(None) => ended = true,
            Err(_) => {
                let snap = Arc::new(with_images(snap, None));
                return timeout_result(&snap, &capture.listed, timeout);
            }
        }
    }
    Ok(Arc::new(with_images(snap, None)))
}

/// The snapshot with the runtime's node image lists merged in, as the feed merges them.
pub fn with_runtime_images(snap: &Snapshot, lists: &RuntimeLists) -> Arc<Snapshot> {
    Arc::new(with_images(snap.clone(), Some(lists)))
}

fn with_images(mut snap: Snapshot, runtime: Option<&RuntimeLists>) -> Snapshot {
    snap.node_images = Arc::new(assemble_node_images(&snap.nodes, runtime));
    snap
}

/// Stops the listers when the read ends early (an error or the timeout).
struct Tasks(Vec<JoinHandle<()>>);

impl Drop for Tasks {
    fn drop(&mut self) {
        for t in &self.0 {
            t.abort();
        }
    }
}

struct Lister {
    client: kube::Client,
    page: u32,
    shared: Arc<Shared>,
    tx: mpsc::UnboundedSender<Put>,
}

impl Lister {
    /// List one resource until it is listed or forbidden, retrying other errors as the
    /// feed's watcher does (the read's deadline ends it).
    fn spawn<K>(
        &self,
        name: Watched,
        ns: Option<&str>,
        fields: Option<String>,
        keep: fn(&mut K) -> bool,
        put: fn(&mut Snapshot, ObjectList<K>),
    ) -> JoinHandle<()>
    where
        K: Resource
            + k8s_openapi::Metadata<Ty = kube::api::ObjectMeta>
            + DeserializeOwned
            + Send
            + Sync
            + 'static,
        K::DynamicType: Default,
    {
        let path = K::url_path(&K::DynamicType::default(), ns);
        let pages = Pages {
            client: self.client.clone(),
            path,
            fields,
            limit: self.page,
        };
        let shared = self.shared.clone();
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let mut retry = Retry::new(name.as_str().len() as u64 ^ u64::from(std::process::id()));
            shared.update(name, Step::Init);
            loop {
                match pages.list_all(keep).await {
                    Ok(items) => {
                        // The list before its state (see the reader's loop).
                        let _ = tx.send(Box::new(move |s| put(s, items)));
                        shared.update(name, Step::InitDone);
                        let _ = tx.send(Box::new(|_| {}));
                        return;
                    }
                    Err(e) => {
                        let e = watcher::Error::InitialListFailed(e);
                        shared.update(name, Step::Error(&e));
                        let _ = tx.send(Box::new(|_| {}));
                        if matches!(&e, watcher::Error::InitialListFailed(kube::Error::Api(s)) if s.code == 403)
                        {
                            return;
                        }
                        tokio::time::sleep(retry.after_error(is_gone(&e))).await;
                    }
                }
            }
        })
    }
}

/// The pages of one list.
#[derive(Clone)]
struct Pages {
    client: kube::Client,
    path: String,
    fields: Option<String>,
    limit: u32,
}

type Body = std::pin::Pin<Box<dyn AsyncBufRead + Send>>;

impl Pages {
    /// Ask for one page now; the answer is awaited later.
    fn request(&self, token: Option<String>) -> JoinHandle<Result<Body, kube::Error>> {
        let params = ListParams {
            field_selector: self.fields.clone(),
            limit: Some(self.limit),
            continue_token: token,
            ..ListParams::default()
        };
        let request = kube::core::Request::new(self.path.clone()).list(&params);
        let client = self.client.clone();
        tokio::spawn(async move {
            let request = request.map_err(kube::Error::BuildRequest)?;
            let body = client.request_stream(request).await?;
            Ok(Box::pin(body) as Body)
        })
    }

    /// Every object of the list, each kept or dropped by `keep` as it is decoded.
    async fn list_all<K>(&self, keep: fn(&mut K) -> bool) -> Result<ObjectList<K>, kube::Error>
    where
        K: Resource + k8s_openapi::Metadata<Ty = kube::api::ObjectMeta> + DeserializeOwned,
    {
        let mut items = ObjectList::new();
        let mut next = Some(self.request(None));
        while let Some(page) = next.take() {
            let mut body = page
                .await
                .map_err(|e| kube::Error::Service(Box::new(e)))??;
            let mut split = ListSplitter::default();
            loop {
                let chunk = body.fill_buf().await.map_err(kube::Error::ReadEvents)?;
                if chunk.is_empty() {
                    break;
                }
                let n = chunk.len();
                split
                    .feed(chunk, &mut |piece| match piece {
                        Piece::Meta(bytes) => {
                            let meta: ListMeta = serde_json::from_slice(bytes)?;
                            if let Some(token) = meta.continue_.filter(|c| !c.is_empty()) {
                                next = Some(self.request(Some(token)));
                            }
                            Ok(())
                        }
                        Piece::Item(bytes) => {
                            let mut obj: K = serde_json::from_slice(bytes)?;
                            if keep(&mut obj) {
                                items.insert(Arc::new(obj));
                            }
                            Ok(())
                        }
                    })
                    .map_err(split_error)?;
                body.as_mut().consume(n);
            }
            split.finish().map_err(split_error)?;
        }
        // Kept in the feed's order, (namespace, name), whatever the apiserver's (by storage
        // key, `namespace/name`, which differs where a namespace is a prefix of another).
        Ok(items)
    }
}

fn split_error(e: SplitError<serde_json::Error>) -> kube::Error {
    match e {
        SplitError::Callback(e) => kube::Error::SerdeError(e),
        SplitError::Malformed(m) => {
            kube::Error::SerdeError(<serde_json::Error as serde::de::Error>::custom(m))
        }
    }
}

#[cfg(test)]
mod send_checks {
    use super::*;

    fn is_send<T: Send>(_: &T) {}

    #[allow(dead_code)]
    fn futures_are_send(conn: &Connection) {
        is_send(&read(conn, Events::Evidence, Duration::ZERO));
    }
}
