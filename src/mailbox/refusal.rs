//! The failures that will not heal by themselves. A dropped connection or a
//! server restarting comes back on its own and the daemon just reconnects;
//! a refused password, an untrusted certificate or a missing folder stays
//! refused until a person changes something. Those are told to the
//! referents by email (not only in a log nobody reads at midnight), so they
//! are recognised here, where the IMAP client still knows what failed.

/// A failure that a person must fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The server answered NO (or BAD) to the login.
    #[error("IMAP login failed for {username} on {address}: the server refused it: {detail}")]
    Login {
        /// `HOST:PORT`.
        address: String,
        /// The login that was refused.
        username: String,
        /// What the server said.
        detail: String,
    },
    /// The server refused two fresh OAuth2 access tokens in a row: the
    /// authorization is valid, but not for this mailbox or this use.
    #[error("IMAP login with OAuth2 failed for {username} on {address}: the server refused a fresh token: {detail}")]
    TokenRefused {
        /// `HOST:PORT`.
        address: String,
        /// The login the token was presented for.
        username: String,
        /// What the server said.
        detail: String,
    },
    /// The OAuth2 refresh token is missing, revoked or expired.
    #[error("cannot log in with OAuth2: {detail}")]
    Authorization {
        /// What the token endpoint said, or that there is no token yet.
        detail: String,
    },
    /// The server's certificate is not trusted.
    #[error("cannot connect to IMAP server {address}: the TLS handshake refused its certificate: {detail}")]
    Certificate {
        /// `HOST:PORT`.
        address: String,
        /// What rustls found wrong.
        detail: String,
    },
    /// The folder the replies arrive in does not exist.
    #[error("cannot select the IMAP folder {folder:?} on {address}: it does not exist: {detail}")]
    MissingFolder {
        /// `HOST:PORT`.
        address: String,
        /// The folder named in `imap.folder`.
        folder: String,
        /// What the server said.
        detail: String,
    },
}

impl Refusal {
    /// A short, stable name of the kind of refusal (for the alert's
    /// identity and `status --json`).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Login { .. } => "login_refused",
            Self::Authorization { .. } => "authorization_refused",
            Self::TokenRefused { .. } => "token_refused",
            Self::Certificate { .. } => "certificate_refused",
            Self::MissingFolder { .. } => "folder_missing",
        }
    }

    /// What the referent should do about it, in one sentence.
    pub fn remedy(&self) -> &'static str {
        match self {
            Self::Login { .. } => {
                "check imap.username and the password (imap.password_env or imap.password_file); \
                 an app password may have been revoked"
            }
            Self::Authorization { .. } => {
                "run `choixbot login` again: the mailbox's OAuth2 authorization was revoked, has \
                 expired, or was never given"
            }
            Self::TokenRefused { .. } => {
                "check that imap.username is the mailbox the authorization was given for, that the \
                 [oauth2] scopes include IMAP, and that IMAP is enabled for the mailbox; then run \
                 `choixbot login` again as that mailbox"
            }
            Self::Certificate { .. } => {
                "give the server's certificate (or its CA) as imap.ca_file, or check imap.host"
            }
            Self::MissingFolder { .. } => "create the folder, or fix imap.folder",
        }
    }

    /// The same, in French, for the alert the referents receive.
    pub fn remedy_in_french(&self) -> &'static str {
        match self {
            Self::Login { .. } => {
                "vérifiez imap.username et le mot de passe (imap.password_env ou imap.password_file) ; \
                 un mot de passe d'application a peut-être été révoqué. choixbot relit le mot de passe \
                 à chaque connexion : inutile de le redémarrer"
            }
            Self::Authorization { .. } => {
                "lancez `choixbot login` à nouveau : l'autorisation OAuth2 de la boîte a été révoquée, \
                 a expiré, ou n'a jamais été donnée. choixbot relit le fichier de jeton à chaque \
                 connexion : inutile de le redémarrer"
            }
            Self::TokenRefused { .. } => {
                "vérifiez qu'imap.username est bien la boîte pour laquelle l'autorisation a été donnée, \
                 que les scopes de [oauth2] comprennent IMAP et qu'IMAP est activé pour la boîte ; puis \
                 lancez `choixbot login` à nouveau en vous connectant comme cette boîte"
            }
            Self::Certificate { .. } => {
                "donnez le certificat du serveur (ou de son autorité) dans imap.ca_file, ou vérifiez imap.host"
            }
            Self::MissingFolder { .. } => "créez le dossier sur le serveur, ou corrigez imap.folder",
        }
    }
}

/// The refusal somewhere in `error`'s chain, if it is one.
pub fn refusal(error: &anyhow::Error) -> Option<&Refusal> {
    error.chain().find_map(|cause| cause.downcast_ref::<Refusal>())
}

/// Whether a NO says "try again later" (RFC 5530's response codes): the
/// authentication backend or the mailbox is busy or down for a moment.
pub(super) fn is_temporary(detail: &str) -> bool {
    ["[UNAVAILABLE]", "[INUSE]", "[LIMIT]", "[SERVERBUG]"].iter().any(|code| detail.contains(code))
}

/// What the server said when it refused a SELECT with NO, unless it means
/// "try again later". Dovecot names a missing folder in UTF-8 in that NO
/// ("Mailbox doesn't exist: Réponses"), which imap-proto cannot parse: the
/// error is then a parse error that still holds the NO line, read here.
pub(super) fn refused_select(error: &async_imap::error::Error) -> Option<String> {
    let detail = match error {
        async_imap::error::Error::No(detail) => detail.trim().to_string(),
        other => {
            let text = other.to_string();
            let (_, after) = text.split_once(" NO ")?;
            after.split("\\r\\n").next().unwrap_or(after).trim_end_matches('"').trim().to_string()
        }
    };
    (!is_temporary(&detail)).then_some(detail)
}

/// Whether a TLS handshake error is a refused certificate (rather than a
/// connection that broke during the handshake), and rustls's words for it.
pub fn certificate_problem(error: &std::io::Error) -> Option<String> {
    let inner = error.get_ref()?.downcast_ref::<tokio_rustls::rustls::Error>()?;
    match inner {
        tokio_rustls::rustls::Error::InvalidCertificate(tokio_rustls::rustls::CertificateError::Other(
            other,
        )) => Some(other.0.to_string()),
        tokio_rustls::rustls::Error::InvalidCertificate(_)
        | tokio_rustls::rustls::Error::NoCertificatesPresented
        | tokio_rustls::rustls::Error::UnsupportedNameType => Some(inner.to_string()),
        _ => None,
    }
}
