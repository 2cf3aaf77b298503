//! Files that hold personal data are the interns' (names, addresses,
//! ranks, sometimes health-related reasons, phone numbers in signatures):
//! they are created readable by their owner only (0600), in directories
//! only the owner can enter (0700), whatever the umask. A file that existed
//! with wider rights is narrowed when choixbot writes it again.
//!
//! What goes through here: the SQLite database and its `-wal` and `-shm`
//! files, the exported lists, the dry-run invitations, and token files.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use anyhow::Context;

/// rw for the owner only.
pub const FILE_MODE: u32 = 0o600;
/// rwx for the owner only.
pub const DIR_MODE: u32 = 0o700;

/// Writes `bytes` to `path`, created (or narrowed) to [`FILE_MODE`].
pub fn write(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(FILE_MODE)
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    restrict(path)?;
    file.write_all(bytes).with_context(|| format!("cannot write {}", path.display()))
}

/// Creates `path` and its missing parents with [`DIR_MODE`]; an existing
/// `path` is narrowed to it.
pub fn create_dir_all(path: &Path) -> anyhow::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(DIR_MODE))
        .with_context(|| format!("cannot restrict {} to its owner", path.display()))
}

/// Narrows an existing file to [`FILE_MODE`] (nothing if it is missing).
pub fn restrict(path: &Path) -> anyhow::Result<()> {
    match std::fs::set_permissions(path, std::fs::Permissions::from_mode(FILE_MODE)) {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        other => other.with_context(|| format!("cannot restrict {} to its owner", path.display())),
    }
}

/// Makes every file the process creates from now on owner-only (umask
/// 077): SQLite creates its `-wal` and `-shm` files itself, later, and the
/// binary sets this first thing, before any of them exists.
pub fn owner_only_from_now_on() {
    // SAFETY: umask only changes the process's file-creation mask; it has
    // no preconditions and cannot fail.
    unsafe {
        libc::umask(0o077);
    }
}
