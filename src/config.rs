//! `kindscope.toml`: settings with documented defaults (config/kindscope.toml, docs/configuration.md).
//!
//! Read from `--config PATH`, else `$XDG_CONFIG_HOME/kindscope/kindscope.toml` (or
//! `~/.config/kindscope/kindscope.toml`) when it exists, else the defaults. Command-line flags win
//! over the file. Unknown keys are errors, so a typo never silently does nothing.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::cli::RuntimeChoice;
use crate::error::CliError;

/// Which container runtime reads node images.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuntimeSetting {
    /// As kind: $KIND_EXPERIMENTAL_PROVIDER, else docker if it answers, else podman.
    #[default]
    Auto,
    Docker,
    Podman,
    /// API only (`Node.status.images`, capped at 50).
    None,
}

impl RuntimeSetting {
    /// The explicit choice, `None` for `auto`.
    pub fn choice(self) -> Option<RuntimeChoice> {
        match self {
            RuntimeSetting::Auto => None,
            RuntimeSetting::Docker => Some(RuntimeChoice::Docker),
            RuntimeSetting::Podman => Some(RuntimeChoice::Podman),
            RuntimeSetting::None => Some(RuntimeChoice::None),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    #[default]
    Dark,
    Light,
    /// No colours: emphasis by bold/reverse only.
    Mono,
}

/// Timeouts, in seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Timeouts {
    /// Reaching the API server (first list of each resource).
    pub connect_seconds: u64,
    /// One `RUNTIME exec NODE crictl images` (and `image inspect`).
    pub runtime_exec_seconds: u64,
    /// Probing whether docker answers before falling back to podman.
    pub runtime_probe_seconds: u64,
    /// Following a rollout after a fix (`fix --timeout` overrides).
    pub rollout_seconds: u64,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect_seconds: 10,
            runtime_exec_seconds: 10,
            runtime_probe_seconds: 3,
            rollout_seconds: 60,
        }
    }
}

impl Timeouts {
    pub fn connect(&self) -> Duration {
        Duration::from_secs(self.connect_seconds)
    }
    pub fn runtime_exec(&self) -> Duration {
        Duration::from_secs(self.runtime_exec_seconds)
    }
    pub fn runtime_probe(&self) -> Duration {
        Duration::from_secs(self.runtime_probe_seconds)
    }
    pub fn rollout(&self) -> Duration {
        Duration::from_secs(self.rollout_seconds)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub runtime: RuntimeSetting,
    /// Namespaces to show; empty means all (`-n` overrides).
    pub namespaces: Vec<String>,
    /// Contexts (exact names) where fixes may write although they are not local Kind clusters.
    pub allowed_write_contexts: Vec<String>,
    pub theme: Theme,
    pub timeouts: Timeouts,
    /// Where the configuration came from (`None` = defaults); not a key in the file.
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

impl Config {
    /// `--config PATH` (must exist), else the XDG file when present, else the defaults.
    pub fn load(path: Option<&Path>) -> Result<Config, CliError> {
        let default = default_path(
            std::env::var_os("XDG_CONFIG_HOME").map(PathBuf::from),
            dirs::home_dir(),
        );
        Self::load_with(path, default.as_deref())
    }

    /// `load` with the default location given (tests pass a temporary one).
    pub fn load_with(path: Option<&Path>, default: Option<&Path>) -> Result<Config, CliError> {
        match (path, default) {
            (Some(p), _) => Self::read(p),
            (None, Some(d)) if d.is_file() => Self::read(d),
            _ => Ok(Config::default()),
        }
    }

    /// Read and check one file; every error names the file (and the line for bad TOML).
    pub fn read(path: &Path) -> Result<Config, CliError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            CliError::usage(format!(
                "cannot read the config file {}: {e}; fix the path given to --config",
                path.display()
            ))
        })?;
        let mut cfg = Self::parse(&text).map_err(|e| {
            CliError::usage(format!(
                "the config file {} is not valid: {e}; see docs/configuration.md",
                path.display()
            ))
        })?;
        cfg.source = Some(path.to_path_buf());
        Ok(cfg)
    }

    /// Parse TOML text; the error says `line N, column C: message`.
    pub fn parse(text: &str) -> Result<Config, String> {
        toml::from_str::<Config>(text).map_err(|e| {
            let msg = e.message().trim().to_string();
            match e.span() {
                Some(span) => {
                    let (line, col) = line_col(text, span.start);
                    format!("line {line}, column {col}: {msg}")
                }
                None => msg,
            }
        })
    }

    /// May fixes write to this context although it is not a local Kind cluster?
    pub fn write_allowed_for(&self, context: &str) -> bool {
        self.allowed_write_contexts.iter().any(|c| c == context)
    }
}

/// `$XDG_CONFIG_HOME/kindscope/kindscope.toml`, else `~/.config/kindscope/kindscope.toml`.
pub fn default_path(xdg_config_home: Option<PathBuf>, home: Option<PathBuf>) -> Option<PathBuf> {
    // The XDG spec says a relative XDG_CONFIG_HOME is invalid and must be ignored.
    let base = xdg_config_home
        .filter(|p| p.is_absolute())
        .or_else(|| home.map(|h| h.join(".config")))?;
    Some(base.join("kindscope").join("kindscope.toml"))
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHIPPED: &str = include_str!("../config/kindscope.toml");

    #[test]
    fn shipped_file_documents_exactly_the_defaults() {
        assert_eq!(
            Config::parse(SHIPPED).expect("shipped file parses"),
            Config::default()
        );
        // Uncomment every `# key = value` line: the result must still be the defaults, so the
        // documented values cannot drift from the code.
        let uncommented: String = SHIPPED
            .lines()
            .map(|l| match l.strip_prefix("# ") {
                Some(rest) if rest.contains(" = ") && !rest.starts_with(' ') => rest,
                Some(rest) if rest.starts_with('[') => rest,
                _ => l,
            })
            .collect::<Vec<_>>()
            .join("\n");
        assert_ne!(uncommented, SHIPPED, "the shipped file has commented keys");
        let cfg = Config::parse(&uncommented).expect("uncommented shipped file parses");
        assert_eq!(cfg, Config::default());
    }

    #[test]
    fn values_and_errors() {
        let cfg = Config::parse(
            "runtime = \"podman\"\nallowed_write_contexts = [\"staging\"]\n[timeouts]\nrollout_seconds = 5\n",
        )
        .expect("valid");
        assert_eq!(cfg.runtime.choice(), Some(RuntimeChoice::Podman));
        assert!(cfg.write_allowed_for("staging") && !cfg.write_allowed_for("prod"));
        assert_eq!(cfg.timeouts.rollout(), Duration::from_secs(5));
        assert_eq!(cfg.timeouts.connect_seconds, 10);

        let e = Config::parse("theme = \"dark\"\nruntime = \"crio\"\n").expect_err("bad value");
        assert!(e.starts_with("line 2,"), "{e}");
        let e = Config::parse("\n\nrutime = \"docker\"\n").expect_err("typo");
        assert!(e.starts_with("line 3,") && e.contains("rutime"), "{e}");
        let e = Config::parse("runtime = \n").expect_err("syntax");
        assert!(e.starts_with("line 1,"), "{e}");
    }

    #[test]
    fn locations() {
        let dir = tempfile::tempdir().expect("temp dir");
        let missing = dir.path().join("nope.toml");
        let err = Config::load_with(Some(&missing), None).expect_err("explicit file must exist");
        assert_eq!(err.code, crate::error::exit::USAGE);
        assert!(err.message.contains("nope.toml"));
        // Default location absent: defaults.
        assert_eq!(
            Config::load_with(None, Some(&missing)).expect("defaults"),
            Config::default()
        );
        let file = dir.path().join("k.toml");
        std::fs::write(&file, "theme = \"mono\"\nbogus = 1\n").expect("write");
        let err = Config::load_with(None, Some(&file)).expect_err("bad default file is reported");
        assert!(
            err.message.contains("k.toml") && err.message.contains("line 2"),
            "{}",
            err.message
        );
        std::fs::write(&file, "theme = \"mono\"\n").expect("write");
        let cfg = Config::load_with(None, Some(&file)).expect("valid");
        assert_eq!(
            (cfg.theme, cfg.source.as_deref()),
            (Theme::Mono, Some(file.as_path()))
        );

        assert_eq!(
            default_path(Some("/x".into()), Some("/home/u".into())),
            Some(PathBuf::from("/x/kindscope/kindscope.toml"))
        );
        assert_eq!(
            default_path(Some("rel".into()), Some("/home/u".into())),
            Some(PathBuf::from("/home/u/.config/kindscope/kindscope.toml"))
        );
    }
}
