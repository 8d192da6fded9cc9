//! A minimal HTTP client for `bench/run.sh` (not part of kindscope; built with
//! `cargo build --release --examples`).
//!
//! * `bench_client fetch URL [REPS]` — fetch the five lists `kindscope diagnose` reads (nodes,
//!   pods, deployments, replicasets, events; whole lists, concurrently, `Accept:
//!   application/json` as kube sends it) REPS times; print the median wall time and the body
//!   bytes as one JSON line. This is the floor any client of the same lists pays.
//! * `bench_client settle URL PODS TIMEOUT_S` — wait until the cluster holds at least PODS pods
//!   and none is still being created; print how long that took as one JSON line.
//! * `bench_client patch URL NS POD LABEL VALUE` — merge-patch one label onto a pod.
//!
//! Plain `std::net` on purpose: no client library overhead in the floor.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const LISTS: [&str; 5] = [
    "/api/v1/nodes",
    "/api/v1/pods",
    "/apis/apps/v1/deployments",
    "/apis/apps/v1/replicasets",
    "/api/v1/events",
];

type Res<T> = Result<T, String>;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("fetch") if args.len() >= 2 => fetch_cmd(&args[1], arg(&args, 2, 5)),
        Some("settle") if args.len() >= 4 => {
            settle_cmd(&args[1], arg(&args, 2, 0), arg(&args, 3, 300))
        }
        Some("patch") if args.len() == 6 => {
            patch_label(&args[1], &args[2], &args[3], &args[4], &args[5])
                .map(|ms| println!("{{\"ms\":{ms:.3}}}"))
        }
        _ => Err(
            "usage: bench_client fetch URL [REPS] | settle URL PODS TIMEOUT_S | \
                  patch URL NS POD LABEL VALUE"
                .to_string(),
        ),
    };
    if let Err(e) = result {
        eprintln!("bench_client: {e}");
        std::process::exit(1);
    }
}

fn arg(args: &[String], i: usize, default: usize) -> usize {
    args.get(i).and_then(|s| s.parse().ok()).unwrap_or(default)
}

/// `http://127.0.0.1:PORT` → `127.0.0.1:PORT`.
fn authority(url: &str) -> Res<String> {
    url.strip_prefix("http://")
        .map(|s| s.trim_end_matches('/').to_string())
        .ok_or_else(|| format!("{url}: expected http://HOST:PORT"))
}

/// One request on a fresh connection; returns (status, body), de-chunked.
fn request(addr: &str, method: &str, path: &str, ctype: &str, body: &[u8]) -> Res<(u16, Vec<u8>)> {
    let mut s = TcpStream::connect(addr).map_err(|e| format!("connect {addr}: {e}"))?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: application/json\r\n\
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

/// Fetch the five lists concurrently; (wall time, body bytes).
fn fetch_all(addr: &str) -> Res<(Duration, usize)> {
    let started = Instant::now();
    let handles: Vec<_> = LISTS
        .iter()
        .map(|path| {
            let addr = addr.to_string();
            std::thread::spawn(move || request(&addr, "GET", path, "application/json", b""))
        })
        .collect();
    let mut bytes = 0;
    for h in handles {
        let (status, body) = h.join().map_err(|_| "fetch thread panicked")??;
        if status != 200 {
            return Err(format!("list answered HTTP {status}"));
        }
        bytes += body.len();
    }
    Ok((started.elapsed(), bytes))
}

fn fetch_cmd(url: &str, reps: usize) -> Res<()> {
    let addr = authority(url)?;
    let mut times = Vec::new();
    let mut bytes = 0;
    for _ in 0..reps.max(1) {
        let (t, b) = fetch_all(&addr)?;
        times.push(t.as_secs_f64() * 1000.0);
        bytes = b;
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    println!(
        "{{\"ms\":{median:.3},\"bytes\":{bytes},\"runs\":{:?}}}",
        times
    );
    Ok(())
}

/// (pods that left ContainerCreating/PodInitializing, all pods).
fn settled(addr: &str) -> Res<(usize, usize)> {
    let (status, body) = request(addr, "GET", "/api/v1/pods", "application/json", b"")?;
    if status != 200 {
        return Err(format!("pods answered HTTP {status}"));
    }
    let list: serde_json::Value =
        serde_json::from_slice(&body).map_err(|e| format!("pods list: {e}"))?;
    let pods = list["items"].as_array().cloned().unwrap_or_default();
    let done = pods
        .iter()
        .filter(|p| {
            p["status"]["containerStatuses"]
                .as_array()
                .is_some_and(|cs| {
                    cs.iter().all(|c| {
                        let r = c["state"]["waiting"]["reason"].as_str();
                        !matches!(r, Some("ContainerCreating" | "PodInitializing"))
                    })
                })
        })
        .count();
    Ok((done, pods.len()))
}

fn settle_cmd(url: &str, want: usize, timeout_s: usize) -> Res<()> {
    let addr = authority(url)?;
    let started = Instant::now();
    loop {
        let (done, total) = settled(&addr)?;
        if total >= want && done == total {
            println!(
                "{{\"s\":{:.3},\"pods\":{total}}}",
                started.elapsed().as_secs_f64()
            );
            return Ok(());
        }
        if started.elapsed() > Duration::from_secs(timeout_s as u64) {
            return Err(format!(
                "only {done} of {total} pods settled after {timeout_s} s"
            ));
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Merge-patch a label onto a pod; returns the request's round trip in ms.
fn patch_label(url: &str, ns: &str, pod: &str, label: &str, value: &str) -> Res<f64> {
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
