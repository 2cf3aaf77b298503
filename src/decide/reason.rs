//! Why a reply is not taken into account: the reasons a decision gives,
//! each naming the number or address concerned. How each is worded for the
//! intern is `answer`'s business (`Reason::sentence`).

use serde::{Deserialize, Serialize};

/// One reason a reply is not taken into account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", content = "detail", rename_all = "snake_case")]
pub enum Reason {
    /// A number written as a choice that is no open post at all.
    UnknownNumber(String),
    /// A post that exists, but is opened to other groups only.
    NotOpenToGroup {
        /// The number written.
        ars_id: String,
        /// The intern's group (DES).
        group: String,
    },
    /// The same number written twice in one list.
    DuplicateNumber(String),
    /// The message holds no ARS number at all.
    NoNumberFound,
    /// The sender is neither an intern nor a proxy of this session.
    UnknownSender {
        /// The address the message came from.
        address: String,
    },
    /// The personal reference in the message belongs to another intern.
    TokenOfSomeoneElse,
    /// The personal reference in the message was issued with an invitation
    /// to an address that is no longer on the call list (the intern was
    /// removed, or their address changed): it has expired.
    ExpiredToken,
    /// Told to the owner of a token: their reference was used from
    /// another address, and that message was not taken into account.
    TokenUsedBy {
        /// The address the message came from.
        address: String,
    },
    /// The message arrived after the close.
    AfterDeadline,
    /// More numbers than a reply may hold.
    TooManyNumbers {
        /// How many numbers the message held.
        count: usize,
        /// How many are accepted.
        max: usize,
    },
    /// The sender's provider says the message was not sent by them (SPF,
    /// DKIM or DMARC failed in a trusted `Authentication-Results`).
    AuthenticationFailed,
    /// `PROCURATION` from a proxy: only the intern designates their proxy.
    ProxyByInternOnly,
    /// `PROCURATION` followed by something that is no email address.
    ProxyAddressUnreadable(String),
    /// `PROCURATION` naming the intern's own address.
    ProxyIsYourself,
    /// `PROCURATION` naming the proxy already in force.
    ProxyAlreadyYours {
        /// The address named.
        address: String,
    },
    /// The address is already proxy for another intern, or has been asked
    /// to be: one person holds at most one proxy (seed 000).
    ProxyTaken {
        /// The address named.
        address: String,
    },
    /// `ACCEPTE` from an address no request was sent to.
    NoProxyRequest,
    /// `ABSENT` or `PLUS TARD` (the word), which only mean something in
    /// the virtual amphi.
    AmphiOnly(String),
    /// The sender is registered for two interns (as an intern and as a
    /// proxy) and the reply carries no token to tell which.
    AmbiguousSender,
}
