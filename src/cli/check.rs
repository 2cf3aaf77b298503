//! `choixbot check`, to run before `invite`: does the mailbox work, as the
//! daemon will use it? A referent must not learn at midnight that the
//! password was wrong or the certificate refused. It logs in to IMAP,
//! selects the folder, creates the processed folder when it is missing and
//! looks at the extensions the daemon uses; it logs in to SMTP and has the
//! server accept the sender, sending nothing; it renders the templates.
//! Each failure says what to change. Exit 0 when everything works, 1 when
//! something does not.

use std::path::Path;
use std::sync::Arc;

use crate::answer::Templates;
use crate::mailbox::Mailbox;
use crate::oauth::TokenSource;
use crate::outbox::probe::{self, Step};
use crate::settings::{Auth, ImapSettings, Settings};
use crate::{Error, Result};

/// One line of the report.
struct Line {
    /// What was checked, and how it went.
    said: String,
    /// For a failure, what to change.
    remedy: Option<String>,
}

/// The report: what works, what does not.
#[derive(Default)]
struct Report {
    /// Every line, in order.
    lines: Vec<Line>,
}

impl Report {
    fn ok(&mut self, said: impl Into<String>) {
        self.lines.push(Line { said: format!("ok      {}", said.into()), remedy: None });
    }

    fn note(&mut self, said: impl Into<String>) {
        self.lines.push(Line { said: format!("note    {}", said.into()), remedy: None });
    }

    fn failed(&mut self, said: impl Into<String>, remedy: impl Into<String>) {
        self.lines.push(Line { said: format!("FAILED  {}", said.into()), remedy: Some(remedy.into()) });
    }

    fn heading(&mut self, said: impl Into<String>) {
        self.lines.push(Line { said: said.into(), remedy: None });
    }

    fn failures(&self) -> usize {
        self.lines.iter().filter(|line| line.remedy.is_some()).count()
    }

    fn print(&self) {
        for line in &self.lines {
            println!("{}", line.said);
            if let Some(remedy) = &line.remedy {
                println!("        → {remedy}");
            }
        }
    }
}

/// What the checks log in with when a server takes OAuth2: one token
/// source for IMAP, SMTP and the test message, so that one refresh serves
/// them all; or why there is none.
type Tokens = std::result::Result<Option<Arc<TokenSource>>, String>;

fn tokens(settings: &Settings) -> Tokens {
    crate::collect::token_source(settings, crate::clock::Clock::from_env())
        .map_err(|error| format!("{error:#}"))
}

pub async fn check(config: &Path, send: bool) -> Result<()> {
    let settings = Settings::load(config)?;
    let tokens = tokens(&settings);
    let mut report = Report::default();
    imap(&settings.imap, &tokens, &mut report).await;
    smtp(&settings, &tokens, &mut report).await;
    templates(&settings, &mut report);
    if send && report.failures() == 0 {
        test_message(&settings, tokens.ok().flatten(), &mut report).await;
    }
    report.print();
    match report.failures() {
        0 => {
            println!("Everything works: choixbot invite and choixbot run can use this mailbox.");
            Ok(())
        }
        failures => Err(Error::Runtime(anyhow::anyhow!(
            "{failures} problem(s) found: fix them in {} and run choixbot check again",
            config.display()
        ))),
    }
}

/// Before `invite` sends anything: whether IMAP and SMTP work, as
/// [`check`] sees them. On a failure it prints the report and refuses:
/// invitations whose replies cannot be read, or that cannot leave, are
/// worse than none.
pub async fn before_invite(settings: &Settings) -> Result<()> {
    let tokens = tokens(settings);
    let mut report = Report::default();
    imap(&settings.imap, &tokens, &mut report).await;
    smtp(settings, &tokens, &mut report).await;
    if report.failures() == 0 {
        return Ok(());
    }
    report.print();
    Err(Error::Runtime(anyhow::anyhow!(
        "the mailbox cannot be used as configured ({} problem(s) above): nothing was queued nor sent. \
         Fix it and check with choixbot check, or invite anyway with choixbot invite --force",
        report.failures()
    )))
}

fn templates(settings: &Settings, report: &mut Report) {
    report.heading("Templates:");
    match Templates::load(settings.mail.templates_dir.as_deref()).and_then(|templates| templates.check()) {
        Ok(()) => report.ok("every template renders"),
        Err(error) => report.failed(
            format!("{error:#}"),
            "fix the template named above, or remove it to use the built-in one",
        ),
    }
}

async fn imap(settings: &ImapSettings, tokens: &Tokens, report: &mut Report) {
    let address = format!("{}:{}", settings.host, settings.port);
    report.heading(format!("IMAP {address} ({}), as {}:", settings.security.as_str(), settings.username));
    let tokens = match (settings.auth, tokens) {
        (Auth::Password, _) => match settings.password() {
            Ok(_) => None,
            Err(error) => {
                return report.failed(format!("{error:#}"), "set imap.password_env or imap.password_file")
            }
        },
        (Auth::Oauth2, Ok(tokens)) => tokens.as_deref(),
        (Auth::Oauth2, Err(error)) => return report.failed(error.clone(), "fix the [oauth2] table"),
    };
    let connected = Mailbox::connect(settings, tokens).await;
    let mut mailbox = match connected {
        Ok(mailbox) => mailbox,
        Err(error) => return report.failed(format!("{error:#}"), imap_remedy(&error)),
    };
    report.ok("connected and logged in");
    let capabilities = mailbox.capabilities();
    let missing: Vec<&str> =
        [("IDLE", capabilities.idle), ("MOVE", capabilities.move_command), ("UIDPLUS", capabilities.uidplus)]
            .into_iter()
            .filter(|(_, offered)| !offered)
            .map(|(name, _)| name)
            .collect();
    if missing.is_empty() {
        report.ok("the server offers IDLE, MOVE and UIDPLUS");
    } else {
        report.note(format!(
            "the server does not offer {}: choixbot works without (it polls every {} s, copies then flags \\Deleted)",
            missing.join(", "),
            settings.poll_seconds
        ));
    }
    match mailbox.select(&settings.folder).await {
        Ok(state) => report.ok(format!("folder {:?}: {} message(s)", settings.folder, state.exists)),
        Err(error) => report.failed(format!("{error:#}"), imap_remedy(&error)),
    }
    match mailbox.ensure_folder(&settings.processed_folder).await {
        Ok(true) => report.ok(format!("processed folder {:?}: created now", settings.processed_folder)),
        Ok(false) => report.ok(format!("processed folder {:?}: exists", settings.processed_folder)),
        Err(error) => report.failed(
            format!("{error:#}"),
            "set imap.processed_folder to a folder this account may create, or create it by hand",
        ),
    }
}

/// `--send`: a test message to the referents, straight through the SMTP
/// server (not the session's outbox: nothing is recorded).
async fn test_message(settings: &Settings, tokens: Option<Arc<TokenSource>>, report: &mut Report) {
    report.heading("Test message:");
    let referents = settings.session.referents.clone();
    if referents.is_empty() {
        return report.failed("no referent to send it to", "list the referents in session.referents");
    }
    let to: Vec<String> = referents.iter().map(|r| r.to_string()).collect();
    match send_test_message(settings, referents, tokens.as_ref()).await {
        Ok(()) => {
            report.ok(format!("sent to {}: check that it arrived, and not among the spam", to.join(", ")))
        }
        Err(error) => report.failed(format!("{error:#}"), "see the SMTP lines above"),
    }
}

async fn send_test_message(
    settings: &Settings,
    referents: Vec<crate::domain::Email>,
    tokens: Option<&Arc<TokenSource>>,
) -> anyhow::Result<()> {
    use crate::answer::{Outgoing, Purpose};
    let now = crate::clock::Clock::from_env().now().to_rfc3339();
    let text = format!(
        "Bonjour,\n\nCeci est un message de test envoyé par « choixbot check --send » pour la session \
         « {} », le {now}.\nS'il vous parvient, choixbot peut envoyer les invitations, les réponses et la \
         liste depuis cette adresse.\n\nchoixbot\n",
        settings.session.name
    );
    let subject = format!("choixbot : message de test – {}", settings.session.name);
    let mut outgoing = Outgoing::new(Purpose::Alert, &format!("check {now}"), &settings.mail, subject, text)?;
    outgoing.to = referents;
    let message = crate::outbox::queued(&outgoing, None, None, &settings.mail)?;
    let transport = crate::outbox::transport::SmtpTransport::for_settings(&settings.smtp, tokens)?;
    let envelope_from = settings.mail.from_address.clone().to_string();
    match transport.send_raw(&envelope_from, &message.recipients, &message.raw).await {
        crate::outbox::transport::SendOutcome::Accepted => Ok(()),
        crate::outbox::transport::SendOutcome::Transient(error)
        | crate::outbox::transport::SendOutcome::Permanent(error)
        | crate::outbox::transport::SendOutcome::Ambiguous(error) => anyhow::bail!("{error}"),
    }
}

/// The SMTP login and a fresh access token, or what failed and what to do.
async fn smtp_token(
    settings: &Settings,
    tokens: &Tokens,
) -> Result<Option<(String, secrecy::SecretString)>, (String, String)> {
    let tokens = tokens.as_ref().map_err(|error| (error.clone(), "fix the [oauth2] table".to_string()))?;
    let (Some(tokens), Some(username)) = (tokens, settings.smtp.credentials_username()) else {
        return Err(("smtp.auth = \"oauth2\" needs smtp.username".into(), "set smtp.username".into()));
    };
    match tokens.access_token().await {
        Ok((token, _)) => Ok(Some((username.to_string(), token))),
        Err(error) => Err((format!("{error:#}"), "run `choixbot login`".to_string())),
    }
}

/// What to change for an IMAP failure.
fn imap_remedy(error: &anyhow::Error) -> String {
    match crate::mailbox::refusal(error) {
        Some(refusal) => refusal.remedy().to_string(),
        None => "check imap.host, imap.port and imap.security (993 with \"tls\", 143 with \"starttls\"), \
                 and that the server is up and reachable from here"
            .to_string(),
    }
}

async fn smtp(settings: &Settings, tokens: &Tokens, report: &mut Report) {
    let smtp = &settings.smtp;
    report.heading(format!("SMTP {}:{} ({}):", smtp.host, smtp.port, smtp.security.as_str()));
    let credentials = match smtp.auth {
        Auth::Password => smtp.credentials().map_err(|error| {
            (format!("{error:#}"), "set smtp.password_env or smtp.password_file".to_string())
        }),
        Auth::Oauth2 => smtp_token(settings, tokens).await,
    };
    let credentials = match credentials {
        Ok(credentials) => credentials,
        Err((said, remedy)) => return report.failed(said, remedy),
    };
    let sender = &settings.mail.from_address;
    match probe::probe(smtp, credentials, sender.as_str()).await {
        Ok(probed) => {
            report.ok(match (probed.logged_in, probed.encrypted) {
                (true, true) => "connected over TLS and logged in",
                (true, false) => "connected and logged in, without TLS",
                (false, true) => "connected over TLS, without login (smtp.username is empty)",
                (false, false) => "connected, without TLS nor login (a local relay)",
            });
            report.ok(format!("the server accepts <{sender}> as the sender (nothing was sent)"));
        }
        Err(failure) => {
            let remedy = match failure.step {
                Step::Connect => "check smtp.host, smtp.port and smtp.security (465 with \"tls\", 587 with \"starttls\"), smtp.ca_file or smtp.tls_fingerprint, and that the server is reachable from here",
                Step::Login => "check smtp.username and the password (smtp.password_env or smtp.password_file); an app password may have been revoked",
                Step::Sender => "set mail.from to an address this account may send as (providers refuse other senders)",
            };
            report.failed(failure.detail, remedy);
        }
    }
}
