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

use std::time::{Duration, Instant};

#[path = "common/http.rs"]
mod http;
use http::{Res, authority, request};

const LISTS: [&str; 5] = [
    "/api/v1/nodes",
    "/api/v1/pods",
    "/apis/apps/v1/deployments",
    "/apis/apps/v1/replicasets",
    "/api/v1/events",
];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("fetch") if args.len() >= 2 => fetch_cmd(&args[1], arg(&args, 2, 5)),
        Some("settle") if args.len() >= 4 => {
            settle_cmd(&args[1], arg(&args, 2, 0), arg(&args, 3, 300))
        }
        Some("patch") if args.len() == 6 => {
            http::patch_label(&args[1], &args[2], &args[3], &args[4], &args[5])
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
