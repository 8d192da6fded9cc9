//! `kindscope.toml`: documented defaults (config/kindscope.toml).
