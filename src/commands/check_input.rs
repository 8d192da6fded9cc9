//! The inputs of `kindscope check`: files, directories (recursively, `.yaml`/`.yml`/`.json`,
//! as `kubectl apply -R -f DIR` reads them) and `-` for standard input.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::CliError;
use crate::manifest;

/// A manifest file larger than this is refused (it is not a hand-written manifest).
const MAX_BYTES: u64 = 32 * 1024 * 1024;

/// One manifest text and where it came from.
#[derive(Debug, Clone)]
pub struct Input {
    /// As the user named it (`deploy/gateway.yaml`, `<stdin>`).
    pub name: String,
    /// `None` for standard input.
    pub path: Option<PathBuf>,
    pub text: String,
    pub templated: bool,
}

impl Input {
    /// Why this input is never rewritten, if it is not.
    pub fn not_editable(&self) -> Option<&'static str> {
        if self.path.is_none() {
            Some("read from standard input; apply the edit to the file it was rendered from")
        } else if self.templated {
            Some(
                "a template ({{ … }}); kindscope does not rewrite templates, edit it or its values by hand",
            )
        } else {
            None
        }
    }
}

/// Every input, in the order given (a directory's files sorted by path).
pub fn read_inputs(args: &[PathBuf]) -> Result<Vec<Input>, CliError> {
    let mut out = Vec::new();
    let mut stdin_seen = false;
    for arg in args {
        if arg.as_os_str() == "-" {
            if stdin_seen {
                return Err(CliError::usage(
                    "-f - is given twice; standard input can be read once",
                ));
            }
            stdin_seen = true;
            let mut text = String::new();
            std::io::stdin()
                .take(MAX_BYTES)
                .read_to_string(&mut text)
                .map_err(|e| {
                    CliError::usage(format!(
                        "cannot read manifests from standard input: {e}; pipe UTF-8 YAML or JSON"
                    ))
                })?;
            out.push(Input {
                name: "<stdin>".into(),
                path: None,
                templated: manifest::is_templated(&text),
                text,
            });
            continue;
        }
        let meta = std::fs::metadata(arg).map_err(|e| {
            CliError::usage(format!(
                "cannot read {}: {e}; pass a manifest file, a directory or - for standard input",
                arg.display()
            ))
        })?;
        if meta.is_dir() {
            let mut files = Vec::new();
            collect(arg, &mut files)?;
            files.sort();
            for f in files {
                out.push(read_file(&f)?);
            }
        } else {
            out.push(read_file(arg)?);
        }
    }
    Ok(out)
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), CliError> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        CliError::usage(format!(
            "cannot list {}: {e}; check its permissions",
            dir.display()
        ))
    })?;
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if kind.is_dir() && !hidden {
            collect(&path, files)?;
        } else if kind.is_file()
            && path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
        {
            files.push(path);
        }
    }
    Ok(())
}

fn read_file(path: &Path) -> Result<Input, CliError> {
    let fail = |why: String| {
        CliError::usage(format!(
            "cannot read {}: {why}; pass a UTF-8 YAML or JSON manifest",
            path.display()
        ))
    };
    let len = std::fs::metadata(path)
        .map_err(|e| fail(e.to_string()))?
        .len();
    if len > MAX_BYTES {
        return Err(fail(format!(
            "it is {len} bytes, more than a manifest should be"
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
    let text = String::from_utf8(bytes).map_err(|_| fail("it is not UTF-8 text".into()))?;
    Ok(Input {
        name: path.display().to_string(),
        path: Some(path.to_path_buf()),
        templated: manifest::is_templated(&text),
        text,
    })
}
