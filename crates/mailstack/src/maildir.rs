//! Reading what Dovecot delivered, straight from the Maildirs on disk, so a
//! test can check a mailbox without an IMAP client of its own.

use std::path::{Path, PathBuf};

/// The directory of an address's mailbox: Dovecot's home is
/// `mail/%Lu` (the lowercased login), and `+detail` is delivered to the
/// address without it (`recipient_delimiter = +`).
pub fn maildir_of(mail_root: &Path, address: &str) -> PathBuf {
    let address = address.trim().to_lowercase();
    let address = match (address.split_once('+'), address.rsplit_once('@')) {
        (Some((local, _)), Some((_, domain))) => format!("{local}@{domain}"),
        _ => address,
    };
    mail_root.join(address).join("Maildir")
}

/// The directory of one folder: the Maildir itself for INBOX, else
/// `.NAME` (Maildir++ layout, `.` as the hierarchy separator).
pub fn folder_dir(maildir: &Path, folder: &str) -> PathBuf {
    if folder.eq_ignore_ascii_case("INBOX") {
        maildir.to_path_buf()
    } else {
        maildir.join(format!(".{folder}"))
    }
}

/// Every folder of a Maildir: itself and its `.NAME` subdirectories.
pub fn all_folders(maildir: &Path) -> Vec<PathBuf> {
    let mut folders = vec![maildir.to_path_buf()];
    if let Ok(entries) = std::fs::read_dir(maildir) {
        folders.extend(
            entries
                .flatten()
                .filter(|entry| entry.file_name().to_string_lossy().starts_with('.'))
                .map(|entry| entry.path())
                .filter(|path| path.is_dir()),
        );
    }
    folders
}

/// The message files of the given folders (`new/` and `cur/`), oldest
/// delivery first.
pub fn message_files(folders: &[PathBuf]) -> Vec<PathBuf> {
    let mut files: Vec<(DeliveryKey, PathBuf)> = folders
        .iter()
        .flat_map(|folder| ["new", "cur"].map(|sub| folder.join(sub)))
        .filter_map(|dir| std::fs::read_dir(dir).ok())
        .flat_map(|entries| entries.flatten().map(|entry| entry.path()))
        .filter(|path| path.is_file())
        .map(|path| (delivery_key(&path), path))
        .collect();
    files.sort();
    files.into_iter().map(|(_, path)| path).collect()
}

/// (seconds, microseconds, rest of the name): Dovecot names a delivered file
/// `SECONDS.MMICROSECONDSP…` and keeps the name when it moves the message.
type DeliveryKey = (u64, u64, String);

fn delivery_key(path: &Path) -> DeliveryKey {
    let name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    let mut parts = name.splitn(3, '.');
    let seconds = parts.next().and_then(|s| s.parse().ok()).unwrap_or(u64::MAX);
    let micros = parts
        .next()
        .and_then(|part| part.strip_prefix('M'))
        .map(|part| part.chars().take_while(char::is_ascii_digit).collect::<String>())
        .and_then(|digits| digits.parse().ok())
        .unwrap_or(0);
    (seconds, micros, name)
}

/// When Dovecot delivered the message, to the microsecond, read from its
/// file name (the benchmarks' "delivered into the mailbox" instant).
pub fn delivery_time(path: &Path) -> Option<std::time::SystemTime> {
    let (seconds, micros, _) = delivery_key(path);
    (seconds != u64::MAX)
        .then(|| std::time::UNIX_EPOCH + std::time::Duration::new(seconds, (micros * 1000) as u32))
}

/// Whether a message file carries the \Deleted flag (`T` in the `:2,` info).
pub fn is_flagged_deleted(path: &Path) -> bool {
    let name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    name.rsplit_once(":2,").is_some_and(|(_, flags)| flags.contains('T'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plus_detail_is_delivered_to_the_base_address() {
        let root = Path::new("/m");
        assert_eq!(maildir_of(root, "Choix+AB12@Asso.example"), Path::new("/m/choix@asso.example/Maildir"));
    }

    #[test]
    fn messages_sort_by_delivery_time_not_by_name() {
        let earlier = delivery_key(Path::new("1700000000.M999P1.host,S=1:2,"));
        let later = delivery_key(Path::new("1700000000.M1000000P1.host"));
        assert!(earlier < later);
    }

    #[test]
    fn the_delivery_time_has_microseconds() {
        let time = delivery_time(Path::new("1700000000.M250P7.host:2,")).unwrap();
        assert_eq!(time.duration_since(std::time::UNIX_EPOCH).unwrap().as_micros(), 1_700_000_000_000_250);
    }

    #[test]
    fn the_deleted_flag_is_read_from_the_file_name() {
        assert!(is_flagged_deleted(Path::new("1.M1P1.h,S=3:2,ST")));
        assert!(!is_flagged_deleted(Path::new("1.M1P1.h,S=3:2,S")));
    }
}
