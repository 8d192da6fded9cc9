//! StatefulSets and DaemonSets run their pods, with the names, owners and statuses of a real
//! cluster.

use super::support::Sim;

fn statefulset(image: &str, replicas: u32) -> String {
    format!(
        "apiVersion: apps/v1
kind: StatefulSet
metadata: {{name: db}}
spec:
  serviceName: db
  replicas: {replicas}
  selector: {{matchLabels: {{app: db}}}}
  template:
    metadata: {{labels: {{app: db}}}}
    spec:
      containers: [{{name: db, image: {image}}}]
"
    )
}

const AGENT: &str = "apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers: [{name: agent, image: postgres:16}]
";

#[test]
fn statefulset_pods_are_ordinal_and_ready_in_order() {
    let sim = Sim::start(None);
    let out = sim.run_with_stdin(&["apply", "-f", "-"], Some(&statefulset("postgres:16", 3)));
    assert!(out.status.success());
    let s = sim.wait_json(&["get", "statefulset", "db"], "3 ready replicas", |s| {
        s["status"]["readyReplicas"] == 3
    });
    assert_eq!(
        s["status"]["currentRevision"],
        s["status"]["updateRevision"]
    );
    let status = sim.ok(&["rollout", "status", "statefulset/db", "--timeout=60s"]);
    assert!(
        status.contains("partitioned roll out complete") || status.contains("roll out complete"),
        "{status}"
    );
    let pods = sim.json(&["get", "pods", "-l", "app=db"]);
    let names: Vec<&str> = pods["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["metadata"]["name"].as_str())
        .collect();
    assert_eq!(names, ["db-0", "db-1", "db-2"]);
    let p1 = &pods["items"][1];
    assert_eq!(p1["spec"]["hostname"], "db-1");
    assert_eq!(p1["spec"]["subdomain"], "db");
    assert_eq!(
        p1["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"],
        "db-1"
    );
    assert_eq!(
        p1["metadata"]["labels"]["apps.kubernetes.io/pod-index"],
        "1"
    );
    let owner = &p1["metadata"]["ownerReferences"][0];
    assert_eq!(owner["kind"], "StatefulSet");
    assert_eq!(owner["controller"], true);
    let table = sim.ok(&["get", "statefulset", "db"]);
    assert!(
        table
            .lines()
            .nth(1)
            .is_some_and(|l| l.split_whitespace().nth(1) == Some("3/3")),
        "{table}"
    );
    // Scale down removes the highest ordinals.
    sim.ok(&["scale", "statefulset", "db", "--replicas=1"]);
    sim.wait_json(&["get", "pods", "-l", "app=db"], "only db-0 left", |l| {
        l["items"]
            .as_array()
            .is_some_and(|i| i.len() == 1 && i[0]["metadata"]["name"] == "db-0")
    });
}

#[test]
fn statefulset_waits_for_each_pod_before_the_next() {
    let sim = Sim::start(None);
    // An image the registry does not have: db-0 never becomes ready, so db-1 never comes.
    sim.run_with_stdin(&["apply", "-f", "-"], Some(&statefulset("postgres:99", 2)));
    sim.wait_json(&["get", "pod", "db-0"], "db-0 failing to pull", |p| {
        p["status"]["containerStatuses"][0]["state"]["waiting"]["reason"]
            .as_str()
            .is_some_and(|r| r == "ErrImagePull" || r == "ImagePullBackOff")
    });
    let err = sim.fails(&["get", "pod", "db-1"]);
    assert!(err.contains("NotFound"), "{err}");
}

#[test]
fn daemonset_runs_one_pod_per_node_it_fits() {
    let sim = Sim::start(None);
    sim.run_with_stdin(&["apply", "-f", "-"], Some(AGENT));
    // The control plane is tainted NoSchedule (Kind with workers): only the worker runs it.
    let ds = sim.wait_json(&["get", "daemonset", "agent"], "1 ready", |d| {
        d["status"]["numberReady"] == 1 && d["status"]["desiredNumberScheduled"] == 1
    });
    assert_eq!(ds["status"]["numberAvailable"], 1);
    let pods = sim.json(&["get", "pods", "-l", "app=agent"]);
    let pod = &pods["items"][0];
    assert_eq!(pod["spec"]["nodeName"], "gateway-debug-worker");
    assert_eq!(pod["metadata"]["ownerReferences"][0]["kind"], "DaemonSet");
    assert_eq!(
        pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
            [0]["matchFields"][0]["values"][0],
        "gateway-debug-worker"
    );
    let status = sim.ok(&["rollout", "status", "daemonset/agent", "--timeout=60s"]);
    assert!(status.contains("successfully rolled out"), "{status}");
    // Tolerating the control-plane taint puts a pod there too.
    sim.ok(&[
        "patch",
        "daemonset",
        "agent",
        "-p",
        r#"{"spec":{"template":{"spec":{"tolerations":[{"key":"node-role.kubernetes.io/control-plane","operator":"Exists","effect":"NoSchedule"}]}}}}"#,
    ]);
    sim.wait_json(&["get", "daemonset", "agent"], "2 updated and ready", |d| {
        d["status"]["numberReady"] == 2
            && d["status"]["desiredNumberScheduled"] == 2
            && d["status"]["updatedNumberScheduled"] == 2
    });
    let pods = sim.json(&["get", "pods", "-l", "app=agent"]);
    assert!(
        pods["items"].as_array().is_some_and(|i| i.iter().all(|p| {
            p["spec"]["tolerations"].as_array().is_some_and(|t| {
                t.iter()
                    .any(|t| t["key"] == "node-role.kubernetes.io/control-plane")
            })
        })),
        "the worker's pod was replaced with the new template"
    );
    // Kind's own DaemonSets keep exactly one pod per node.
    let kindnet = sim.json(&["-n", "kube-system", "get", "pods", "-l", "app=kindnet"]);
    assert_eq!(kindnet["items"].as_array().map(Vec::len), Some(2));
}

#[test]
fn jobs_run_pods_to_completion() {
    let sim = Sim::start(None);
    assert_eq!(
        sim.ok(&[
            "create",
            "job",
            "once",
            "--image=postgres:16",
            "--",
            "echo",
            "hi"
        ])
        .trim(),
        "job.batch/once created"
    );
    let waited = sim.ok(&[
        "wait",
        "--for=condition=complete",
        "job/once",
        "--timeout=60s",
    ]);
    assert_eq!(waited.trim(), "job.batch/once condition met");
    let job = sim.json(&["get", "job", "once"]);
    assert_eq!(job["status"]["succeeded"], 1);
    assert!(job["status"]["completionTime"].is_string());
    let types: Vec<&str> = job["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["type"].as_str())
        .collect();
    assert_eq!(types, ["SuccessCriteriaMet", "Complete"]);
    let pods = sim.json(&["get", "pods", "-l", "job-name=once"]);
    let pod = &pods["items"][0];
    assert_eq!(pod["status"]["phase"], "Succeeded");
    assert_eq!(
        pod["status"]["containerStatuses"][0]["state"]["terminated"]["reason"],
        "Completed"
    );
    assert_eq!(pod["metadata"]["ownerReferences"][0]["kind"], "Job");
    assert_eq!(
        pod["metadata"]["labels"]["batch.kubernetes.io/controller-uid"],
        job["metadata"]["uid"]
    );
    let table = sim.ok(&["get", "job", "once"]);
    let row: Vec<&str> = table
        .lines()
        .nth(1)
        .unwrap_or("")
        .split_whitespace()
        .collect();
    assert_eq!(row.get(1..3), Some(&["Complete", "1/1"][..]), "{table}");
}

#[test]
fn a_job_with_three_completions_succeeds_three_pods() {
    let sim = Sim::start(None);
    let job = "apiVersion: batch/v1
kind: Job
metadata: {name: batch}
spec:
  completions: 3
  parallelism: 2
  template:
    spec:
      restartPolicy: Never
      containers: [{name: work, image: postgres:16}]
";
    sim.run_with_stdin(&["apply", "-f", "-"], Some(job));
    sim.wait_json(&["get", "job", "batch"], "3 succeeded", |j| {
        j["status"]["succeeded"] == 3 && j["status"]["completionTime"].is_string()
    });
    let pods = sim.json(&["get", "pods", "-l", "job-name=batch"]);
    assert_eq!(
        pods["items"].as_array().map(Vec::len),
        Some(3),
        "one pod per completion"
    );
}
