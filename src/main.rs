//! kindscope entry point: parse arguments, dispatch, map errors to exit codes (docs/cli.md).

use std::process::ExitCode;

use clap::FromArgMatches;
use kindscope::cli::{Cli, Command, SimCommand};
use kindscope::commands;
use kindscope::error::{CliError, exit};
use kindscope::shell;

fn main() -> ExitCode {
    // SIGPIPE stays ignored (Rust's default): with it at its default, a peer hanging up on a
    // socket (a watch client leaving `sim serve`, an API server closing a kept-alive
    // connection) killed the whole process. Output to a closed pipe is handled where it is
    // written (`commands::output::emit`).
    let argv0 = std::env::args_os().next();
    // A shell asking for completions: answer and exit before anything is printed.
    shell::complete::handle_request();
    if shell::plugin::invoked_for_kubectl_completion(argv0.as_deref()) {
        return ExitCode::from(shell::plugin::kubectl_complete());
    }
    let matches = shell::plugin::command(argv0.as_deref()).get_matches();
    let parsed = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let cli = match parsed.resolve() {
        Ok(cli) => cli,
        Err(CliError { code, message }) => {
            eprintln!("kindscope: {message}");
            return ExitCode::from(code);
        }
    };
    shell::color::set_choice(cli.color);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("kindscope: cannot start the async runtime: {e}");
            return ExitCode::from(exit::USAGE);
        }
    };
    let result = runtime.block_on(dispatch(cli));
    // Watchers and servers may still hold tasks; do not wait for them on exit.
    runtime.shutdown_background();
    match result {
        Ok(code) => ExitCode::from(code),
        Err(CliError { code, message }) => {
            // The sentence may quote cluster data: escaped like every other output.
            kindscope::commands::output::eprint_safe(&format!("kindscope: {message}\n"));
            ExitCode::from(code)
        }
    }
}

async fn dispatch(cli: Cli) -> Result<u8, CliError> {
    let interactive = matches!(cli.command, None | Some(Command::Demo(_)));
    if !interactive {
        kindscope::logging::init_stderr();
    }
    match &cli.command {
        None => kindscope::tui::run_attached(&cli).await,
        Some(Command::Demo(args)) => kindscope::tui::run_demo(&cli, args).await,
        Some(Command::Diagnose(args)) => commands::diagnose::run(&cli, args).await,
        Some(Command::Fix(args)) => commands::fix::run(&cli, args).await,
        Some(Command::Undo(args)) => commands::undo::run(&cli, args).await,
        Some(Command::Journal(args)) => commands::journal_cmd::run(&cli, args),
        Some(Command::Check(args)) => commands::check::run(&cli, args).await,
        Some(Command::Wait(args)) => commands::wait::run(&cli, args).await,
        Some(Command::Ref(args)) => commands::ref_cmd::run(args),
        Some(Command::Snapshot(args)) => commands::bundle_cmd::run(&cli, args).await,
        Some(Command::Load(args)) => commands::load::run(&cli, args).await,
        #[cfg(feature = "demo")]
        Some(Command::Sim(SimCommand::Serve(args))) => commands::sim_serve::run(args).await,
        #[cfg(not(feature = "demo"))]
        Some(Command::Sim(SimCommand::Serve(_))) => Err(commands::without_demo("sim serve")),
        Some(Command::Completions(args)) => shell::complete::run(args),
        Some(Command::Man(args)) => shell::man::run(args),
    }
}
