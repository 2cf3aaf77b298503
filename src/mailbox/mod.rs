//! The mailbox the interns' replies arrive in, reached over IMAP: what the
//! daemon needs and nothing more. It connects (TLS, STARTTLS or plain),
//! selects the folder, fetches the messages above the last UID seen, moves
//! processed ones to another folder, and waits for the next change (IDLE,
//! or polling when the server has none). Every step has a timeout, so a
//! silent server costs a reconnection, never a stuck daemon.
//!
//! The daemon's loop:
//! ```text
//! connect → ensure_folder(processed) → select(INBOX)
//! loop { fetch_after(last_uid, max) → store → move_to(processed)
//!        → (again while a fetch returned `max` messages) → wait_for_change }
//! ```
//! Any error means the connection is no longer usable: drop the `Mailbox`
//! and connect again (with backoff).

mod connect;
mod folder_name;
mod idle;
mod login;
pub mod pinning;
mod refusal;

use std::collections::BTreeSet;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use futures::TryStreamExt;

use crate::oauth::TokenSource;
use crate::settings::ImapSettings;
use connect::{within, Stream};
pub use idle::Wake;
pub use refusal::{certificate_problem, refusal, Refusal};

/// An IMAP session after login.
type Session = async_imap::Session<Stream>;

/// How many messages one `UID FETCH` asks for: large enough to amortise the
/// round trip, small enough that one batch of big messages fits in memory.
const FETCH_BATCH: usize = 100;

/// What `SELECT` tells about a folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FolderState {
    /// UIDVALIDITY: when it changes, every UID seen before is meaningless.
    pub uidvalidity: u32,
    /// The UID the next message will get (the server's prediction).
    pub uid_next: u32,
    /// How many messages the folder holds.
    pub exists: u32,
}

/// One message as fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// Its UID in the selected folder.
    pub uid: u32,
    /// Its bytes exactly as the server stores them (`BODY.PEEK[]`, so the
    /// \Seen flag is not set).
    pub raw: Vec<u8>,
    /// When the server received it (INTERNALDATE): what decides whether a
    /// reply was on time (SPEC §11), whenever it is fetched. `None` only
    /// from a server that gives no date.
    pub received: Option<chrono::DateTime<chrono::Utc>>,
}

/// The extensions the daemon uses, as advertised after login.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ServerCapabilities {
    /// IDLE (RFC 2177): the server pushes changes.
    pub idle: bool,
    /// MOVE (RFC 6851): an atomic move.
    pub move_command: bool,
    /// UIDPLUS (RFC 4315): `UID EXPUNGE` of chosen messages only.
    pub uidplus: bool,
}

/// How [`Mailbox::move_to`] took the messages out of the folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moved {
    /// MOVE, or COPY + \Deleted + UID EXPUNGE: gone from the folder.
    Moved,
    /// COPY + \Deleted only (no MOVE, no UIDPLUS): still in the folder,
    /// flagged \Deleted, until some client expunges it.
    CopiedAndFlaggedDeleted,
}

/// A logged-in IMAP connection.
pub struct Mailbox {
    /// The session; `None` once IDLE failed half-way (the connection is
    /// then unusable and every call says so).
    session: Option<Session>,
    /// `HOST:PORT`, for messages.
    address: String,
    /// The deadline of every command.
    timeout: Duration,
    /// Seconds between two checks when the server has no IDLE.
    poll_interval: Duration,
    /// The longest silence from the server during IDLE before the
    /// connection is checked (a dead one sends nothing, not even a FIN).
    idle_silence: Duration,
    /// What the server offers.
    capabilities: ServerCapabilities,
    /// The server announced new mail (EXISTS/RECENT) at the end of a
    /// command, after the view that command worked on: the next
    /// [`Mailbox::wait_for_change`] returns at once instead of waiting.
    pending_change: bool,
}

impl Mailbox {
    /// Connects, logs in as `settings.username` (with the password, or a
    /// token from `tokens` when `imap.auth = "oauth2"`) and reads the
    /// capabilities.
    pub async fn connect(settings: &ImapSettings, tokens: Option<&TokenSource>) -> Result<Mailbox> {
        let timeout = Duration::from_secs(settings.timeout_seconds.max(1));
        let address = format!("{}:{}", settings.host, settings.port);
        let session = login::open_session(settings, tokens, timeout).await?;
        let mut mailbox = Mailbox {
            session: Some(session),
            address,
            timeout,
            poll_interval: Duration::from_secs(settings.poll_seconds.max(1)),
            idle_silence: Duration::from_secs(settings.idle_silence_seconds.max(1)),
            capabilities: ServerCapabilities::default(),
            pending_change: false,
        };
        let advertised = within(timeout, "CAPABILITY", mailbox.session()?.capabilities()).await?;
        mailbox.capabilities = ServerCapabilities {
            idle: advertised.has_str("IDLE"),
            move_command: advertised.has_str("MOVE"),
            uidplus: advertised.has_str("UIDPLUS"),
        };
        Ok(mailbox)
    }

    /// IDLE, MOVE and UIDPLUS, as the server advertised them after login.
    pub fn capabilities(&self) -> ServerCapabilities {
        self.capabilities
    }

    /// Creates `folder` unless it exists; true when it was created.
    pub async fn ensure_folder(&mut self, folder: &str) -> Result<bool> {
        let timeout = self.timeout;
        let message = format!("cannot create the IMAP folder {folder:?} on {}", self.address);
        let context = || message.clone();
        let name = folder_name::encode(folder);
        // async-imap sends the LIST pattern as given (a pattern may hold
        // wildcards), so it is quoted here: a name with a space was read
        // as two arguments. `*` and `%` stay wildcards even quoted, hence
        // the exact comparison of what comes back.
        let pattern = format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""));
        let session = self.session()?;
        let listed = within(timeout, "LIST", async {
            session.list(Some(""), Some(&pattern)).await?.try_collect::<Vec<_>>().await
        })
        .await
        .with_context(context)?;
        if listed.iter().any(|found| found.name() == name) {
            return Ok(false);
        }
        within(timeout, "CREATE", self.session()?.create(&name)).await.with_context(context)?;
        Ok(true)
    }

    /// Selects `folder` for the calls that follow.
    pub async fn select(&mut self, folder: &str) -> Result<FolderState> {
        let timeout = self.timeout;
        let selected =
            match tokio::time::timeout(timeout, self.session()?.select(folder_name::encode(folder))).await {
                Ok(Ok(selected)) => selected,
                Ok(Err(error)) if refusal::refused_select(&error).is_some() => {
                    return Err(anyhow!(Refusal::MissingFolder {
                        address: self.address.clone(),
                        folder: folder.to_string(),
                        detail: refusal::refused_select(&error).unwrap_or_default(),
                    }))
                }
                Ok(Err(error)) => {
                    return Err(anyhow!(error)
                        .context(format!("cannot select the IMAP folder {folder:?} on {}", self.address)))
                }
                Err(_) => {
                    bail!("SELECT of {folder:?} on {} timed out after {}s", self.address, timeout.as_secs())
                }
            };
        let uidvalidity = selected
            .uid_validity
            .ok_or_else(|| anyhow!("the IMAP server {} gave no UIDVALIDITY for {folder:?}", self.address))?;
        Ok(FolderState { uidvalidity, uid_next: selected.uid_next.unwrap_or(0), exists: selected.exists })
    }

    /// The messages of the selected folder whose UID is above `last_uid`,
    /// oldest first, at most `max`, whatever their flags. When it returns
    /// `max` messages there may be more: call it again before waiting.
    ///
    /// Flags are deliberately ignored. Another client (the referent's mail
    /// program, a phone) may mark a reply \Seen or even \Deleted before
    /// the daemon gets to it; it is still a reply, and skipping it would
    /// lose it for good. Our own copies flagged \Deleted by the fallback of
    /// [`Mailbox::move_to`] need no filter: they are at or below the
    /// recorded position. After a UIDVALIDITY change they are read again
    /// and recognised as duplicates by Message-ID and content hash.
    ///
    /// It starts with a NOOP: Dovecot (like most servers) shows a session
    /// the messages delivered since its last command only at the end of a
    /// command, so without it a SEARCH would miss what arrived just before.
    ///
    /// `UID SEARCH UID n:*` (like `UID FETCH n:*`) also returns the last
    /// message when every UID is below `n` (RFC 3501 §6.4.8: `*` is the
    /// largest UID in use), so the answer is filtered.
    pub async fn fetch_after(&mut self, last_uid: u32, max: usize) -> Result<Vec<Fetched>> {
        let timeout = self.timeout;
        within(timeout, "NOOP", self.session()?.noop()).await?;
        // Everything announced so far is in the view the search works on.
        self.drain_unsolicited();
        self.pending_change = false;
        let query = format!("UID {}:*", last_uid.saturating_add(1));
        let found = within(timeout, "UID SEARCH", self.session()?.uid_search(&query)).await?;
        let uids: Vec<u32> = found
            .into_iter()
            .filter(|&uid| uid > last_uid)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .take(max)
            .collect();
        let mut fetched = Vec::with_capacity(uids.len());
        for batch in uids.chunks(FETCH_BATCH) {
            fetched.extend(self.fetch_batch(batch).await?);
        }
        fetched.retain(|message| message.uid > last_uid);
        fetched.sort_by_key(|message| message.uid);
        self.drain_unsolicited();
        Ok(fetched)
    }

    async fn fetch_batch(&mut self, uids: &[u32]) -> Result<Vec<Fetched>> {
        let timeout = self.timeout;
        let set = uid_set(uids);
        let session = self.session()?;
        let responses = within(timeout, "UID FETCH", async {
            session.uid_fetch(&set, "(UID INTERNALDATE BODY.PEEK[])").await?.try_collect::<Vec<_>>().await
        })
        .await?;
        Ok(responses
            .iter()
            .filter_map(|fetch| {
                Some(Fetched {
                    uid: fetch.uid?,
                    raw: fetch.body()?.to_vec(),
                    received: fetch.internal_date().map(|at| at.with_timezone(&chrono::Utc)),
                })
            })
            .collect())
    }

    /// The highest UID in the selected folder now, or `last_uid` when no
    /// message is above it: everything the server has received so far has
    /// a UID at or below it (UIDs grow in the order messages are stored).
    /// At the deadline this is how far the folder must be read.
    pub async fn highest_uid_after(&mut self, last_uid: u32) -> Result<u32> {
        let timeout = self.timeout;
        within(timeout, "NOOP", self.session()?.noop()).await?;
        self.drain_unsolicited();
        let query = format!("UID {}:*", last_uid.saturating_add(1));
        let found = within(timeout, "UID SEARCH", self.session()?.uid_search(&query)).await?;
        Ok(found.into_iter().filter(|&uid| uid > last_uid).max().unwrap_or(last_uid))
    }

    /// Takes `uids` out of the selected folder into `folder`.
    ///
    /// MOVE when offered. Otherwise `UID COPY` + `UID STORE +FLAGS
    /// (\Deleted)` + `UID EXPUNGE` of exactly these UIDs (UIDPLUS). Without
    /// UIDPLUS the copy is flagged \Deleted and left there: a plain EXPUNGE
    /// would also erase every message another client flagged \Deleted, which
    /// is not ours to decide.
    ///
    /// When another client has just expunged some of `uids` (moved them
    /// elsewhere, say) and this session has not been told yet, Dovecot
    /// refuses the whole command with `NO [EXPUNGEISSUED]`. A NOOP brings
    /// the expunges into this session's view; the same command is then
    /// tried once more, and UID commands skip UIDs that no longer exist.
    /// Without this the daemon dropped its connection and reconnected.
    pub async fn move_to(&mut self, uids: &[u32], folder: &str) -> Result<Moved> {
        if uids.is_empty() {
            return Ok(Moved::Moved);
        }
        let timeout = self.timeout;
        let set = uid_set(uids);
        let message = format!("cannot move messages {set} to {folder:?} on {}", self.address);
        let context = || message.clone();
        let outcome = match self.try_move(&set, folder).await {
            Err(async_imap::error::Error::No(text)) if text.contains("EXPUNGEISSUED") => {
                within(timeout, "NOOP", self.session()?.noop()).await.with_context(context)?;
                self.drain_unsolicited();
                self.try_move(&set, folder).await
            }
            outcome => outcome,
        };
        let outcome = outcome.map_err(anyhow::Error::from).with_context(context)?;
        self.drain_unsolicited();
        Ok(outcome)
    }

    /// One attempt of [`Mailbox::move_to`], its IMAP error kept apart.
    async fn try_move(&mut self, set: &str, folder: &str) -> async_imap::error::Result<Moved> {
        let timeout = self.timeout;
        let capabilities = self.capabilities;
        let lost = || async_imap::error::Error::ConnectionLost;
        let session = self.session.as_mut().ok_or_else(lost)?;
        let folder = folder_name::encode(folder);
        let attempt = async {
            if capabilities.move_command {
                session.uid_mv(set, &folder).await?;
                return Ok(Moved::Moved);
            }
            session.uid_copy(set, &folder).await?;
            session.uid_store(set, "+FLAGS.SILENT (\\Deleted)").await?.try_collect::<Vec<_>>().await?;
            if !capabilities.uidplus {
                return Ok(Moved::CopiedAndFlaggedDeleted);
            }
            session.uid_expunge(set).await?.try_collect::<Vec<_>>().await?;
            Ok(Moved::Moved)
        };
        match tokio::time::timeout(timeout, attempt).await {
            Ok(outcome) => outcome,
            Err(_) => Err(async_imap::error::Error::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("no answer to the move within {}s", timeout.as_secs()),
            ))),
        }
    }

    /// Logs out politely (best effort: the connection is closed anyway).
    pub async fn logout(mut self) -> Result<()> {
        let timeout = self.timeout;
        within(timeout, "LOGOUT", self.session()?.logout()).await
    }

    fn session(&mut self) -> Result<&mut Session> {
        let address = &self.address;
        self.session
            .as_mut()
            .ok_or_else(|| anyhow!("the IMAP connection to {address} was lost; connect again"))
    }

    /// Empties async-imap's channel of unsolicited responses, remembering
    /// in `pending_change` whether any announced new mail (EXISTS, RECENT;
    /// an EXPUNGE, e.g. after our own MOVE, is not new mail), and returns
    /// `pending_change`. The channel holds 100 responses and drops the rest
    /// silently, so it is emptied after every command.
    fn drain_unsolicited(&mut self) -> bool {
        use async_imap::types::UnsolicitedResponse as U;
        let Some(session) = self.session.as_mut() else { return false };
        while let Ok(response) = session.unsolicited_responses.try_recv() {
            self.pending_change |= matches!(response, U::Exists(_) | U::Recent(_));
        }
        self.pending_change
    }
}

/// `1,3:5,9` for [1, 3, 4, 5, 9]: the compact form keeps a batch of
/// consecutive UIDs in a short command line.
fn uid_set(uids: &[u32]) -> String {
    let sorted: BTreeSet<u32> = uids.iter().copied().collect();
    let mut ranges: Vec<(u32, u32)> = Vec::new();
    for uid in sorted {
        match ranges.last_mut() {
            Some((_, end)) if *end + 1 == uid => *end = uid,
            _ => ranges.push((uid, uid)),
        }
    }
    ranges
        .iter()
        .map(|&(start, end)| if start == end { start.to_string() } else { format!("{start}:{end}") })
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consecutive_uids_are_sent_as_ranges() {
        assert_eq!(uid_set(&[9, 3, 4, 5, 1]), "1,3:5,9");
        assert_eq!(uid_set(&[7]), "7");
    }
}
