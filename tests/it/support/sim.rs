//! A sim in process to test against: started, its kubeconfig written into a temporary
//! directory of its own, and the ways in (the binary, a connection, the dashboard's service).

use std::path::{Path, PathBuf};
use std::process::Output;

use kindscope::cli::ConnectArgs;
use kindscope::cluster::connect::{self, Connection};
use kindscope::sim::scenario::Scenario;
use kindscope::sim::{RunningSim, SimOptions};
use kindscope::tui::cluster_service::{ClusterService, FeedSource, ServiceOptions};

use super::cli;

/// A running sim and the kubeconfig it wrote, in a temporary directory.
pub struct TestSim {
    pub sim: RunningSim,
    pub dir: tempfile::TempDir,
    pub kubeconfig: PathBuf,
}

impl TestSim {
    pub async fn start(scenario: &Scenario, opts: SimOptions) -> TestSim {
        let sim = kindscope::sim::start(scenario, opts)
            .await
            .expect("sim starts");
        let dir = tempfile::tempdir().expect("temp dir");
        let kubeconfig = dir.path().join("kubeconfig");
        sim.write_kubeconfig(&kubeconfig).expect("kubeconfig");
        TestSim {
            sim,
            dir,
            kubeconfig,
        }
    }

    /// The embedded default scenario (gateway-debug) at the default speed.
    pub async fn gateway_debug() -> TestSim {
        TestSim::start(
            &kindscope::sim::scenario::embedded_default(),
            SimOptions::default(),
        )
        .await
    }

    /// `args`, then this sim's kubeconfig and no container runtime (the sim has none).
    pub fn args(&self, args: &[&str]) -> Vec<String> {
        let kc = self.kubeconfig.to_str().expect("utf8 path");
        args.iter()
            .copied()
            .chain(["--kubeconfig", kc, "--runtime", "none"])
            .map(String::from)
            .collect()
    }

    /// The binary with [`TestSim::args`], its journal and configuration in this sim's
    /// directory ([`cli::isolated`]), run to its end.
    pub async fn run(&self, args: &[&str]) -> Output {
        self.run_fed(args, None).await
    }

    /// [`TestSim::run`], `input` (if any) on its stdin.
    pub async fn run_fed(&self, args: &[&str], input: Option<&str>) -> Output {
        cli::output_fed(cli::isolated(&self.args(args), self.dir.path()), input).await
    }

    /// A connection as the commands make it.
    pub async fn connect(&self) -> Connection {
        connect_to(&self.kubeconfig).await
    }
}

/// A scenario of `assets/scenarios/` by name.
pub fn shipped_scenario(name: &str) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("assets/scenarios")
        .join(format!("{name}.yaml"));
    kindscope::sim::scenario::load_file(&path).expect("scenario loads")
}

/// A connection to the cluster of `kubeconfig`, as the commands make it.
pub async fn connect_to(kubeconfig: &Path) -> Connection {
    connect::connect(&ConnectArgs {
        kubeconfig: Some(kubeconfig.to_path_buf()),
        ..ConnectArgs::default()
    })
    .await
    .expect("connects")
}

/// The dashboard's cluster service on `conn`, its feed started from `source`.
pub fn service(conn: Connection, source: FeedSource, options: ServiceOptions) -> ClusterService {
    let feed = source.start(&conn);
    ClusterService::new(conn, feed, source, options)
}
