//! The error a command ends with, carrying its exit code (docs/cli.md, "Exit codes").

use std::fmt;

/// Exit codes shared by `diagnose`, `fix`, `ref` and the other commands.
pub mod exit {
    /// Healthy / all valid.
    pub const OK: u8 = 0;
    /// Findings remain / some reference invalid.
    pub const FINDINGS: u8 = 1;
    /// Usage or bad input: bad flag, unreadable kubeconfig, unknown context, bad scenario file.
    pub const USAGE: u8 = 2;
    /// Cluster unreachable, unauthenticated, or forbidden for a required resource.
    pub const CLUSTER: u8 = 3;
    /// No finding, but some container in scope has not started yet (`diagnose`, `fix`).
    pub const PENDING: u8 = 4;
}

/// A failure the user must see as one clear sentence on stderr, with its exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliError {
    pub code: u8,
    pub message: String,
}

impl CliError {
    /// Bad input or usage (exit 2). The message names the input and what to do.
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            code: exit::USAGE,
            message: message.into(),
        }
    }
    /// Cluster unreachable, unauthenticated or forbidden (exit 3).
    pub fn cluster(message: impl Into<String>) -> Self {
        Self {
            code: exit::CLUSTER,
            message: message.into(),
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CliError {}

/// What every command returns: an exit code, or an error with its own code.
pub type CmdResult = Result<u8, CliError>;
