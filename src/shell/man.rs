//! `kindscope man`: the manual page, generated from the same definitions as `--help`.

use std::path::Path;

use crate::cli::ManArgs;
use crate::error::{CliError, CmdResult, exit};

/// Render the page of `cmd` (roff).
pub fn render(cmd: clap::Command) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd).render(&mut buf)?;
    Ok(buf)
}

/// The root page, then one page per subcommand (`kindscope-diagnose.1`, …), as (file, roff).
pub fn pages() -> std::io::Result<Vec<(String, Vec<u8>)>> {
    let mut root = <crate::cli::Cli as clap::CommandFactory>::command();
    root.build();
    let mut pages = vec![("kindscope.1".to_string(), render(root.clone())?)];
    for sub in root.get_subcommands() {
        if sub.is_hide_set() || sub.get_name() == "help" {
            continue;
        }
        let name = format!("kindscope-{}", sub.get_name());
        let page = sub.clone().name(name.clone()).display_name(name.clone());
        pages.push((format!("{name}.1"), render(page)?));
    }
    Ok(pages)
}

/// `kindscope man [--dir DIR]`: print the root page, or write every page into DIR.
pub fn run(args: &ManArgs) -> CmdResult {
    let pages = pages().map_err(|e| CliError::usage(format!("cannot render the man page: {e}")))?;
    match &args.dir {
        None => {
            let root = pages.first().map(|(_, p)| p.as_slice()).unwrap_or_default();
            crate::commands::output::emit(&String::from_utf8_lossy(root))?;
        }
        Some(dir) => write_all(dir, &pages)?,
    }
    Ok(exit::OK)
}

fn write_all(dir: &Path, pages: &[(String, Vec<u8>)]) -> Result<(), CliError> {
    std::fs::create_dir_all(dir).map_err(|e| {
        CliError::usage(format!(
            "cannot create {}: {e}; pass --dir with a writable directory",
            dir.display()
        ))
    })?;
    for (file, page) in pages {
        let path = dir.join(file);
        std::fs::write(&path, page).map_err(|e| {
            CliError::usage(format!(
                "cannot write {}: {e}; pass --dir with a writable directory",
                path.display()
            ))
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_per_subcommand_named_after_it() {
        let pages = pages().expect("render");
        let names: Vec<&str> = pages.iter().map(|(n, _)| n.as_str()).collect();
        assert!(names.contains(&"kindscope.1"), "{names:?}");
        assert!(names.contains(&"kindscope-diagnose.1"), "{names:?}");
        let root = String::from_utf8_lossy(&pages[0].1);
        assert!(root.contains(".TH kindscope 1"), "{root}");
        assert!(root.contains("diagnose"), "{root}");
    }
}
