//! The floor: what the bare servers take for the same work, measured with
//! the least possible client. A raw IMAP exchange over the plain port (one
//! `UID FETCH 1:*` of every waiting message, read to the end), and Postfix's
//! own `smtp-source` sending as many messages of the answers' size.
//!
//! The sends cost the same downstream as the storm's answers: Postfix hands
//! every message to Dovecot over LMTP on the same two cores, and Dovecot's
//! first delivery to an address creates its Maildir and index. The answers
//! go to 5,000 interns, so the floor's messages go to as many fresh
//! addresses; sent to one mailbox they took a quarter less time.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// What the bulk fetch read.
pub struct Fetched {
    /// How long LOGIN, EXAMINE and the fetch took.
    pub took: Duration,
    /// How many messages came.
    pub messages: usize,
    /// How many bytes of message bodies came.
    pub bytes: usize,
}

/// Fetches every message of INBOX (read-only: EXAMINE and BODY.PEEK, so
/// the daemon finds them untouched afterwards).
pub fn imap_fetch(port: u16, user: &str, password: &str) -> Result<Fetched> {
    let start = Instant::now();
    let stream = TcpStream::connect(("127.0.0.1", port))
        .with_context(|| format!("cannot connect to IMAP server 127.0.0.1:{port}"))?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(Duration::from_secs(120)))?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::with_capacity(1 << 16, stream);
    let mut line = Vec::new();
    reader.read_until(b'\n', &mut line)?; // greeting
    let mut tagged =
        |tag: &str, command: String, reader: &mut BufReader<TcpStream>| -> Result<(usize, usize)> {
            writer.write_all(format!("{tag} {command}\r\n").as_bytes())?;
            read_until_tagged(reader, tag)
        };
    tagged("a1", format!("LOGIN \"{user}\" \"{password}\""), &mut reader)?;
    tagged("a2", "EXAMINE INBOX".into(), &mut reader)?;
    let (messages, bytes) = tagged("a3", "UID FETCH 1:* (UID BODY.PEEK[])".into(), &mut reader)?;
    let took = start.elapsed();
    let _ = tagged("a4", "LOGOUT".into(), &mut reader);
    Ok(Fetched { took, messages, bytes })
}

/// Reads responses up to the tagged one; counts the FETCH responses and
/// their literal bytes.
fn read_until_tagged(reader: &mut BufReader<TcpStream>, tag: &str) -> Result<(usize, usize)> {
    let (mut messages, mut bytes) = (0, 0);
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            bail!("the IMAP server closed the connection before {tag} completed");
        }
        let text = String::from_utf8_lossy(&line);
        if text.starts_with(&format!("{tag} ")) {
            if !text[tag.len() + 1..].starts_with("OK") {
                bail!("the IMAP server answered {tag}: {}", text.trim_end());
            }
            return Ok((messages, bytes));
        }
        if text.starts_with("* ") && text.contains(" FETCH ") {
            messages += 1;
        }
        // A literal {N} at the end of the line: N bytes follow, then more line.
        if let Some(size) = literal_size(&text) {
            let mut literal = vec![0; size];
            reader.read_exact(&mut literal)?;
            bytes += size;
        }
    }
}

fn literal_size(line: &str) -> Option<usize> {
    let line = line.trim_end();
    let open = line.strip_suffix('}')?.rfind('{')?;
    line[open + 1..line.len() - 1].parse().ok()
}

/// Where smtp-source's messages go.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Sink {
    /// One fresh mailbox per message (`-N` numbers the recipient:
    /// `1floor-sink@exemple.fr`, `2floor-sink@…`), as the storm's answers
    /// go to as many interns: Dovecot creates each Maildir, as it does for
    /// the answers. The floor the ratio is taken against.
    Distinct,
    /// Every message to one mailbox: the floor of the first versions of
    /// this benchmark, cheaper downstream; shown for comparison.
    One,
}

impl Sink {
    /// The recipient given to smtp-source, and the suffix of the mailbox
    /// directories that receive the messages.
    pub fn address(self) -> &'static str {
        match self {
            Sink::Distinct => "floor-sink@exemple.fr",
            Sink::One => "floor-one@exemple.fr",
        }
    }
}

/// Sends `count` messages of `size` bytes with `smtp-source` over 8
/// connections, as the outbox worker would; returns how long it took.
pub fn smtp_source(port: u16, count: usize, size: usize, sink: Sink) -> Result<Duration> {
    let program = ["smtp-source", "/usr/sbin/smtp-source"]
        .into_iter()
        .find(|p| Command::new(p).arg("-h").output().is_ok())
        .context("smtp-source not found: it comes with Debian's postfix package")?;
    let mut command = Command::new(program);
    command.args(["-s", "8", "-m", &count.to_string(), "-l", &size.to_string()]).args([
        "-f",
        "floor@asso.example",
        "-t",
        sink.address(),
    ]);
    if sink == Sink::Distinct {
        command.arg("-N");
    }
    command.arg(format!("127.0.0.1:{port}"));
    let start = Instant::now();
    let output = command.output().context("cannot run smtp-source")?;
    let took = start.elapsed();
    if !output.status.success() {
        bail!("smtp-source failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    Ok(took)
}
