//! At home in a developer's shell: colour conventions, completion scripts, the man page, and
//! running as a kubectl plugin (docs/install.md).

pub mod color;
pub mod complete;
pub mod man;
pub mod plugin;
