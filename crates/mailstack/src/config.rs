//! The configuration files of the private Dovecot and Postfix, rendered from
//! the stack's directory and ports. Pure text: no I/O, so the lines that make
//! the recipe work are unit-tested and documented in one place.

use std::path::Path;

/// What the configuration files depend on.
#[derive(Debug, Clone)]
pub struct Layout<'a> {
    /// The stack's temporary directory; everything lives under it.
    pub dir: &'a Path,
    /// Dovecot's plain IMAP port (STARTTLS offered).
    pub imap_port: u16,
    /// Dovecot's implicit-TLS IMAP port.
    pub imaps_port: u16,
    /// Dovecot's LMTP port, which Postfix delivers to.
    pub lmtp_port: u16,
    /// Dovecot's authentication port, which Postfix's SMTP AUTH asks.
    pub auth_port: u16,
    /// Postfix's plain SMTP port (STARTTLS offered).
    pub smtp_port: u16,
    /// Postfix's implicit-TLS SMTP port.
    pub smtps_port: u16,
    /// The one password every mailbox accepts.
    pub password: &'a str,
    /// Replaces Dovecot's advertised IMAP capabilities when set.
    pub imap_capability: Option<&'a str>,
    /// Dovecot also accepts OAuth2 bearer tokens (see [`dovecot_oauth2_conf`]).
    pub oauth2: bool,
}

/// The capabilities of Dovecot 2.3 without IDLE, MOVE and UIDPLUS: a server
/// that forces a client onto its fallbacks (polling, COPY + \Deleted).
pub const BASIC_IMAP_CAPABILITY: &str = "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE SORT \
     THREAD=REFERENCES MULTIAPPEND UNSELECT CHILDREN NAMESPACE LITERAL+ \
     LIST-EXTENDED I18NLEVEL=1 ESEARCH SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS";

/// `dovecot.conf`.
///
/// The lines that matter:
/// - Dovecot refuses to run its login and internal processes as root:
///   `default_login_user = dovenull`, `default_internal_user = dovecot`
///   (both users come with the Debian package).
/// - Every address is a mailbox: `passdb static` with one password and
///   `userdb static … allow_all_users=yes`, mail stored as the `mail` user
///   (uid 8, hence `first_valid_uid = 8`) under the stack's directory.
/// - `recipient_delimiter = +` makes LMTP deliver `choix+TOKEN@x` into the
///   mailbox of `choix@x`, as a real provider does.
/// - `base_dir` and `state_dir` are private, so several stacks can run at once.
pub fn dovecot_conf(layout: &Layout) -> String {
    let dir = layout.dir.display();
    let capability = match layout.imap_capability {
        Some(capability) => format!("imap_capability = {capability}\n"),
        None => String::new(),
    };
    let (mechanisms, oauth2_passdb) = match layout.oauth2 {
        true => (
            "plain login xoauth2 oauthbearer",
            format!(
                "passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  \
                 args = {dir}/dovecot-oauth2.conf.ext\n}}\n"
            ),
        ),
        false => ("plain login", String::new()),
    };
    format!(
        r#"# Rendered by mailstack.
base_dir = {dir}/dovecot-run
state_dir = {dir}/dovecot-state
instance_name = mailstack-{imap}
protocols = imap lmtp
listen = 127.0.0.1
log_path = {dir}/dovecot.log
info_log_path = {dir}/dovecot.log
default_login_user = dovenull
default_internal_user = dovecot
first_valid_uid = 8
mail_location = maildir:~/Maildir
recipient_delimiter = +
lmtp_save_to_detail_mailbox = no
disable_plaintext_auth = no
auth_mechanisms = {mechanisms}
ssl = yes
ssl_cert = <{dir}/server.pem
ssl_key = <{dir}/server.key
imap_idle_notify_interval = 1 secs
{capability}
{oauth2_passdb}passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid=mail gid=mail home={dir}/mail/%Lu allow_all_users=yes
}}
namespace inbox {{
  inbox = yes
  separator = .
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps}
    ssl = yes
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {lmtp}
  }}
}}
service auth {{
  inet_listener auth-postfix {{
    address = 127.0.0.1
    port = {auth}
  }}
}}
protocol lmtp {{
  postmaster_address = postmaster@localhost
}}
"#,
        auth = layout.auth_port,
        imap = layout.imap_port,
        imaps = layout.imaps_port,
        lmtp = layout.lmtp_port,
        password = layout.password,
    )
}

/// `dovecot-oauth2.conf.ext`: bearer tokens validated locally, as JWTs
/// signed with the key under `oauth2-keys/` (Dovecot 2.3.11 and later), with
/// no token server to ask. The login must be the token's `email` claim
/// (Dovecot's default `username_attribute`).
pub fn dovecot_oauth2_conf(layout: &Layout) -> String {
    format!(
        "introspection_mode = local\nlocal_validation_key_dict = fs:posix:prefix={}/oauth2-keys/\n",
        layout.dir.display()
    )
}

/// `bytes` in standard base64, as Dovecot reads an HMAC key.
pub fn base64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Postfix's `main.cf`.
///
/// The lines that matter:
/// - `mynetworks = 127.0.0.0/8` with `smtpd_relay_restrictions =
///   permit_mynetworks, reject`: anything from the loopback is accepted for
///   any address and any domain; `mydestination` is empty and
///   `default_transport`/`relay_transport` are LMTP to Dovecot, so nothing is
///   delivered locally nor sent to the Internet.
/// - `disable_dns_lookups` and `smtp_dns_support_level = disabled`: no DNS
///   (the machine may have none; the LMTP next hop is a bracketed address).
/// - `maillog_file` (written by the `postlogd` service of `master.cf`) and
///   `enable_long_queue_ids`: a per-stack log the benchmarks read.
/// - `local_header_rewrite_clients =` (empty): Postfix neither rewrites
///   addresses nor adds a missing Date or Message-ID to what clients send,
///   so a test sees exactly what choixbot wrote.
/// - `smtpd_sasl_type = dovecot` on Dovecot's auth port: SMTP AUTH with
///   any address and the stack's password, over TLS only
///   (`smtpd_tls_auth_only`), as at a real submission server. Not required:
///   the loopback may send without it.
/// - Short queue delays, so a message deferred while Dovecot restarts is
///   retried within seconds.
pub fn postfix_main_cf(layout: &Layout) -> String {
    let dir = layout.dir.display();
    format!(
        r#"# Rendered by mailstack.
compatibility_level = 3.6
queue_directory = {dir}/postfix-queue
data_directory = {dir}/postfix-data
mail_owner = postfix
setgid_group = postdrop
myhostname = mailstack.localhost
mydomain = localhost
myorigin = $myhostname
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
local_transport = error:local delivery is disabled
default_transport = lmtp:inet:[127.0.0.1]:{lmtp}
relay_transport = lmtp:inet:[127.0.0.1]:{lmtp}
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_recipient_restrictions = check_recipient_access texthash:{dir}/postfix/recipient_access, permit_mynetworks, reject
smtpd_sender_restrictions = check_sender_access texthash:{dir}/postfix/sender_access
smtpd_delay_reject = no
recipient_delimiter = +
disable_dns_lookups = yes
smtp_dns_support_level = disabled
lmtp_host_lookup = native
smtp_host_lookup = native
maillog_file = {dir}/maillog
maillog_file_prefixes = {dir}
enable_long_queue_ids = yes
message_size_limit = 104857600
biff = no
local_header_rewrite_clients =
delay_warning_time = 0
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
smtpd_tls_cert_file = {dir}/server.pem
smtpd_tls_key_file = {dir}/server.key
smtpd_tls_security_level = may
smtpd_tls_loglevel = 0
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = inet:127.0.0.1:{auth}
smtpd_tls_auth_only = yes
"#,
        lmtp = layout.lmtp_port,
        auth = layout.auth_port,
    )
}

/// Postfix's `master.cf`: the SMTP listeners on the stack's ports, and the
/// internal services, none chrooted (the queue is not a jail).
pub fn postfix_master_cf(layout: &Layout) -> String {
    let mut text = format!(
        "# Rendered by mailstack.\n\
         127.0.0.1:{smtp} inet n - n - - smtpd\n\
         127.0.0.1:{smtps} inet n - n - - smtpd\n  -o smtpd_tls_wrappermode=yes\n  -o smtpd_tls_security_level=encrypt\n",
        smtp = layout.smtp_port,
        smtps = layout.smtps_port,
    );
    for line in [
        "pickup unix n - n 60 1 pickup",
        "cleanup unix n - n - 0 cleanup",
        "qmgr unix n - n 300 1 qmgr",
        "tlsmgr unix - - n 1000? 1 tlsmgr",
        "rewrite unix - - n - - trivial-rewrite",
        "bounce unix - - n - 0 bounce",
        "defer unix - - n - 0 bounce",
        "trace unix - - n - 0 bounce",
        "verify unix - - n - 1 verify",
        "flush unix n - n 1000? 0 flush",
        "proxymap unix - - n - - proxymap",
        "proxywrite unix - - n - 1 proxymap",
        "smtp unix - - n - - smtp",
        "relay unix - - n - - smtp",
        "showq unix n - n - - showq",
        "error unix - - n - - error",
        "retry unix - - n - - error",
        "discard unix - - n - - discard",
        "lmtp unix - - n - - lmtp",
        "anvil unix - - n - 1 anvil",
        "scache unix - - n - 1 scache",
        "postlog unix-dgram n - n - 1 postlogd",
    ] {
        text.push_str(line);
        text.push('\n');
    }
    text
}

/// The `check_recipient_access` table: `ADDRESS REJECT` for each address
/// Postfix must refuse with a 5xx, `ADDRESS 450 …` for each it must defer
/// with a 4xx (for the outbox's failure tests).
pub fn recipient_access(rejected: &[String], deferred: &[String]) -> String {
    let reject = rejected.iter().map(|address| format!("{address} REJECT mailstack: rejected recipient\n"));
    let defer = deferred.iter().map(|address| format!("{address} 450 4.2.0 mailstack: try again later\n"));
    reject.chain(defer).collect()
}

/// The `check_sender_access` table: `ADDRESS REJECT` for each sender
/// Postfix must refuse at MAIL FROM (`smtpd_delay_reject = no`, so the
/// refusal is the answer to MAIL FROM, not to the first RCPT TO).
pub fn sender_access(rejected: &[String]) -> String {
    rejected.iter().map(|address| format!("{address} REJECT mailstack: sender not allowed\n")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(capability: Option<&str>) -> Layout<'_> {
        Layout {
            dir: Path::new("/tmp/stack"),
            imap_port: 10143,
            imaps_port: 10993,
            lmtp_port: 10024,
            auth_port: 10012,
            smtp_port: 10025,
            smtps_port: 10465,
            password: "secret",
            imap_capability: capability,
            oauth2: false,
        }
    }

    #[test]
    fn dovecot_listens_on_the_stack_ports_and_never_logs_in_as_root() {
        let text = dovecot_conf(&layout(None));
        for line in
            ["port = 10143", "port = 10993", "port = 10024", "port = 10012", "default_login_user = dovenull"]
        {
            assert!(text.contains(line), "missing {line:?} in\n{text}");
        }
        assert!(!text.contains("imap_capability"), "{text}");
    }

    #[test]
    fn bearer_tokens_are_accepted_only_when_asked() {
        assert!(!dovecot_conf(&layout(None)).contains("oauth2"));
        let text = dovecot_conf(&Layout { oauth2: true, ..layout(None) });
        assert!(text.contains("auth_mechanisms = plain login xoauth2 oauthbearer"), "{text}");
        let oauth2 = text.find("driver = oauth2").expect("the oauth2 passdb");
        assert!(oauth2 < text.find("driver = static").unwrap(), "tokens are checked first: {text}");
        let ext = dovecot_oauth2_conf(&layout(None));
        assert!(ext.contains("prefix=/tmp/stack/oauth2-keys/"), "{ext}");
    }

    #[test]
    fn the_capability_override_is_rendered_only_when_asked() {
        let text = dovecot_conf(&layout(Some(BASIC_IMAP_CAPABILITY)));
        let line = text.lines().find(|line| line.starts_with("imap_capability")).unwrap();
        for missing in ["IDLE", "MOVE", "UIDPLUS"] {
            assert!(!line.split_whitespace().any(|word| word == missing), "{line}");
        }
    }

    #[test]
    fn postfix_relays_everything_to_dovecot_lmtp_without_dns() {
        let text = postfix_main_cf(&layout(None));
        assert!(text.contains("default_transport = lmtp:inet:[127.0.0.1]:10024"), "{text}");
        assert!(text.contains("disable_dns_lookups = yes"), "{text}");
        assert!(text.contains("mydestination =\n"), "{text}");
        let master = postfix_master_cf(&layout(None));
        assert!(master.contains("127.0.0.1:10025 inet"), "{master}");
        assert!(master.contains("postlogd"), "{master}");
    }

    #[test]
    fn the_reject_table_has_one_line_per_address() {
        let text = recipient_access(&["a@x.fr".into(), "b@y.fr".into()], &["c@z.fr".into()]);
        assert_eq!(text.lines().count(), 3);
        assert!(text.starts_with("a@x.fr REJECT"));
        assert!(text.contains("c@z.fr 450 "));
    }
}
