//! Bounded input: nothing an outside party sends may exhaust memory, hang or panic a command
//! (docs/security.md lists the bounds).

use std::io::{Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::support::{isolated, kindscope, last_sentence, one_sentence, start_sim, text};

/// [`isolated`] run to its end, with the peak resident memory of that one child in KiB
/// (from its own `wait4`: the process-wide `RUSAGE_CHILDREN` would also count the children of
/// every other test running in this process).
async fn kindscope_rss(args: &[&str], dir: &Path) -> (Output, i64) {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || {
        // Reaped below by wait4 itself (std's wait would not give this child's own usage).
        #[allow(clippy::zombie_processes)]
        let mut child = isolated(&args, &dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run kindscope");
        let drain = |mut r: Box<dyn Read + Send>| {
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let _ = r.read_to_end(&mut buf);
                buf
            })
        };
        let out = drain(Box::new(child.stdout.take().expect("stdout")));
        let err = drain(Box::new(child.stderr.take().expect("stderr")));
        let pid = libc::pid_t::try_from(child.id()).expect("pid");
        let mut status = 0;
        // SAFETY: wait4 only writes the status and the struct it is given; the child is ours
        // and reaped here (std's Child is not waited on afterwards).
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        assert_eq!(reaped, pid, "wait4: {}", std::io::Error::last_os_error());
        let output = Output {
            status: std::process::ExitStatus::from_raw(status),
            stdout: out.join().expect("stdout reader"),
            stderr: err.join().expect("stderr reader"),
        };
        (output, usage.ru_maxrss)
    })
    .await
    .expect("join")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_megabyte_image_is_diagnosed_without_a_panic() {
    let image = format!("team/{}:1", "a".repeat(1 << 20));
    let scenario = format!(
        r#"kind: Scenario
name: huge
nodes:
  - {{name: huge-control-plane, role: control-plane}}
  - {{name: huge-worker, role: worker}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: big, namespace: default, labels: {{app: big}}}}
spec:
  selector: {{matchLabels: {{app: big}}}}
  template:
    metadata: {{labels: {{app: big}}}}
    spec:
      containers:
        - {{name: big, image: "{image}"}}
"#
    );
    let sim = start_sim(&scenario).await;
    // Wait until the pod exists and has a verdict (before that, `diagnose` exits 4: pending).
    for args in [
        vec!["diagnose", "--wait", "30s"],
        vec!["diagnose"],
        vec!["diagnose", "--json"],
        vec!["fix", "--dry-run"],
    ] {
        let out = sim.run(&args).await;
        let err = text(&out.stderr);
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{args:?}: {:?} {err}",
            out.status
        );
        assert!(!err.contains("panicked"), "{err}");
    }
    // The image is shown (it is the finding), in one line of the table.
    let out = sim.run(&["diagnose"]).await;
    assert!(text(&out.stdout).contains(&image[..1000]));
    sim.sim.shutdown().await;
}

/// What the endless server streams without end.
#[derive(Clone, Copy)]
enum Endless {
    /// `/version` never ends.
    Version,
    /// `/version` answers; every list (and watch) never ends.
    Lists,
}

/// A tiny HTTP/1.1 server that answers like an API server until it does not.
async fn endless_server(mode: Endless) -> (String, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let task = tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = Vec::new();
                loop {
                    // One request head at a time (bodies are not expected: GETs only).
                    let mut chunk = [0u8; 4096];
                    let end = loop {
                        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            break i + 4;
                        }
                        match sock.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    };
                    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
                    buf.drain(..end);
                    let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
                    let endless = match mode {
                        Endless::Version => path.starts_with("/version"),
                        Endless::Lists => !path.starts_with("/version"),
                    };
                    if !endless {
                        let body = r#"{"major":"1","minor":"33","gitVersion":"v1.33.1"}"#;
                        let answer = format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                            body.len()
                        );
                        if sock.write_all(answer.as_bytes()).await.is_err() {
                            return;
                        }
                        continue;
                    }
                    let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
                    if sock.write_all(head.as_bytes()).await.is_err() {
                        return;
                    }
                    let start = b"{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{},\"items\":[\"";
                    let mut data = start.to_vec();
                    data.resize(1 << 16, b'a');
                    loop {
                        let mut frame = format!("{:x}\r\n", data.len()).into_bytes();
                        frame.extend_from_slice(&data);
                        frame.extend_from_slice(b"\r\n");
                        if sock.write_all(&frame).await.is_err() {
                            return;
                        }
                        data.fill(b'a');
                    }
                }
            });
        }
    });
    (url, task)
}

fn http_kubeconfig(dir: &std::path::Path, url: &str) -> std::path::PathBuf {
    let path = dir.join("kubeconfig");
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {{server: \"{url}\"}}\n\
         users:\n- name: u\n  user: {{token: t}}\ncontexts:\n- name: kind-endless\n  context: {{cluster: c, user: u}}\n\
         current-context: kind-endless\n"
    );
    std::fs::write(&path, text).expect("kubeconfig");
    path
}

async fn against_endless(mode: Endless) -> String {
    let (url, server) = endless_server(mode).await;
    let dir = tempfile::tempdir().expect("dir");
    let kc = http_kubeconfig(dir.path(), &url);
    let kc = kc.to_str().expect("utf8");
    let (out, rss) = tokio::time::timeout(
        Duration::from_secs(120),
        kindscope_rss(
            &["diagnose", "--kubeconfig", kc, "--runtime", "none"],
            dir.path(),
        ),
    )
    .await
    .expect("diagnose ends instead of reading forever");
    server.abort();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    // Far below the 3.5–4.1 GB an unbounded read reached: five lists at once, each bounded
    // by 128 MiB.
    eprintln!("peak RSS of kindscope against the endless server: {rss} KiB");
    assert!(rss < 1 << 20, "peak RSS {rss} KiB");
    last_sentence(&out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_version_body_is_one_sentence_and_exit_3() {
    let sentence = against_endless(Endless::Version).await;
    assert!(
        sentence.contains("/version") && sentence.contains("larger than 128 MiB"),
        "{sentence}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_list_body_is_one_sentence_and_exit_3() {
    let sentence = against_endless(Endless::Lists).await;
    assert!(sentence.contains("larger than 128 MiB"), "{sentence}");
}

/// A gzip file of `prefix` followed by `n` copies of `fill`.
fn gzip_file(path: &std::path::Path, prefix: &[u8], fill: u8, n: usize) {
    let file = std::fs::File::create(path).expect("create");
    let mut gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
    gz.write_all(prefix).expect("write");
    let block = vec![fill; 1 << 20];
    for _ in 0..n / block.len() {
        gz.write_all(&block).expect("write");
    }
    gz.finish().expect("finish");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_bombs_are_refused_in_one_sentence_with_bounded_memory() {
    let dir = tempfile::tempdir().expect("dir");
    // Valid JSON as far as it goes: a bundle's opening and 160 MiB of whitespace (~160 KB
    // compressed, so it may expand to the 64 MiB floor only).
    let spaces = dir.path().join("spaces.json.gz");
    gzip_file(
        &spaces,
        br#"{"format": "kindscope-bundle", "#,
        b' ',
        160 << 20,
    );
    // 64 MiB of zeros: not JSON from the first byte.
    let zeros = dir.path().join("zeros.json.gz");
    gzip_file(&zeros, b"", 0, 64 << 20);
    let mut rss = 0;
    for (bomb, says) in [(&spaces, "expands past"), (&zeros, "not JSON")] {
        let small = std::fs::metadata(bomb).expect("stat").len();
        assert!(small < 4 << 20, "a bomb is small: {small} bytes");
        let b = bomb.to_str().expect("utf8");
        for args in [vec!["sim", "serve", "--from", b], vec!["demo", "--from", b]] {
            let (out, peak) = kindscope_rss(&args, dir.path()).await;
            rss = rss.max(peak);
            assert_eq!(
                out.status.code(),
                Some(2),
                "{args:?}: {}",
                text(&out.stderr)
            );
            let sentence = one_sentence(&out);
            assert!(
                sentence.contains(b) && sentence.contains(says),
                "{sentence}"
            );
        }
    }
    eprintln!("peak RSS of kindscope on the gzip bombs: {rss} KiB");
    assert!(rss < 1 << 20, "peak RSS {rss} KiB");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_scenario_and_bundle_files_are_refused_before_reading() {
    let dir = tempfile::tempdir().expect("dir");
    // Sparse files: their size is what counts, and nothing is read.
    let scenario = dir.path().join("big.yaml");
    std::fs::File::create(&scenario)
        .and_then(|f| f.set_len((64 << 20) + 1))
        .expect("sparse scenario");
    let bundle = dir.path().join("big.json");
    std::fs::File::create(&bundle)
        .and_then(|f| f.set_len((512 << 20) + 1))
        .expect("sparse bundle");
    for (args, says) in [
        (
            vec![
                "sim",
                "serve",
                "--scenario",
                scenario.to_str().expect("utf8"),
            ],
            "larger than 64 MiB",
        ),
        (
            vec!["sim", "serve", "--from", bundle.to_str().expect("utf8")],
            "larger than 512 MiB",
        ),
    ] {
        let out = kindscope(&args, dir.path()).await;
        assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
        let sentence = one_sentence(&out);
        assert!(sentence.contains(says), "{sentence}");
    }
}
