//! Command-line definitions (clap). Contract: docs/cli.md (DESIGN §3.1).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "kindscope",
    version,
    about = "See why a pod on your Kind cluster will not start, and fix it with one key.",
    long_about = "kindscope attaches to a kept-alive Kind cluster and shows, side by side, the images \
really present on each node, the pods with their events, and the workloads' image fields. It names \
every mismatch between the image a workload asks for and the images the nodes hold, and fixes it \
with a guarded JSON patch.\n\nWithout a subcommand it opens the dashboard on the current context.",
    after_help = "Exit codes: 0 healthy, 1 findings remain, 2 usage or bad input, 3 cluster unreachable or forbidden, 4 no findings but pods still starting."
)]
pub struct Cli {
    #[command(flatten)]
    pub conn: ConnectArgs,

    #[command(flatten)]
    pub write: WriteArgs,

    /// Configuration file (default: $XDG_CONFIG_HOME/kindscope/kindscope.toml when it exists).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// How to reach the cluster, exactly like kubectl.
#[derive(Debug, Clone, Default, Args)]
pub struct ConnectArgs {
    /// Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,

    /// kubeconfig context to use (default: the current context).
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,

    /// Only look at this namespace (default: all namespaces).
    #[arg(short = 'n', long = "namespace", global = true, value_name = "NS")]
    pub namespace: Option<String>,

    /// Where node image lists come from besides the API: the Kind node containers' runtime.
    /// Default: $KIND_EXPERIMENTAL_PROVIDER, else docker if it answers, else podman.
    #[arg(long, global = true, value_enum, value_name = "RUNTIME")]
    pub runtime: Option<RuntimeChoice>,
}

/// Write guard switches (DESIGN §3: writes are refused on non-Kind contexts unless allowed).
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct WriteArgs {
    /// Allow patches on a context that is not a local Kind cluster.
    #[arg(long, global = true, conflicts_with = "read_only")]
    pub allow_write: bool,

    /// Never write to the cluster, not even on a Kind context.
    #[arg(long, global = true)]
    pub read_only: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RuntimeChoice {
    Docker,
    Podman,
    /// Do not ask a container runtime; use `Node.status.images` only.
    None,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the dashboard on a simulated Kind cluster (no cluster needed).
    Demo(DemoArgs),
    /// Print the image mismatches of a cluster and the patches that fix them.
    Diagnose(DiagnoseArgs),
    /// Plan, show and (with --yes or a confirmation) apply the fixes, then follow the rollouts.
    Fix(FixArgs),
    /// Check manifests against the cluster's node images before they are applied.
    Check(CheckArgs),
    /// Wait until workloads are ready, or stop early with the diagnosis (for E2E suites).
    Wait(WaitArgs),
    /// Explain image references the way containerd and the kubelet read them.
    Ref(RefArgs),
    /// Write a triage bundle (nodes, images, pods, workloads, events, findings) to one file.
    Snapshot(SnapshotArgs),
    /// Load a local image into a Kind cluster and check the exact name every node holds.
    Load(LoadArgs),
    /// Run the simulated Kind cluster.
    #[command(subcommand)]
    Sim(SimCommand),
}

#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Scenario file to simulate (default: the embedded gateway-debug scenario).
    #[arg(long, value_name = "FILE", conflicts_with = "from")]
    pub scenario: Option<PathBuf>,

    /// Replay a triage bundle written by `kindscope snapshot`.
    #[arg(long, value_name = "FILE")]
    pub from: Option<PathBuf>,

    /// Simulated time runs this many times faster than real time.
    #[arg(long, default_value_t = 1.0, value_name = "X")]
    pub speed: f64,
}

#[derive(Debug, Clone, Args)]
pub struct DiagnoseArgs {
    /// Print JSON (DESIGN §3.2) instead of a table.
    #[arg(long)]
    pub json: bool,

    /// Wait up to DURATION (30s, 2m, 1m30s) until every pod in scope has started or has a
    /// finding, then report.
    #[arg(long, value_name = "DURATION")]
    pub wait: Option<String>,
    #[command(flatten)]
    pub source: SourceArgs,
}

/// Where to look for the place an asked-for image name is written.
#[derive(Debug, Clone, Default, Args)]
pub struct SourceArgs {
    /// Repository to search for where each finding's image name comes from
    /// (default: the git work tree of the current directory, when there is one).
    #[arg(long = "source", value_name = "DIR", conflicts_with = "no_source")]
    pub dir: Option<PathBuf>,

    /// Do not search for the source of the names.
    #[arg(long)]
    pub no_source: bool,
}

#[derive(Debug, Clone, Args)]
pub struct FixArgs {
    /// Apply without asking.
    #[arg(long, short = 'y')]
    pub yes: bool,

    /// Send the patches with the server's dryRun=All: validated, not stored.
    #[arg(long)]
    pub dry_run: bool,

    /// Seconds to follow each rollout after its patch
    /// (default: `timeouts.rollout_seconds` in kindscope.toml, 60).
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<u64>,

    /// Print JSON results instead of text.
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub source: SourceArgs,
}

#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// Manifest file, directory (read recursively: .yaml, .yml, .json) or - for standard input
    /// (`helm template … | kindscope check -f -`). Repeatable.
    #[arg(short = 'f', long = "filename", value_name = "PATH", required = true)]
    pub files: Vec<PathBuf>,

    /// No cluster: only the checks that need none (invalid references, `:latest` or untagged
    /// images with the defaulted Always, `localhost/` images that would have to be pulled).
    #[arg(long)]
    pub offline: bool,

    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,

    /// Print the edits that fix the findings as a unified diff (write them with --yes).
    #[arg(long)]
    pub fix: bool,

    /// With --fix: rewrite the files.
    #[arg(long, short = 'y', requires = "fix")]
    pub yes: bool,
}

#[derive(Debug, Clone, Args)]
pub struct WaitArgs {
    /// Workloads to wait for, as KIND/NAME (`deployment/gateway`, `statefulset/db`, `pod/x`);
    /// default: every workload in scope.
    #[arg(value_name = "KIND/NAME")]
    pub workloads: Vec<String>,

    /// What to wait for (only `ready`).
    #[arg(long = "for", default_value = "ready", value_name = "CONDITION")]
    pub condition: String,

    /// Give up after this long (`120s`, `2m`, `90`).
    #[arg(long, default_value = "120s", value_name = "DURATION")]
    pub timeout: String,

    /// On failure, write the triage bundle (as `kindscope snapshot -o`) to this file.
    #[arg(long, value_name = "PATH")]
    pub bundle_on_failure: Option<PathBuf>,

    #[command(flatten)]
    pub source: SourceArgs,
}

#[derive(Debug, Clone, Args)]
pub struct RefArgs {
    /// One JSON object per reference, one per line.
    #[arg(long)]
    pub json: bool,

    /// Image references, e.g. `nginx`, `localhost/kubernaut/gateway:debug`.
    #[arg(required = true, value_name = "REF")]
    pub refs: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct SnapshotArgs {
    /// Output file; gzip-compressed when the name ends in `.gz`.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: PathBuf,

    /// Keep container commands and args (and probe/hook exec commands) in the bundle; they are
    /// redacted by default because they often carry credentials (`--password=…`).
    #[arg(long)]
    pub include_args: bool,

    /// Keep annotation values in the bundle (redacted by default; keys always stay).
    #[arg(long)]
    pub include_annotations: bool,
}

#[derive(Debug, Clone, Args)]
pub struct LoadArgs {
    /// Image to load, as the local runtime names it (e.g. `localhost/kubernaut/gateway:debug`).
    #[arg(value_name = "IMAGE")]
    pub image: String,

    /// Kind cluster name (default: taken from a `kind-NAME` context, else `kind`).
    #[arg(long, value_name = "NAME")]
    pub cluster: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum SimCommand {
    /// Serve a simulated Kind cluster over the Kubernetes HTTP API on 127.0.0.1.
    Serve(SimServeArgs),
}

#[derive(Debug, Clone, Args)]
pub struct SimServeArgs {
    /// Scenario file (DESIGN §3.3); default: the embedded gateway-debug scenario.
    #[arg(long, value_name = "FILE", conflicts_with = "synthetic")]
    pub scenario: Option<PathBuf>,

    /// Generate a cluster instead: nodes=N,deployments=D,replicas=R,images-per-node=I,events=E.
    #[arg(long, value_name = "SPEC")]
    pub synthetic: Option<String>,

    /// Replay a triage bundle written by `kindscope snapshot` instead.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["scenario", "synthetic"])]
    pub from: Option<PathBuf>,

    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub port: u16,

    /// Write a kubeconfig whose context is `kind-NAME` to this path.
    #[arg(long, value_name = "PATH")]
    pub write_kubeconfig: Option<PathBuf>,

    /// Simulated time runs this many times faster than real time.
    #[arg(long, default_value_t = 1.0, value_name = "X")]
    pub speed: f64,

    /// Inject faults, e.g. `drop-watch=10s`, `watch-410`, `forbid=events`, `latency=200ms`,
    /// `error-rate=0.1`. Repeatable.
    #[arg(long = "fault", value_name = "FAULT")]
    pub faults: Vec<String>,
    /// Serve plain HTTP with a bearer token instead of HTTPS with client certificates
    /// (for clients that cannot do TLS; the kubeconfig then carries the token).
    #[arg(long)]
    pub plain_http: bool,
}
