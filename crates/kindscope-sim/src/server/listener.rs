//! The sim's listener: TCP on 127.0.0.1, with TLS by default. Handshakes run in their own
//! tasks (bounded in time) so one slow or silent client never holds up the others, and each
//! connection carries how its client certificate was judged ([`Peer`]).

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;

use crate::identity::{ClientCert, Identity};

/// A client that has not finished its TLS handshake by then is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Who is on the other end of a connection.
#[derive(Debug, Clone)]
pub(crate) struct Peer {
    pub addr: SocketAddr,
    pub cert: ClientCert,
}

impl Connected<IncomingStream<'_, SimListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, SimListener>) -> Self {
        stream.remote_addr().clone()
    }
}

/// One accepted connection, plain or TLS.
pub(crate) enum Io {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::server::TlsStream<TcpStream>>),
}

impl AsyncRead for Io {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Io {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Io::Plain(s) => s.is_write_vectored(),
            Io::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_flush(cx),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

type Accepted = (Io, Peer);

/// TCP (and TLS when given an identity's server configuration).
pub(crate) struct SimListener {
    tcp: TcpListener,
    tls: Option<(TlsAcceptor, Arc<Identity>)>,
    done_tx: mpsc::Sender<Accepted>,
    done_rx: mpsc::Receiver<Accepted>,
}

impl SimListener {
    pub fn new(
        tcp: TcpListener,
        tls: Option<(Arc<rustls::ServerConfig>, Arc<Identity>)>,
    ) -> SimListener {
        let (done_tx, done_rx) = mpsc::channel(64);
        SimListener {
            tcp,
            tls: tls.map(|(cfg, id)| (TlsAcceptor::from(cfg), id)),
            done_tx,
            done_rx,
        }
    }
}

/// Accept one TCP connection, riding out transient errors (too many open files) as axum's
/// own listener does.
async fn accept_tcp(tcp: &TcpListener) -> (TcpStream, SocketAddr) {
    loop {
        match tcp.accept().await {
            Ok((s, addr)) => {
                // Watch events are small writes that must go out at once: no Nagle delay.
                let _ = s.set_nodelay(true);
                return (s, addr);
            }
            Err(e) => {
                tracing::debug!(error = %e, "sim: accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

impl Listener for SimListener {
    type Io = Io;
    type Addr = Peer;

    async fn accept(&mut self) -> Accepted {
        let SimListener {
            tcp,
            tls,
            done_tx,
            done_rx,
        } = self;
        let Some((acceptor, identity)) = tls else {
            let (s, addr) = accept_tcp(tcp).await;
            return (
                Io::Plain(s),
                Peer {
                    addr,
                    cert: ClientCert::Absent,
                },
            );
        };
        loop {
            tokio::select! {
                Some(done) = done_rx.recv() => return done,
                (s, addr) = accept_tcp(tcp) => {
                    let (acceptor, identity, tx) =
                        (acceptor.clone(), identity.clone(), done_tx.clone());
                    tokio::spawn(async move {
                        let Ok(Ok(stream)) =
                            tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(s)).await
                        else {
                            return;
                        };
                        let cert = identity.judge(stream.get_ref().1.peer_certificates());
                        let _ = tx.send((Io::Tls(Box::new(stream)), Peer { addr, cert })).await;
                    });
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Peer> {
        Ok(Peer {
            addr: self.tcp.local_addr()?,
            cert: ClientCert::Absent,
        })
    }
}
