//! Hostile and broken clusters, credentials and input, against the real binary: one module per
//! theme (docs/security.md says what each proves).

#[path = "hostile/auth.rs"]
mod auth;
#[path = "hostile/recovery.rs"]
mod recovery;
