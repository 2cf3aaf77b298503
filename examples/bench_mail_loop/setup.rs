//! The benchmark's session: a synthetic session imported with the real
//! `choixbot` binary, and the replies its interns send.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use choixbot::domain::{Email, Post};
use choixbot::synthetic::SyntheticSession;
use mailstack::MailStack;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// choixbot's mailbox.
pub const BOT: &str = "choix@asso.example";

/// A session directory (config, database) and the binary that runs it.
pub struct Bench {
    /// Holds choixbot.toml, the password file and choixbot.db.
    pub dir: PathBuf,
    /// The release `choixbot` binary.
    pub choixbot: PathBuf,
}

/// One intern as a reply needs them.
#[derive(Clone)]
pub struct Sender {
    /// Their address.
    pub email: Email,
    /// Their personal token (in the plus address).
    pub token: String,
    /// First and last name, to sign.
    pub name: String,
    /// The ARS numbers open to their group.
    pub open: Vec<String>,
}

impl Bench {
    /// Writes the config for `stack`: plain IMAP and SMTP on the loopback,
    /// as the floor uses, and a deadline far away (the close is timed apart).
    pub fn write_config(&self, stack: &MailStack) -> Result<()> {
        std::fs::write(self.dir.join("imap-password"), stack.password())?;
        self.write_config_for(stack.imap_port(), stack.smtp_port())
    }

    /// The config with plain IMAP and SMTP on these loopback ports, and a
    /// deadline two days away.
    pub fn write_config_for(&self, imap_port: u16, smtp_port: u16) -> Result<()> {
        let deadline = (chrono::Utc::now() + chrono::Duration::days(2))
            .with_timezone(&chrono_tz::Europe::Paris)
            .format("%Y-%m-%dT%H:%M:%S");
        let config = format!(
            "[session]\nname = \"Semestre de mesure\"\ndeadline = \"{deadline}\"\ntimezone = \"Europe/Paris\"\n\
             ars_recipients = [\"internat@ars.example\"]\nreferents = [\"referent@asso.example\"]\n\n\
             [mail]\nfrom = \"Choix de stage <{BOT}>\"\nreply_to = \"{BOT}\"\n\n\
             [imap]\nhost = \"127.0.0.1\"\nport = {imap_port}\nsecurity = \"none\"\nusername = \"{BOT}\"\n\
             password_file = \"imap-password\"\npoll_seconds = 1\n\n\
             [smtp]\nhost = \"127.0.0.1\"\nport = {smtp_port}\nsecurity = \"none\"\n",
        );
        std::fs::write(self.config(), config)?;
        Ok(())
    }

    pub fn config(&self) -> PathBuf {
        self.dir.join("choixbot.toml")
    }

    pub fn database_url(&self) -> String {
        format!("sqlite://{}", self.dir.join("choixbot.db").display())
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.choixbot);
        command.current_dir(&self.dir).env_remove("DATABASE_URL").env("RUST_LOG", "warn").args(args);
        command
    }

    fn run(&self, args: &[&str]) -> Result<()> {
        let output = self.command(args).output().context("cannot run choixbot")?;
        if !output.status.success() {
            bail!("choixbot {} failed: {}", args.join(" "), String::from_utf8_lossy(&output.stderr));
        }
        Ok(())
    }

    /// Imports the session's posts, interns and pre-choices.
    pub fn import(&self, session: &SyntheticSession) -> Result<()> {
        session.write_csv(&self.dir)?;
        self.run(&["init"])?;
        for kind in ["posts", "interns", "choices"] {
            let file = self.dir.join(format!("{kind}.csv"));
            self.run(&["import", kind, file.to_str().context("a UTF-8 path")?])?;
        }
        Ok(())
    }

    /// Every intern with their token, in the session's order.
    pub async fn senders(&self, session: &SyntheticSession) -> Result<Vec<Sender>> {
        let store = choixbot::store::Store::connect(&self.database_url()).await?;
        let tokens: std::collections::HashMap<Email, String> =
            store.interns().await?.into_iter().map(|s| (s.intern.email, s.token.to_string())).collect();
        store.close().await;
        let open_to = |group| -> Vec<String> {
            session.posts.iter().filter(|p: &&Post| &p.group == group).map(|p| p.ars_id.to_string()).collect()
        };
        let mut by_group = std::collections::HashMap::new();
        session
            .interns
            .iter()
            .map(|intern| {
                let open =
                    by_group.entry(intern.group.clone()).or_insert_with(|| open_to(&intern.group)).clone();
                Ok(Sender {
                    email: intern.email.clone(),
                    token: tokens.get(&intern.email).context("every intern has a token")?.clone(),
                    name: format!("{} {}", intern.first_name, intern.last_name),
                    open,
                })
            })
            .collect()
    }
}

/// A phone client's reply of 2 to 5 KB: the choices on top, a signature,
/// and the invitation quoted below. About one in four is invalid (an
/// unknown number, or a post of another group).
pub fn reply(sender: &Sender, serial: usize, rng: &mut StdRng) -> (String, Vec<u8>) {
    let mut body = String::from("Bonjour,\r\n\r\nVoici mes choix :\r\n");
    let count = rng.gen_range(1..=4).min(sender.open.len().max(1));
    for n in 1..=count {
        let ars = match (rng.gen_range(0..4), sender.open.is_empty()) {
            (0, _) | (_, true) if n == 1 => "999999".to_string(),
            _ => sender.open[rng.gen_range(0..sender.open.len())].clone(),
        };
        body.push_str(&format!("Choix {n} : {ars}\r\n"));
    }
    body.push_str(&format!("\r\nBien cordialement,\r\n{}\r\n\r\n", sender.name));
    body.push_str("Le lun. 4 mai 2020 à 09:00, Choix de stage <choix@asso.example> a écrit :\r\n");
    let target = rng.gen_range(2_000..5_000);
    let mut line = 0;
    while body.len() < target {
        body.push_str(QUOTED[line % QUOTED.len()]);
        line += 1;
    }
    let message_id = format!("<bench.{serial}.{}@exemple.fr>", rng.gen::<u32>());
    let raw = format!(
        "From: {name} <{from}>\r\nTo: choix+{token}@asso.example\r\nSubject: Re: Vos choix de stage\r\n\
         Message-ID: {message_id}\r\nDate: Mon, 4 May 2020 09:12:00 +0200\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}",
        name = sender.name,
        from = sender.email,
        token = sender.token,
    );
    (message_id, raw.into_bytes())
}

/// Delivers `replies` into choixbot's mailbox through Postfix, from 8
/// threads (one SMTP connection per message, as interns' clients do).
pub fn deliver_all(stack: &MailStack, replies: &[(String, Vec<u8>)], from: &[Email]) -> Result<()> {
    let chunk = replies.len().div_ceil(8).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = replies
            .chunks(chunk)
            .zip(from.chunks(chunk))
            .map(|(replies, from)| {
                scope.spawn(move || {
                    for ((_, raw), from) in replies.iter().zip(from) {
                        stack.send(from.as_str(), &[BOT], raw)?;
                    }
                    anyhow::Ok(())
                })
            })
            .collect();
        handles.into_iter().try_for_each(|handle| handle.join().expect("a delivery thread panicked"))
    })
}

/// How many messages choixbot's INBOX holds (Maildir `new/` and `cur/`).
pub fn inbox_count(stack: &MailStack) -> usize {
    let maildir = stack.dir().join("mail").join(BOT).join("Maildir");
    ["new", "cur"].iter().map(|sub| std::fs::read_dir(maildir.join(sub)).map_or(0, |d| d.count())).sum()
}

/// Waits until the INBOX holds `count` messages.
pub fn wait_for_inbox(stack: &MailStack, count: usize) -> Result<()> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(600);
    while inbox_count(stack) < count {
        if std::time::Instant::now() > deadline {
            bail!("only {} of {count} replies reached the mailbox", inbox_count(stack));
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    Ok(())
}

/// A seeded generator, so that a run measures the same replies.
pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

/// The binary next to this example's directory (`target/release/choixbot`).
pub fn choixbot_binary() -> Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let path =
        exe.parent().and_then(Path::parent).map(|dir| dir.join("choixbot")).context("no target dir")?;
    if !path.exists() {
        bail!("{} not found: build it first (scripts/bench.sh does)", path.display());
    }
    Ok(path)
}

const QUOTED: &[&str] = &[
    "> Bonjour,\r\n",
    "> Le choix des stages du semestre se fait par courriel cette année.\r\n",
    "> Répondez à ce message en écrivant vos vœux, un par ligne, dans l'ordre\r\n",
    "> de vos préférences, avec le numéro ARS de chaque poste.\r\n",
    "> Vous pouvez changer vos vœux autant de fois que vous le souhaitez\r\n",
    "> jusqu'à la date limite ; seul votre dernier message compte.\r\n",
    "> Chaque réponse reçoit un accusé avec l'affectation provisoire.\r\n",
    "> Pour toute question, écrivez au référent de votre spécialité.\r\n",
    ">\r\n",
];
