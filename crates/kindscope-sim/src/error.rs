//! Why a simulated cluster could not start. The `kindscope` CLI turns each into one sentence
//! naming its flag (and exit code 2); a test that embeds the sim reads them as they are.

use std::path::PathBuf;

use crate::{clock, cluster, identity};

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The scenario cannot be applied to the store (a bad object, a duplicate name).
    #[error("{0}")]
    Scenario(#[from] cluster::PopulateError),
    /// The speed is not a finite number above zero.
    #[error("speed {}: must be a positive number", .0.0)]
    Speed(#[from] clock::InvalidSpeed),
    /// The certificates could not be made (a library failure; never expected).
    #[error("{0}")]
    Identity(#[from] identity::IdentityError),
    /// The port cannot be bound (busy, or not allowed).
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Listen { port: u16, source: std::io::Error },
    /// A triage bundle to replay cannot be read; the message names the file.
    #[error("{message}")]
    Bundle { path: PathBuf, message: String },
}
