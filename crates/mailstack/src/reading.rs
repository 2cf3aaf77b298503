//! What the tests read back: the messages Dovecot delivered, straight from
//! the Maildirs, and waiting for them to arrive.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};

use crate::{maildir, process, Delivery, MailStack};

impl MailStack {
    /// Every message delivered to `address`, in every folder, oldest first.
    pub fn messages(&self, address: &str) -> Vec<Vec<u8>> {
        let maildir = maildir::maildir_of(&self.dir.path().join("mail"), address);
        read_all(&maildir::message_files(&maildir::all_folders(&maildir)))
    }

    /// Every message delivered to `address` (all folders) with the instant
    /// Dovecot delivered it, to the microsecond, oldest first: Postfix's
    /// log only has whole seconds, so latency benchmarks use this.
    pub fn deliveries(&self, address: &str) -> Vec<Delivery> {
        let maildir = maildir::maildir_of(&self.dir.path().join("mail"), address);
        maildir::message_files(&maildir::all_folders(&maildir))
            .into_iter()
            .filter_map(|path| {
                let at = maildir::delivery_time(&path)?;
                Some(Delivery { at, raw: std::fs::read(&path).ok()? })
            })
            .collect()
    }

    /// The messages of one folder (`INBOX` or another) of `address`.
    pub fn messages_in(&self, address: &str, folder: &str) -> Vec<Vec<u8>> {
        read_all(&self.message_files_in(address, folder))
    }

    /// How many messages of a folder carry the \Deleted flag (copied away
    /// by a client that could not expunge them).
    pub fn flagged_deleted_in(&self, address: &str, folder: &str) -> usize {
        self.message_files_in(address, folder).iter().filter(|path| maildir::is_flagged_deleted(path)).count()
    }

    fn message_files_in(&self, address: &str, folder: &str) -> Vec<PathBuf> {
        let maildir = maildir::maildir_of(&self.dir.path().join("mail"), address);
        maildir::message_files(&[maildir::folder_dir(&maildir, folder)])
    }

    /// Waits until `address` has at least `count` messages (all folders)
    /// and returns them; fails after `timeout` with what arrived and the
    /// end of Postfix's log.
    pub fn wait_for_messages(&self, address: &str, count: usize, timeout: Duration) -> Result<Vec<Vec<u8>>> {
        let deadline = Instant::now() + timeout;
        loop {
            let messages = self.messages(address);
            if messages.len() >= count {
                return Ok(messages);
            }
            if Instant::now() > deadline {
                bail!(
                    "{address} has {} message(s), not {count}, after {timeout:?}\n{}",
                    messages.len(),
                    process::tails(&[&self.maillog_path(), &self.dir.path().join("dovecot.log")])
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn read_all(files: &[PathBuf]) -> Vec<Vec<u8>> {
    // A file may be renamed (new/ to cur/) between listing and reading.
    files.iter().filter_map(|path| std::fs::read(path).ok()).collect()
}
