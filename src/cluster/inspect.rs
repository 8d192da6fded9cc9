//! Reading one object or one container's log for the dashboard's views: `GET` an object (its
//! YAML without `managedFields`) and `GET …/pods/NAME/log` (bounded, split into lines).
//!
//! What comes back is cluster data: the log is cut into lines of at most [`MAX_LINE_BYTES`]
//! (the rest of a longer line is dropped) and the caller escapes every line before drawing.

use std::time::Duration;

use futures::io::AsyncReadExt;
use futures::{Stream, StreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::Client;
use kube::api::{Api, LogParams};
use serde::Serialize;

use super::connect::describe_kube_error;

/// Upper bound for fetching one object.
pub const GET_TIMEOUT: Duration = Duration::from_secs(10);
/// Bytes of one log line kept.
pub const MAX_LINE_BYTES: usize = 8 * 1024;

/// Which object to read (the kinds the dashboard shows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Pod,
    Deployment,
    Node,
}

/// The object as the server has it, as YAML, `metadata.managedFields` left out.
pub async fn yaml(
    client: &Client,
    kind: Kind,
    namespace: &str,
    name: &str,
) -> Result<String, String> {
    let got = tokio::time::timeout(GET_TIMEOUT, async {
        match kind {
            Kind::Pod => value(
                Api::<Pod>::namespaced(client.clone(), namespace)
                    .get(name)
                    .await,
            ),
            Kind::Deployment => value(
                Api::<Deployment>::namespaced(client.clone(), namespace)
                    .get(name)
                    .await,
            ),
            Kind::Node => value(Api::<Node>::all(client.clone()).get(name).await),
        }
    })
    .await
    .map_err(|_| {
        format!(
            "the API server did not answer within {} s",
            GET_TIMEOUT.as_secs()
        )
    })??;
    render_yaml(got)
}

/// YAML of an object without `metadata.managedFields` (bookkeeping of server-side apply that
/// `kubectl get -o yaml` also leaves out unless given `--show-managed-fields`).
fn render_yaml(mut obj: serde_json::Value) -> Result<String, String> {
    if let Some(meta) = obj.get_mut("metadata").and_then(|m| m.as_object_mut()) {
        meta.remove("managedFields");
    }
    serde_saphyr::to_string(&obj).map_err(|e| format!("cannot write the object as YAML: {e}"))
}

fn value<K: Serialize>(got: Result<K, kube::Error>) -> Result<serde_json::Value, String> {
    let obj = got.map_err(|e| api_error(&e))?;
    serde_json::to_value(obj).map_err(|e| e.to_string())
}

/// The server's sentence for a refused request (`container "x" in pod "y" is waiting to
/// start: ContainerCreating`, with the HTTP status).
fn api_error(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) => format!("{} (HTTP {} {})", s.message, s.code, s.reason),
        other => describe_kube_error(other),
    }
}

/// What to ask `…/log` for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogQuery {
    pub namespace: String,
    pub pod: String,
    pub container: String,
    pub previous: bool,
    pub follow: bool,
    pub tail_lines: i64,
    /// Bytes at most (`limitBytes`); applies to a followed stream as a whole too.
    pub limit_bytes: Option<i64>,
}

/// A container's log as batches of lines (whatever arrived together), then the end of the
/// stream; a refused request is one `Err` with the server's sentence.
pub fn log_lines(
    client: &Client,
    q: LogQuery,
) -> impl Stream<Item = Result<Vec<String>, String>> + use<> {
    let api = Api::<Pod>::namespaced(client.clone(), &q.namespace);
    let params = LogParams {
        container: Some(q.container.clone()),
        follow: q.follow,
        previous: q.previous,
        tail_lines: Some(q.tail_lines),
        limit_bytes: q.limit_bytes,
        ..LogParams::default()
    };
    let pod = q.pod.clone();
    futures::stream::once(async move {
        let opened = tokio::time::timeout(GET_TIMEOUT, api.log_stream(&pod, &params)).await;
        match opened {
            Err(_) => Err(format!(
                "the API server did not answer within {} s",
                GET_TIMEOUT.as_secs()
            )),
            Ok(Err(e)) => Err(api_error(&e)),
            Ok(Ok(reader)) => Ok(reader),
        }
    })
    .flat_map(|opened| match opened {
        Err(e) => futures::stream::iter(vec![Err(e)]).left_stream(),
        Ok(reader) => split(Box::pin(reader)).right_stream(),
    })
}

/// Bytes → lines, each at most [`MAX_LINE_BYTES`], in the batches the reads deliver.
fn split(
    reader: std::pin::Pin<Box<dyn futures::AsyncBufRead + Send>>,
) -> impl Stream<Item = Result<Vec<String>, String>> {
    struct State {
        reader: std::pin::Pin<Box<dyn futures::AsyncBufRead + Send>>,
        partial: Vec<u8>,
        /// The current line is over the bound: drop bytes until its end.
        skipping: bool,
        done: bool,
    }
    let state = State {
        reader,
        partial: Vec::new(),
        skipping: false,
        done: false,
    };
    futures::stream::unfold(state, |mut st| async move {
        if st.done {
            return None;
        }
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match st.reader.read(&mut buf).await {
                Ok(n) => n,
                Err(e) => {
                    st.done = true;
                    return Some((Err(format!("the log stream broke: {e}")), st));
                }
            };
            if n == 0 {
                st.done = true;
                let last = std::mem::take(&mut st.partial);
                let lines = if last.is_empty() {
                    Vec::new()
                } else {
                    vec![String::from_utf8_lossy(&last).into_owned()]
                };
                return Some((Ok(lines), st));
            }
            let mut lines = Vec::new();
            for &b in &buf[..n] {
                if b == b'\n' {
                    let line = std::mem::take(&mut st.partial);
                    lines.push(String::from_utf8_lossy(&line).into_owned());
                    st.skipping = false;
                } else if st.skipping {
                } else if st.partial.len() < MAX_LINE_BYTES {
                    st.partial.push(b);
                } else {
                    st.skipping = true;
                }
            }
            if !lines.is_empty() {
                return Some((Ok(lines), st));
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_hides_managed_fields_only() {
        // The shape `kubectl get deployment -o json --show-managed-fields` prints.
        let obj = serde_json::json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "gateway", "namespace": "default", "resourceVersion": "1042",
                "managedFields": [{"apiVersion": "apps/v1", "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:spec": {"f:replicas": {}}}, "manager": "kubectl-client-side-apply",
                    "operation": "Update", "time": "2026-12-02T00:00:00Z"}]},
            "spec": {"replicas": 1}
        });
        let text = render_yaml(obj).expect("yaml");
        assert!(!text.contains("managedFields"), "{text}");
        assert!(!text.contains("kubectl-client-side-apply"), "{text}");
        assert!(text.contains("resourceVersion: \"1042\""), "{text}");
        assert!(text.contains("replicas: 1"), "{text}");
    }

    #[tokio::test]
    async fn lines_are_split_and_bounded() {
        let long = "x".repeat(MAX_LINE_BYTES * 3);
        let text = format!("one\ntwo\n{long}\nlast");
        let reader = futures::io::Cursor::new(text.into_bytes());
        let batches: Vec<Vec<String>> = split(Box::pin(reader))
            .map(|b| b.expect("no error"))
            .collect()
            .await;
        let lines: Vec<String> = batches.into_iter().flatten().collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0], "one");
        assert_eq!(lines[2].len(), MAX_LINE_BYTES);
        assert_eq!(lines[3], "last");
    }
}
