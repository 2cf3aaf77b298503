//! The one change the stack makes outside its own directory: Postfix
//! accepts a private configuration directory (`postfix -c DIR`) only when
//! the default `/etc/postfix/main.cf` lists it in
//! `alternate_config_directories`.
//!
//! The line is rewritten under a file lock (several stacks start at once),
//! keeping only directories that still exist, so it never grows without end.

use std::fs::File;
use std::path::Path;

use anyhow::{Context, Result};

const MAIN_CF: &str = "/etc/postfix/main.cf";
const KEY: &str = "alternate_config_directories";

/// Adds `dir` to `alternate_config_directories` in `/etc/postfix/main.cf`.
pub fn allow_config_directory(dir: &Path) -> Result<()> {
    let lock =
        File::create("/etc/postfix/.mailstack.lock").context("cannot create /etc/postfix/.mailstack.lock")?;
    lock.lock().context("cannot lock /etc/postfix/.mailstack.lock")?;
    let text = std::fs::read_to_string(MAIN_CF).with_context(|| {
        format!("cannot read {MAIN_CF}: is Postfix installed (scripts/install-test-deps.sh)?")
    })?;
    let updated = with_directory(&text, &dir.display().to_string(), |path| Path::new(path).is_dir());
    if updated != text {
        let temporary = format!("{MAIN_CF}.mailstack-{}", std::process::id());
        std::fs::write(&temporary, &updated).with_context(|| format!("cannot write {temporary}"))?;
        std::fs::rename(&temporary, MAIN_CF).with_context(|| format!("cannot replace {MAIN_CF}"))?;
    }
    Ok(())
}

/// `text` with `dir` in its `alternate_config_directories` line, dropping
/// the listed directories for which `keep` is false. Pure, for the tests.
fn with_directory(text: &str, dir: &str, keep: impl Fn(&str) -> bool) -> String {
    let mut directories: Vec<String> = Vec::new();
    let mut lines: Vec<&str> = Vec::new();
    for line in text.lines() {
        match line.split_once('=') {
            Some((key, value)) if key.trim() == KEY => {
                directories.extend(value.split([' ', ',']).filter(|d| !d.is_empty()).map(str::to_string));
            }
            _ => lines.push(line),
        }
    }
    directories.retain(|listed| listed == dir || keep(listed));
    if !directories.iter().any(|listed| listed == dir) {
        directories.push(dir.to_string());
    }
    let mut out: String = lines.iter().map(|line| format!("{line}\n")).collect();
    out.push_str(&format!("{KEY} = {}\n", directories.join(" ")));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_directory_is_added_once_and_gone_ones_are_dropped() {
        let text = "myhostname = x\nalternate_config_directories = /gone /kept\n";
        let once = with_directory(text, "/new", |dir| dir == "/kept");
        assert_eq!(once, "myhostname = x\nalternate_config_directories = /kept /new\n");
        assert_eq!(with_directory(&once, "/new", |dir| dir == "/kept"), once);
    }
}
