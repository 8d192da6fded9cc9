//! `GET /api/v1/namespaces/NS/pods/NAME/log`: a container's log, made up by the sim.
//!
//! The checks and their sentences are the real ones (docs/sim.md, "Container logs"): the
//! apiserver picks or validates the container (pkg/registry/core/pod/strategy.go,
//! `LogLocation`/`validateContainer`) and the kubelet refuses a container without output
//! (pkg/kubelet/kubelet_pods.go, `validateContainerLogStatus`), which the apiserver passes on
//! as `400 BadRequest` with the kubelet's sentence (apiserver
//! pkg/registry/generic/rest/response_checker.go). What a running container printed is
//! simulated: a few start-up lines from its image, then a health check every 10 s since it
//! started; `follow=true` keeps adding one every 2 s of real time.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use kindscope_core::time::{self, Precision, SignedDuration, Timestamp};
use serde_json::Value;

use super::super::resources::PODS;
use super::super::status::ApiError;
use super::{AppState, Params, error_response};

/// Lines a simulated container has printed at most (its health checks stop counting there).
const MAX_LINES: usize = 2000;
/// Real time between two lines of a followed log.
const FOLLOW_EVERY: Duration = Duration::from_secs(2);

pub(super) fn serve(st: &Arc<AppState>, ns: &str, name: &str, params: &Params) -> Response {
    match log(st, ns, name, params) {
        Ok(r) => r,
        Err(e) => error_response(&e),
    }
}

fn log(st: &Arc<AppState>, ns: &str, name: &str, params: &Params) -> Result<Response, ApiError> {
    let pod = st
        .store
        .get(&PODS, ns, name)
        .ok_or_else(|| ApiError::not_found(&PODS, name))?;
    let container = pick_container(&pod, name, params.get("container"))?;
    // Not scheduled yet: the apiserver has no kubelet to ask and answers with nothing.
    if pod["spec"]["nodeName"].as_str().unwrap_or("").is_empty() {
        return Ok(text(String::new()));
    }
    let previous = params.flag("previous");
    let started = kubelet_check(&pod, name, &container, previous)?;
    let image = pod["spec"]["containers"]
        .as_array()
        .into_iter()
        .chain(pod["spec"]["initContainers"].as_array())
        .flatten()
        .find(|c| c["name"].as_str() == Some(container.as_str()))
        .and_then(|c| c["image"].as_str())
        .unwrap_or("")
        .to_string();
    let now = Timestamp::now();
    let mut lines = printed(&container, &image, started, now);
    // A followed log goes on counting from the health checks printed so far.
    let checks = lines.len().saturating_sub(3) as u64;
    if let Some(n) = params
        .get("tailLines")
        .and_then(|v| v.parse::<usize>().ok())
    {
        let skip = lines.len().saturating_sub(n);
        lines.drain(..skip);
    }
    let stamps = params.flag("timestamps");
    let mut body: String = lines.iter().map(|(t, l)| line(*t, l, stamps)).collect();
    if let Some(limit) = params
        .get("limitBytes")
        .and_then(|v| v.parse::<usize>().ok())
    {
        // The kubelet counts bytes, not lines: the last line may be cut.
        let mut cut = limit.min(body.len());
        while !body.is_char_boundary(cut) {
            cut -= 1;
        }
        body.truncate(cut);
        return Ok(text(body));
    }
    if !params.flag("follow") {
        return Ok(text(body));
    }
    let st = st.clone();
    let (ns, name) = (ns.to_string(), name.to_string());
    let stream = async_stream::stream! {
        yield Ok::<Bytes, std::io::Error>(Bytes::from(body));
        let mut n = checks;
        let mut stop = st.stop.clone();
        loop {
            tokio::select! {
                () = tokio::time::sleep(FOLLOW_EVERY) => {}
                _ = stop.wait_for(|s| *s) => break,
            }
            // The stream ends when the container no longer runs (or its pod is gone).
            let Some(pod) = st.store.get(&PODS, &ns, &name) else { break };
            if kubelet_check(&pod, &name, &container, false).is_err() {
                break;
            }
            yield Ok(Bytes::from(line(Timestamp::now(), &health(&container, n), stamps)));
            n += 1;
        }
    };
    let mut r = Response::new(Body::from_stream(stream));
    set_text(&mut r);
    Ok(r)
}

fn text(body: String) -> Response {
    let mut r = Response::new(Body::from(body));
    set_text(&mut r);
    r
}

fn set_text(r: &mut Response) {
    *r.status_mut() = StatusCode::OK;
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
}

fn names(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["name"].as_str().map(str::to_string))
        .collect()
}

/// The apiserver's choice of container: the only one, or the one asked for if the pod has it.
fn pick_container(pod: &Value, name: &str, asked: Option<&str>) -> Result<String, ApiError> {
    let main = names(&pod["spec"]["containers"]);
    let init = names(&pod["spec"]["initContainers"]);
    match asked.filter(|c| !c.is_empty()) {
        Some(c) if main.iter().chain(&init).any(|n| n == c) => Ok(c.to_string()),
        Some(c) => Err(ApiError::bad_request(format!(
            "container {c} is not valid for pod {name}"
        ))),
        None => match main.as_slice() {
            [only] => Ok(only.clone()),
            [] => Err(ApiError::bad_request(format!(
                "a container name must be specified for pod {name}"
            ))),
            _ => {
                // Go's %s of a []string: `[a b c]`, init containers first as VisitContainers goes.
                let all: Vec<String> = init.iter().chain(&main).cloned().collect();
                Err(ApiError::bad_request(format!(
                    "a container name must be specified for pod {name}, choose one of: [{}]",
                    all.join(" ")
                )))
            }
        },
    }
}

/// The kubelet's `validateContainerLogStatus`: when the container started, or why there is
/// no log (each sentence as the kubelet words it).
fn kubelet_check(
    pod: &Value,
    name: &str,
    container: &str,
    previous: bool,
) -> Result<Timestamp, ApiError> {
    let status = pod["status"]["containerStatuses"]
        .as_array()
        .into_iter()
        .chain(pod["status"]["initContainerStatuses"].as_array())
        .flatten()
        .find(|s| s["name"].as_str() == Some(container));
    let bad = |why: String| ApiError::bad_request(why);
    let Some(s) = status else {
        return Err(bad(format!(
            "container \"{container}\" in pod \"{name}\" is not available"
        )));
    };
    let at = |v: &Value| {
        v.as_str()
            .and_then(time::parse_rfc3339)
            .unwrap_or_else(Timestamp::now)
    };
    let state = &s["state"];
    let last = &s["lastState"]["terminated"];
    if previous {
        if last.is_object() && !last["containerID"].as_str().unwrap_or("").is_empty() {
            return Ok(at(&last["startedAt"]));
        }
        return Err(bad(format!(
            "previous terminated container \"{container}\" in pod \"{name}\" not found"
        )));
    }
    if state["running"].is_object() {
        return Ok(at(&state["running"]["startedAt"]));
    }
    if state["terminated"].is_object() {
        if !state["terminated"]["containerID"]
            .as_str()
            .unwrap_or("")
            .is_empty()
        {
            return Ok(at(&state["terminated"]["startedAt"]));
        }
        return Err(bad(format!(
            "container \"{container}\" in pod \"{name}\" is terminated"
        )));
    }
    if let Some(reason) = state["waiting"]["reason"].as_str() {
        let why = match reason {
            "ErrImagePull" => "image can't be pulled",
            "ImagePullBackOff" => "trying and failing to pull image",
            other => other,
        };
        return Err(bad(format!(
            "container \"{container}\" in pod \"{name}\" is waiting to start: {why}"
        )));
    }
    Err(bad(format!(
        "container \"{container}\" in pod \"{name}\" is waiting to start - no logs yet"
    )))
}

/// What the container printed from `started` until `now`, with when.
fn printed(
    container: &str,
    image: &str,
    started: Timestamp,
    now: Timestamp,
) -> Vec<(Timestamp, String)> {
    let mut out = vec![
        (
            started,
            format!("level=info msg=\"starting {container}\" image={image}"),
        ),
        (
            started,
            "level=info msg=\"configuration loaded\" source=env".to_string(),
        ),
        (
            started,
            "level=info msg=\"listening\" addr=:8080".to_string(),
        ),
    ];
    let step = SignedDuration::from_secs(10);
    let mut t = started.checked_add(step).ok();
    let mut n = 0;
    while let Some(at) = t.filter(|at| *at <= now && out.len() < MAX_LINES) {
        out.push((at, health(container, n)));
        t = at.checked_add(step).ok();
        n += 1;
    }
    out
}

fn health(container: &str, n: u64) -> String {
    format!("level=info msg=\"GET /healthz\" status=200 container={container} request={n}")
}

/// One log line; `timestamps=true` puts the time first as the kubelet does (RFC 3339, nanoseconds).
fn line(t: Timestamp, text: &str, stamps: bool) -> String {
    if stamps {
        format!("{} {text}\n", time::rfc3339(t, Precision::Nanos))
    } else {
        format!("{text}\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(state: Value) -> Value {
        json!({
            "spec": {"nodeName": "w", "containers": [{"name": "gw", "image": "gw:1"}]},
            "status": {"containerStatuses": [{"name": "gw", "state": state, "lastState": {}}]}
        })
    }

    fn message(r: Result<Timestamp, ApiError>) -> String {
        let e = r.expect_err("refused");
        assert_eq!(e.code, 400);
        e.to_status()["message"].as_str().unwrap_or("").to_string()
    }

    #[test]
    fn the_kubelets_sentences() {
        let waiting = pod(json!({"waiting": {"reason": "ContainerCreating"}}));
        assert_eq!(
            message(kubelet_check(&waiting, "p", "gw", false)),
            "container \"gw\" in pod \"p\" is waiting to start: ContainerCreating"
        );
        let backoff = pod(json!({"waiting": {"reason": "ImagePullBackOff"}}));
        assert_eq!(
            message(kubelet_check(&backoff, "p", "gw", false)),
            "container \"gw\" in pod \"p\" is waiting to start: trying and failing to pull image"
        );
        let running = pod(json!({"running": {"startedAt": "2026-01-01T00:00:00Z"}}));
        assert!(kubelet_check(&running, "p", "gw", false).is_ok());
        assert_eq!(
            message(kubelet_check(&running, "p", "gw", true)),
            "previous terminated container \"gw\" in pod \"p\" not found"
        );
    }

    #[test]
    fn the_apiservers_container_choice() {
        let two = json!({"spec": {"containers": [{"name": "a"}, {"name": "b"}],
                                  "initContainers": [{"name": "i"}]}});
        let e = pick_container(&two, "p", None).expect_err("ambiguous");
        assert_eq!(
            e.to_status()["message"],
            "a container name must be specified for pod p, choose one of: [i a b]"
        );
        assert_eq!(
            pick_container(&two, "p", Some("i")).ok().as_deref(),
            Some("i")
        );
        let e = pick_container(&two, "p", Some("x")).expect_err("unknown");
        assert_eq!(
            e.to_status()["message"],
            "container x is not valid for pod p"
        );
    }

    #[test]
    fn a_running_container_prints_start_up_and_health_checks() {
        let t0 = time::parse_rfc3339("2026-01-01T00:00:00Z").expect("time");
        let lines = printed("gw", "gw:1", t0, t0 + SignedDuration::from_secs(35));
        assert_eq!(lines.len(), 6);
        assert!(lines[0].1.contains("image=gw:1"));
        assert!(line(t0, "x", true).starts_with("2026-01-01T00:00:00.000000000Z x"));
    }
}
