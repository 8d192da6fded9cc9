//! Command-line definitions (clap). Contract: docs/cli.md.
//!
//! Flags that only mean something for commands that talk to a cluster live in [`ClusterArgs`],
//! flattened into each such subcommand, and also on the root (the dashboard). As with kubectl,
//! they are accepted before and after the subcommand (`kindscope -n ns diagnose` and
//! `kindscope diagnose -n ns`); [`Cli::resolve`] merges the two places so commands read one
//! value from `Cli::conn`, `Cli::config` and `Cli::write`. `--color` is the only global flag.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use clap_complete::engine::ArgValueCompleter;

use crate::error::CliError;
use crate::shell::complete;

#[derive(Debug, Parser)]
#[command(
    name = "kindscope",
    version,
    about = "See why a pod on your Kind cluster will not start, and fix it with one key.",
    long_about = "kindscope attaches to a kept-alive Kind cluster and shows, side by side, the images \
really present on each node, the pods with their events, and the workloads' image fields. It names \
every mismatch between the image a workload asks for and the images the nodes hold, and fixes it \
with a guarded JSON patch.\n\nWithout a subcommand it opens the dashboard on the current context.",
    after_help = "Examples:
  kindscope                              dashboard on the current kubeconfig context
  kindscope --context kind-dev -n shop   another context, one namespace
  kindscope demo                         dashboard on a simulated cluster (no cluster needed)

Exit codes: 0 healthy, 1 findings remain, 2 usage or bad input, 3 cluster unreachable or forbidden,
4 no findings but pods still starting.
Documentation: docs/cli.md in the source repository, or `kindscope man`."
)]
pub struct Cli {
    #[command(flatten)]
    pub conn: ConnectArgs,

    #[command(flatten)]
    pub write: WriteArgs,

    /// Configuration file (default: $XDG_CONFIG_HOME/kindscope/kindscope.toml when it exists).
    #[arg(long, value_name = "PATH", value_hint = clap::ValueHint::FilePath)]
    pub config: Option<PathBuf>,

    /// Colour: auto (on a terminal; NO_COLOR turns it off, CLICOLOR_FORCE on), always, never.
    #[arg(long, global = true, value_enum, default_value_t = ColorWhen::Auto, value_name = "WHEN")]
    pub color: ColorWhen,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum ColorWhen {
    #[default]
    Auto,
    Always,
    Never,
}

/// How to reach the cluster, exactly like kubectl.
#[derive(Debug, Clone, Default, Args)]
pub struct ConnectArgs {
    /// Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long, value_name = "PATH", value_hint = clap::ValueHint::FilePath)]
    pub kubeconfig: Option<PathBuf>,

    /// kubeconfig context to use (default: the current context).
    #[arg(long, value_name = "NAME", add = ArgValueCompleter::new(complete::contexts))]
    pub context: Option<String>,

    /// Only look at this namespace (default: all namespaces).
    #[arg(
        short = 'n',
        long = "namespace",
        value_name = "NS",
        add = ArgValueCompleter::new(complete::namespaces)
    )]
    pub namespace: Option<String>,

    /// Where node image lists come from besides the API: the Kind node containers' runtime.
    /// Default: $KIND_EXPERIMENTAL_PROVIDER, else docker if it answers, else podman.
    #[arg(long, value_enum, value_name = "RUNTIME")]
    pub runtime: Option<RuntimeChoice>,
}

/// The flags of every subcommand that talks to a cluster.
#[derive(Debug, Clone, Default, Args)]
pub struct ClusterArgs {
    #[command(flatten)]
    pub conn: ConnectArgs,

    /// Configuration file (default: $XDG_CONFIG_HOME/kindscope/kindscope.toml when it exists).
    #[arg(long, value_name = "PATH", value_hint = clap::ValueHint::FilePath)]
    pub config: Option<PathBuf>,
}

/// Write guard switches: writes are refused on non-Kind contexts unless allowed
/// (docs/cli.md, "Write guard").
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct WriteArgs {
    /// Allow patches on a context that is not a local Kind cluster.
    #[arg(long, conflicts_with = "read_only")]
    pub allow_write: bool,

    /// Never write to the cluster, not even on a Kind context.
    #[arg(long)]
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
    #[command(after_help = "Examples:
  kindscope demo                                the gateway-debug story
  kindscope demo --scenario assets/scenarios/tag-mismatch.yaml
  kindscope demo --from triage.json.gz          replay a bundle from `kindscope snapshot`")]
    Demo(DemoArgs),
    /// Print the image mismatches of a cluster and the patches that fix them.
    #[command(after_help = "Examples:
  kindscope diagnose --context kind-dev
  kindscope diagnose -n payments --json | jq -r '.findings[].suggested_image'
  kindscope diagnose --wait 2m            after `kubectl apply`, once every pod started or failed

Exit codes: 0 healthy, 1 findings remain, 2 usage or bad input, 3 cluster unreachable or forbidden,
4 no findings but pods still starting.")]
    Diagnose(DiagnoseArgs),
    /// Plan, show and (with --yes or a confirmation) apply the fixes, then follow the rollouts.
    #[command(after_help = "Examples:
  kindscope fix --dry-run       the server validates the patches, stores nothing
  kindscope fix --yes           apply every safe patch and follow the rollouts

Exit codes: 0 every applied fix runs and no finding remains, 1 findings remain or nothing was
applied, 2 usage or refused by the write guard, 3 cluster unreachable or forbidden.")]
    Fix(FixArgs),
    /// Undo a fix recorded in the journal (the last one on the context by default).
    #[command(after_help = "Examples:
  kindscope undo                  show the last fix on the current context and ask
  kindscope undo --last --yes     undo it without asking
  kindscope undo 2026-12-02T10:00:00.000000Z/Deployment/default/gateway/gateway
                                  a fix listed by `kindscope journal` (a unique prefix is enough)

Exit codes: 0 undone (the rollout back was followed), 1 nothing undone (declined, or the workload
changed since the fix), 2 usage, no such fix or refused by the write guard, 3 cluster unreachable
or forbidden.")]
    Undo(UndoArgs),
    /// List the fixes and undos kindscope recorded, newest first.
    #[command(after_help = "Examples:
  kindscope journal                         every context
  kindscope journal --context kind-dev      one context
  kindscope journal --json | jq -r '.[] | select(.state == \"open\") | .id'")]
    Journal(JournalArgs),
    /// Check manifests against the cluster's node images before they are applied.
    #[command(after_help = "Examples:
  kindscope check -f deploy/                    before `kubectl apply -f deploy/`
  helm template chart | kindscope check -f -
  kindscope check --offline -f deploy/          no cluster: the checks that need none")]
    Check(CheckArgs),
    /// Wait until workloads are ready, or stop early with the diagnosis (for E2E suites).
    #[command(after_help = "Examples:
  kindscope wait deployment/gateway --timeout 2m
  kindscope wait --bundle-on-failure triage.json.gz      every workload in scope")]
    Wait(WaitArgs),
    /// Explain image references the way containerd and the kubelet read them.
    #[command(after_help = "Examples:
  kindscope ref nginx kubernaut/gateway:debug localhost/kubernaut/gateway:debug
  kindscope ref --json registry.k8s.io/pause:3.10

Exit codes: 0 every reference is valid, 1 some reference is invalid, 2 usage.")]
    Ref(RefArgs),
    /// Write a triage bundle (nodes, images, pods, workloads, events, findings) to one file.
    #[command(after_help = "Examples:
  kindscope snapshot -o triage.json.gz
  kindscope demo --from triage.json.gz          replay it offline")]
    Snapshot(SnapshotArgs),
    /// Load a local image into a Kind cluster and check the exact name every node holds.
    #[command(after_help = "Examples:
  kindscope load localhost/kubernaut/gateway:debug
  kindscope load app:dev --cluster dev --runtime podman")]
    Load(LoadArgs),
    /// Run the simulated Kind cluster.
    #[command(subcommand)]
    Sim(SimCommand),
    /// Print a shell completion script (contexts and namespaces complete too).
    #[command(after_help = "Examples:
  source <(kindscope completions bash)                      in ~/.bashrc
  kindscope completions fish > ~/.config/fish/completions/kindscope.fish

More: docs/install.md in the source repository.")]
    Completions(CompletionsArgs),
    /// Print the manual page (roff) on standard output.
    #[command(after_help = "Examples:
  kindscope man | man -l -
  kindscope man --dir ~/.local/share/man/man1      one page per subcommand too")]
    Man(ManArgs),
}

#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Scenario file to simulate (default: the embedded gateway-debug scenario).
    #[arg(long, value_name = "FILE", conflicts_with = "from", value_hint = clap::ValueHint::FilePath)]
    pub scenario: Option<PathBuf>,

    /// Replay a triage bundle written by `kindscope snapshot`.
    #[arg(long, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    pub from: Option<PathBuf>,

    /// Simulated time runs this many times faster than real time.
    #[arg(long, default_value_t = 1.0, value_name = "X")]
    pub speed: f64,

    /// Only look at this namespace (default: all namespaces).
    #[arg(short = 'n', long = "namespace", value_name = "NS")]
    pub namespace: Option<String>,

    /// Configuration file (default: $XDG_CONFIG_HOME/kindscope/kindscope.toml when it exists).
    #[arg(long, value_name = "PATH", value_hint = clap::ValueHint::FilePath)]
    pub config: Option<PathBuf>,

    #[command(flatten)]
    pub write: WriteArgs,
}

#[derive(Debug, Clone, Args)]
pub struct DiagnoseArgs {
    /// Print JSON (the report of docs/cli.md) instead of a table.
    #[arg(long)]
    pub json: bool,

    /// Wait up to DURATION (30s, 2m, 1m30s) until every pod in scope has started or has a
    /// finding, then report.
    #[arg(long, value_name = "DURATION")]
    pub wait: Option<String>,
    #[command(flatten)]
    pub source: SourceArgs,

    #[command(flatten)]
    pub cluster: ClusterArgs,
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

    #[command(flatten)]
    pub cluster: ClusterArgs,

    #[command(flatten)]
    pub write: WriteArgs,
}

#[derive(Debug, Clone, Args)]
pub struct UndoArgs {
    /// Undo the most recent fix on the context that is not undone yet (the default).
    #[arg(long, conflicts_with = "id")]
    pub last: bool,

    /// The journal id of the fix to undo (`kindscope journal` lists them); a unique prefix is
    /// enough.
    #[arg(value_name = "ID")]
    pub id: Option<String>,

    /// Undo without asking.
    #[arg(long, short = 'y')]
    pub yes: bool,

    /// Seconds to follow the rollout back
    /// (default: `timeouts.rollout_seconds` in kindscope.toml, 60).
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<u64>,

    #[command(flatten)]
    pub cluster: ClusterArgs,

    #[command(flatten)]
    pub write: WriteArgs,
}

#[derive(Debug, Clone, Args)]
// `journal` reads a file: the kubeconfig, the runtime and the configuration mean nothing to it.
// They are still accepted (as kubectl accepts its global flags everywhere), but not shown.
#[command(mut_arg("kubeconfig", |a| a.hide(true)))]
#[command(mut_arg("runtime", |a| a.hide(true)))]
#[command(mut_arg("config", |a| a.hide(true)))]
pub struct JournalArgs {
    /// Print a JSON array instead of text.
    #[arg(long)]
    pub json: bool,

    // --context and -n narrow the list; the journal is read from disk, no cluster contacted.
    #[command(flatten)]
    pub cluster: ClusterArgs,
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

    #[command(flatten)]
    pub cluster: ClusterArgs,
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

    #[command(flatten)]
    pub cluster: ClusterArgs,
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
    #[arg(short = 'o', long = "output", value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    pub output: PathBuf,

    /// Keep container commands and args (and probe/hook exec commands) in the bundle; they are
    /// redacted by default because they often carry credentials (`--password=…`).
    #[arg(long)]
    pub include_args: bool,

    /// Keep annotation values in the bundle (redacted by default; keys always stay).
    #[arg(long)]
    pub include_annotations: bool,

    #[command(flatten)]
    pub cluster: ClusterArgs,
}

#[derive(Debug, Clone, Args)]
// A namespace means nothing to `load`; it is still accepted, as kubectl accepts its global flags
// everywhere, but not shown.
#[command(mut_arg("namespace", |a| a.hide(true)))]
pub struct LoadArgs {
    /// Image to load, as the local runtime names it (e.g. `localhost/kubernaut/gateway:debug`).
    #[arg(value_name = "IMAGE")]
    pub image: String,

    /// Kind cluster name (default: taken from a `kind-NAME` context, else `kind`).
    #[arg(long, value_name = "NAME")]
    pub cluster: Option<String>,

    #[command(flatten)]
    pub cluster_args: ClusterArgs,
}

#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// The shell to print the script for.
    #[arg(value_enum)]
    pub shell: CompletionShell,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompletionShell {
    Bash,
    Zsh,
    Fish,
    Powershell,
    Elvish,
}

#[derive(Debug, Clone, Args)]
pub struct ManArgs {
    /// Write `kindscope.1` and one page per subcommand (`kindscope-diagnose.1`, …) into DIR
    /// instead of printing the main page.
    #[arg(long, value_name = "DIR", value_hint = clap::ValueHint::DirPath)]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum SimCommand {
    /// Serve a simulated Kind cluster over the Kubernetes HTTP API on 127.0.0.1.
    #[command(after_help = "Examples:
  kindscope sim serve --write-kubeconfig /tmp/sim.kubeconfig
  kubectl --kubeconfig /tmp/sim.kubeconfig get pods -A
  kindscope sim serve --synthetic nodes=3,deployments=20,replicas=2,images-per-node=60,events=100")]
    Serve(SimServeArgs),
}

#[derive(Debug, Clone, Args)]
pub struct SimServeArgs {
    /// Scenario file (format: docs/sim.md); default: the embedded gateway-debug scenario.
    #[arg(long, value_name = "FILE", conflicts_with = "synthetic", value_hint = clap::ValueHint::FilePath)]
    pub scenario: Option<PathBuf>,

    /// Generate a cluster instead: nodes=N,deployments=D,replicas=R,images-per-node=I,events=E.
    #[arg(long, value_name = "SPEC")]
    pub synthetic: Option<String>,

    /// Replay a triage bundle written by `kindscope snapshot` instead.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["scenario", "synthetic"], value_hint = clap::ValueHint::FilePath)]
    pub from: Option<PathBuf>,

    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub port: u16,

    /// Write a kubeconfig whose context is `kind-NAME` to this path.
    #[arg(long, value_name = "PATH", value_hint = clap::ValueHint::FilePath)]
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

impl Cli {
    /// Merge the cluster flags given after the subcommand into those given before it (the later
    /// place wins, as in kubectl), so commands read `self.conn`, `self.config`, `self.write`.
    /// A new subcommand that talks to a cluster flattens `ClusterArgs` (and `WriteArgs` if it
    /// writes) and gets an arm here.
    pub fn resolve(mut self) -> Result<Self, CliError> {
        let (cluster, write) = match &self.command {
            Some(Command::Diagnose(a)) => (Some(a.cluster.clone()), None),
            Some(Command::Fix(a)) => (Some(a.cluster.clone()), Some(a.write)),
            Some(Command::Undo(a)) => (Some(a.cluster.clone()), Some(a.write)),
            Some(Command::Journal(a)) => (Some(a.cluster.clone()), None),
            Some(Command::Snapshot(a)) => (Some(a.cluster.clone()), None),
            Some(Command::Check(a)) => (Some(a.cluster.clone()), None),
            Some(Command::Wait(a)) => (Some(a.cluster.clone()), None),
            Some(Command::Load(a)) => (Some(a.cluster_args.clone()), None),
            Some(Command::Demo(a)) => (
                Some(ClusterArgs {
                    conn: ConnectArgs {
                        namespace: a.namespace.clone(),
                        ..ConnectArgs::default()
                    },
                    config: a.config.clone(),
                }),
                Some(a.write),
            ),
            _ => (None, None),
        };
        if let Some(c) = cluster {
            merge_conn(&mut self.conn, c.conn);
            if c.config.is_some() {
                self.config = c.config;
            }
        }
        if let Some(w) = write {
            self.write.allow_write |= w.allow_write;
            self.write.read_only |= w.read_only;
        }
        if self.write.allow_write && self.write.read_only {
            return Err(CliError::usage(
                "--allow-write and --read-only contradict each other; pass one of them",
            ));
        }
        Ok(self)
    }
}

fn merge_conn(into: &mut ConnectArgs, later: ConnectArgs) {
    if later.kubeconfig.is_some() {
        into.kubeconfig = later.kubeconfig;
    }
    if later.context.is_some() {
        into.context = later.context;
    }
    if later.namespace.is_some() {
        into.namespace = later.namespace;
    }
    if later.runtime.is_some() {
        into.runtime = later.runtime;
    }
}
