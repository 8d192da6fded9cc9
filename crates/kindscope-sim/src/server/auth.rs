//! Who may talk to the sim: it is a server on the user's machine, so a web page the user
//! opens must not reach it (docs/security.md, "The sim").
//!
//! 1. The `Host` header (and an `Origin`, when a browser sends one) must name the loopback
//!    interface: `127.0.0.1`, `localhost` or `[::1]`, with any port. Anything else is a 403
//!    Forbidden Status; this stops DNS rebinding (a page whose own name resolves to 127.0.0.1
//!    still sends its own name as `Host`). A request without `Host` is a 400.
//! 2. The client must authenticate, as on a Kind cluster: with a client certificate signed by
//!    the sim's CA (over TLS), or the sim's bearer token. Anything else is the apiserver's 401
//!    Unauthorized Status. The sim has no anonymous access (an apiserver started with
//!    `--anonymous-auth=false`), so even `/version` and `/healthz` need credentials.

use axum::extract::{ConnectInfo, Request};
use axum::http::header;
use axum::response::Response;

use super::listener::Peer;
use super::{AppState, error_response};
use crate::identity::ClientCert;
use crate::status::ApiError;

/// None when the request may proceed; else the error response to send.
pub(crate) fn refusal(st: &AppState, req: &Request) -> Option<Response> {
    let headers = req.headers();
    let host = headers
        .get(header::HOST)
        .map(|h| h.to_str().unwrap_or("\u{fffd}").to_string())
        .or_else(|| req.uri().authority().map(|a| a.to_string()));
    let Some(host) = host else {
        return Some(error_response(&ApiError::bad_request(
            "a Host header is required",
        )));
    };
    if !is_loopback_authority(&host) {
        return Some(forbidden_origin("host", &host));
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("\u{fffd}");
        let authority = origin.split_once("://").map(|(_, rest)| rest).unwrap_or("");
        if !is_loopback_authority(authority) {
            return Some(forbidden_origin("origin", origin));
        }
    }
    let peer = req.extensions().get::<ConnectInfo<Peer>>().map(|c| &c.0);
    if peer.is_some_and(|p| p.cert == ClientCert::Trusted) {
        return None;
    }
    if let Some(token) = bearer(req)
        && same(token.as_bytes(), st.identity.token().as_bytes())
    {
        return None;
    }
    if let Some(p) = peer {
        tracing::debug!(peer = %p.addr, cert = ?p.cert, "sim: unauthenticated request refused");
    }
    Some(error_response(&ApiError::new(
        401,
        "Unauthorized",
        "Unauthorized",
    )))
}

fn forbidden_origin(what: &str, value: &str) -> Response {
    // Bounded and quoted: the value is whatever a stranger sent.
    let shown: String = value.chars().take(100).collect();
    error_response(&ApiError::new(
        403,
        "Forbidden",
        format!(
            "{what} {shown:?} is not allowed: the simulated cluster only answers requests \
             addressed to 127.0.0.1 or localhost"
        ),
    ))
}

/// The token of an `Authorization: Bearer TOKEN` header.
fn bearer(req: &Request) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// Equality that takes the same time wherever the first difference is.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `127.0.0.1`, `localhost` or `[::1]`, each optionally with `:PORT`.
pub(crate) fn is_loopback_authority(authority: &str) -> bool {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        match rest.split_once(']') {
            Some((ip, tail)) => match tail.strip_prefix(':') {
                Some(port) => (ip, Some(port)),
                None if tail.is_empty() => (ip, None),
                None => return false,
            },
            None => return false,
        }
    } else {
        match authority.split_once(':') {
            Some((h, port)) => (h, Some(port)),
            None => (authority, None),
        }
    };
    let port_ok =
        port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    port_ok && (host == "127.0.0.1" || host == "::1" || host.eq_ignore_ascii_case("localhost"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_names_pass() {
        for ok in [
            "127.0.0.1",
            "127.0.0.1:6443",
            "localhost",
            "LOCALHOST:1",
            "[::1]",
            "[::1]:443",
        ] {
            assert!(is_loopback_authority(ok), "{ok}");
        }
        for bad in [
            "",
            "evil.example",
            "evil.example:6443",
            "127.0.0.1.evil.example",
            "localhost.evil.example:80",
            "127.0.0.2",
            "[::2]:80",
            "127.0.0.1:",
            "127.0.0.1:80:80",
            "127.0.0.1:http",
            "[::1]x",
            "user@127.0.0.1",
        ] {
            assert!(!is_loopback_authority(bad), "{bad}");
        }
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"abcd"));
        assert!(!same(b"", b"a"));
    }
}
