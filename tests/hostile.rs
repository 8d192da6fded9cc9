//! Hostile and broken clusters, against the real binary: one module per theme.

#[path = "hostile/recovery.rs"]
mod recovery;
