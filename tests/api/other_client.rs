//! Another IMAP client in the daemon's mailbox, speaking plain IMAP with
//! async-imap directly: a referent's mail program or phone that reads,
//! flags and deletes messages. The library's `Mailbox` only does what the
//! daemon needs; this one does what users do to it.

use futures::TryStreamExt;
use tokio::net::TcpStream;

/// A logged-in session over the stack's plain IMAP port.
pub struct OtherClient {
    /// The async-imap session.
    session: async_imap::Session<TcpStream>,
}

impl OtherClient {
    /// Logs in as `user` on `127.0.0.1:port` and selects `folder`.
    pub async fn connect(port: u16, user: &str, password: &str, folder: &str) -> OtherClient {
        let tcp = TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap_or_else(|error| panic!("cannot connect to IMAP server 127.0.0.1:{port}: {error}"));
        let mut client = async_imap::Client::new(tcp);
        let _greeting = client.read_response().await.expect("the IMAP greeting");
        let mut session = client.login(user, password).await.map_err(|(error, _)| error).expect("IMAP login");
        session.select(folder).await.expect("SELECT");
        OtherClient { session }
    }

    /// The UIDs of every message of the selected folder, flags or not.
    pub async fn uids(&mut self) -> Vec<u32> {
        let mut uids: Vec<u32> =
            self.session.uid_search("ALL").await.expect("UID SEARCH").into_iter().collect();
        uids.sort_unstable();
        uids
    }

    /// Adds `flags` (e.g. `\Seen \Deleted`) to `uids`, without expunging.
    /// It fails (`NO [EXPUNGEISSUED]`) when some of them were just moved
    /// away by another session: call [`OtherClient::noop`] and go on.
    pub async fn add_flags(&mut self, uids: &[u32], flags: &str) -> async_imap::error::Result<()> {
        if uids.is_empty() {
            return Ok(());
        }
        let set = uids.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
        self.session
            .uid_store(&set, format!("+FLAGS.SILENT ({flags})"))
            .await?
            .try_collect::<Vec<_>>()
            .await?;
        Ok(())
    }

    /// Lets the server tell this session what other sessions changed.
    pub async fn noop(&mut self) {
        self.session.noop().await.expect("NOOP");
    }

    /// The UIDs flagged \Deleted in the selected folder.
    pub async fn deleted(&mut self) -> Vec<u32> {
        self.session.uid_search("DELETED").await.expect("UID SEARCH DELETED").into_iter().collect()
    }

    pub async fn logout(mut self) {
        let _ = self.session.logout().await;
    }
}
