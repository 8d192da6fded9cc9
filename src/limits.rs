//! The edge half of the size bounds (docs/security.md): a child's output and every HTTP
//! response body, bounded. The bounds themselves and the plain readers are the core's
//! (`kindscope_core::limits`), re-exported here so `crate::limits::X` names both halves.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

pub use kindscope_core::limits::*;

/// `child.wait_with_output()` with each stream bounded by [`COMMAND_OUTPUT_MAX`]: a child that
/// prints more is killed and the error says so.
pub async fn child_output(
    mut child: tokio::process::Child,
) -> std::io::Result<std::process::Output> {
    use tokio::io::AsyncReadExt;
    async fn drain(stream: Option<impl tokio::io::AsyncRead + Unpin>) -> std::io::Result<Vec<u8>> {
        let mut out = Vec::new();
        if let Some(s) = stream {
            s.take(COMMAND_OUTPUT_MAX as u64 + 1)
                .read_to_end(&mut out)
                .await?;
        }
        Ok(out)
    }
    let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
    let (stdout, stderr) = tokio::try_join!(drain(stdout), drain(stderr))?;
    if stdout.len() > COMMAND_OUTPUT_MAX || stderr.len() > COMMAND_OUTPUT_MAX {
        let _ = child.kill().await;
        return Err(std::io::Error::other(format!(
            "it printed more than {}, kindscope's bound for the output of one command",
            human(COMMAND_OUTPUT_MAX)
        )));
    }
    let status = child.wait().await?;
    Ok(std::process::Output {
        status,
        stdout,
        stderr,
    })
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The response body was larger than its bound.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TooLarge(String);

/// A client layer that bounds every response body: [`API_RESPONSE_MAX`] in total, or, for a
/// watch (which legitimately never ends), [`WATCH_EVENT_MAX`] per line.
#[derive(Debug, Clone, Copy, Default)]
pub struct BodyLimitLayer;

impl<S> tower::Layer<S> for BodyLimitLayer {
    type Service = BodyLimit<S>;
    fn layer(&self, inner: S) -> BodyLimit<S> {
        BodyLimit { inner }
    }
}

#[derive(Debug, Clone)]
pub struct BodyLimit<S> {
    inner: S,
}

impl<S, ReqBody, B> tower::Service<http::Request<ReqBody>> for BodyLimit<S>
where
    S: tower::Service<http::Request<ReqBody>, Response = http::Response<B>>,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = http::Response<LimitedBody<B>>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<ReqBody>) -> Self::Future {
        let watch = req
            .uri()
            .query()
            .is_some_and(|q| q.split('&').any(|kv| kv == "watch=true" || kv == "watch=1"));
        let path = req.uri().path().to_string();
        let fut = self.inner.call(req);
        Box::pin(async move {
            let res = fut.await?;
            Ok(res.map(|inner| LimitedBody {
                inner,
                path,
                watch,
                seen: 0,
                failed: false,
            }))
        })
    }
}

/// A response body that fails once it passes its bound.
pub struct LimitedBody<B> {
    inner: B,
    path: String,
    watch: bool,
    /// Bytes of the whole body, or of the current line of a watch.
    seen: usize,
    failed: bool,
}

impl<B> LimitedBody<B> {
    fn count(&mut self, data: &[u8]) -> Result<(), TooLarge> {
        if self.watch {
            match data.iter().rposition(|&b| b == b'\n') {
                Some(i) => self.seen = data.len() - i - 1,
                None => self.seen = self.seen.saturating_add(data.len()),
            }
            if self.seen > WATCH_EVENT_MAX {
                return Err(TooLarge(format!(
                    "one event of the watch on {} was larger than {}, kindscope's bound for one object",
                    self.path,
                    human(WATCH_EVENT_MAX)
                )));
            }
        } else {
            self.seen = self.seen.saturating_add(data.len());
            if self.seen > API_RESPONSE_MAX {
                return Err(TooLarge(format!(
                    "the response to {} was larger than {}, kindscope's bound for one API response",
                    self.path,
                    human(API_RESPONSE_MAX)
                )));
            }
        }
        Ok(())
    }
}

impl<B> Body for LimitedBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        if this.failed {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref()
                    && let Err(e) = this.count(data)
                {
                    this.failed = true;
                    return Poll::Ready(Some(Err(Box::new(e))));
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.failed || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[tokio::test]
    async fn a_command_printing_without_end_is_killed() {
        let Ok(child) = tokio::process::Command::new("yes")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
        else {
            panic!("`yes` (coreutils) is needed by this test");
        };
        let err = child_output(child).await.expect_err("endless output");
        assert!(err.to_string().contains("more than 128 MiB"), "{err}");
    }

    #[test]
    fn watch_bound_is_per_line_and_list_bound_is_total() {
        let mut watch = LimitedBody {
            inner: (),
            path: "/api/v1/pods".into(),
            watch: true,
            seen: 0,
            failed: false,
        };
        let line = vec![b'x'; WATCH_EVENT_MAX / 2];
        for _ in 0..8 {
            watch.count(&line).expect("half an event");
            watch.count(b"\n").expect("newline resets");
        }
        watch.count(&line).expect("half");
        watch.count(&line).expect("exactly the bound");
        let err = watch.count(b"x").expect_err("past the bound");
        assert!(err.0.contains("/api/v1/pods"), "{err}");

        let mut list = LimitedBody {
            watch: false,
            ..watch
        };
        list.seen = API_RESPONSE_MAX - 1;
        list.count(b"\n").expect("at the bound");
        assert!(list.count(b"\n").is_err());
        assert_eq!(human(API_RESPONSE_MAX), "128 MiB");
        assert_eq!(human(BUNDLE_JSON_MAX), "4 GiB");
        assert_eq!(bundle_json_cap(1 << 20), 200 << 20);
        assert_eq!(bundle_json_cap(10), BUNDLE_JSON_FLOOR);
        assert_eq!(bundle_json_cap(1 << 30), BUNDLE_JSON_MAX);
        let mut c = Capped::new(&[0u8; 10][..], 4);
        let mut buf = [0u8; 16];
        assert!(c.read(&mut buf).is_err() && c.exceeded());
    }
}
