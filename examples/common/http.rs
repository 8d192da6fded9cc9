//! Plain HTTP/1.1 over `std::net` for the bench examples (no client library in the figures).
//! The sim runs with `--plain-http` for them; its bearer token comes from the environment
//! (`KINDSCOPE_SIM_TOKEN`, which bench/bench.py reads from the sim's kubeconfig).
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Instant;

pub type Res<T> = Result<T, String>;

/// `http://127.0.0.1:PORT` → `127.0.0.1:PORT`.
pub fn authority(url: &str) -> Res<String> {
    url.strip_prefix("http://")
        .map(|s| s.trim_end_matches('/').to_string())
        .ok_or_else(|| format!("{url}: expected http://HOST:PORT"))
}

/// One request on a fresh connection; returns (status, body), de-chunked.
pub fn request(
    addr: &str,
    method: &str,
    path: &str,
    ctype: &str,
    body: &[u8],
) -> Res<(u16, Vec<u8>)> {
    let mut s = TcpStream::connect(addr).map_err(|e| format!("connect {addr}: {e}"))?;
    let auth = std::env::var("KINDSCOPE_SIM_TOKEN")
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Accept: application/json\r\n\
         Content-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes())
        .and_then(|_| s.write_all(body))
        .map_err(|e| format!("send {path}: {e}"))?;
    let mut raw = Vec::with_capacity(1 << 20);
    s.read_to_end(&mut raw)
        .map_err(|e| format!("read {path}: {e}"))?;
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("{path}: no HTTP header"))?;
    let headers = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
    let status = headers
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("{path}: no status"))?;
    let body = &raw[end + 4..];
    let body = if headers.contains("transfer-encoding: chunked") {
        dechunk(body)?
    } else {
        body.to_vec()
    };
    Ok((status, body))
}

fn dechunk(mut b: &[u8]) -> Res<Vec<u8>> {
    let mut out = Vec::with_capacity(b.len());
    loop {
        let nl = b
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("bad chunk header")?;
        let size_text = String::from_utf8_lossy(&b[..nl]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| "bad chunk size")?;
        b = &b[nl + 2..];
        if size == 0 {
            return Ok(out);
        }
        let chunk = b.get(..size).ok_or("short chunk")?;
        out.extend_from_slice(chunk);
        b = b.get(size + 2..).ok_or("short chunk")?;
    }
}

/// Merge-patch a label onto a pod; returns the request's round trip in ms.
pub fn patch_label(url: &str, ns: &str, pod: &str, label: &str, value: &str) -> Res<f64> {
    let addr = authority(url)?;
    let body = serde_json::json!({"metadata": {"labels": {label: value}}}).to_string();
    let path = format!("/api/v1/namespaces/{ns}/pods/{pod}");
    let started = Instant::now();
    let (status, answer) = request(
        &addr,
        "PATCH",
        &path,
        "application/merge-patch+json",
        body.as_bytes(),
    )?;
    if status != 200 {
        return Err(format!(
            "patch {path}: HTTP {status}: {}",
            String::from_utf8_lossy(&answer)
        ));
    }
    Ok(started.elapsed().as_secs_f64() * 1000.0)
}
