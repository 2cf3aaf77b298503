//! A whole demonstration session on a private mail stack: what a referent
//! would see, start to finish. Run it with `scripts/demo.sh`.
//!
//! 1. starts Dovecot and Postfix on free loopback ports (`mailstack`);
//! 2. sets up a session from `samples/` with the real `choixbot` binary;
//! 3. checks the mailbox settings (`choixbot check`) and sends the
//!    invitations;
//! 4. starts the daemon (`choixbot run`) with a deadline a minute away;
//! 5. simulates interns replying from several mail clients, including
//!    mistakes, a stranger and an out-of-office;
//! 6. shows the answers they receive;
//! 7. lets the deadline pass and shows the consolidated list the ARS gets.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use mail_parser::MimeHeaders;
use mailstack::MailStack;

const BOT: &str = "choix@asso.example";
const ARS: &str = "internat@ars.example";

fn main() -> Result<()> {
    let choixbot = choixbot_binary()?;
    step("Starting a private mail server (Dovecot for IMAP, Postfix for SMTP)");
    let stack = MailStack::start().context("cannot start the mail stack")?;
    println!("IMAP over TLS on 127.0.0.1:{}, SMTP on 127.0.0.1:{}", stack.imaps_port(), stack.smtp_port());

    let dir = tempfile::tempdir()?;
    let session = Session { dir: dir.path().to_path_buf(), choixbot };
    let deadline = chrono::Utc::now() + chrono::Duration::seconds(75);
    session.write_config(&stack, deadline)?;

    step("Setting up the session from samples/");
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    session.show(&["init"])?;
    for (kind, file) in [("posts", "posts.csv"), ("interns", "interns.csv"), ("choices", "choices.csv")] {
        session.show(&["import", kind, samples.join(file).to_str().unwrap()])?;
    }

    step("Checking the mailbox before inviting: IMAP and SMTP log in, nothing is sent");
    session.show(&["check"])?;

    step("Inviting every intern");
    session.show(&["invite"])?;
    let interns = session.interns()?;
    let first = &interns[0];
    let invitation = stack.wait_for_messages(&first.email, 1, Duration::from_secs(30))?.remove(0);
    show_message(&format!("The invitation {} received", first.email), &invitation, 40);

    step("Starting the daemon (choixbot run); the deadline is in about a minute");
    let mut daemon = session.spawn(&["run"])?;
    std::thread::sleep(Duration::from_secs(2));

    step("Interns reply from their phones and computers");
    let replies = simulate_replies(&stack, &interns)?;
    for (address, description) in &replies {
        println!("  {address:<36} {}", description.text);
    }
    for (address, _) in replies.iter().filter(|(_, description)| description.answered) {
        let answer = wait_for_subject(&stack, address, "Re:", Duration::from_secs(60))?;
        show_message(&format!("The answer {address} received"), &answer, 25);
    }
    session.show(&["status"])?;

    step("Waiting for the deadline: the daemon closes the session by itself");
    let list = stack.wait_for_messages(ARS, 1, Duration::from_secs(150))?.remove(0);
    show_message("The email the ARS received", &list, 60);
    show_csv(&list)?;
    stop(&mut daemon);
    session.show(&["status"])?;
    step("Done: the consolidated list was sent once, every reply was answered.");
    Ok(())
}

/// An intern of the sample session.
struct Person {
    /// Their address.
    email: String,
    /// Their group.
    group: String,
    /// Their token.
    token: String,
}

/// The session directory and the binary that runs it.
struct Session {
    /// Holds choixbot.toml and the database.
    dir: PathBuf,
    /// The `choixbot` binary.
    choixbot: PathBuf,
}

impl Session {
    fn write_config(&self, stack: &MailStack, deadline: chrono::DateTime<chrono::Utc>) -> Result<()> {
        let local = deadline.with_timezone(&chrono_tz::Europe::Paris).format("%Y-%m-%dT%H:%M:%S");
        std::fs::write(self.dir.join("imap-password"), stack.password())?;
        let config = format!(
            "[session]\nname = \"Semestre de démonstration\"\ndeadline = \"{local}\"\ntimezone = \"Europe/Paris\"\n\
             ars_recipients = [\"{ARS}\"]\nreferents = [\"referent@asso.example\"]\n\n\
             [mail]\nfrom = \"Choix de stage <{BOT}>\"\nreply_to = \"{BOT}\"\n\n\
             [imap]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"tls\"\nusername = \"{BOT}\"\n\
             password_file = \"imap-password\"\nca_file = \"{}\"\npoll_seconds = 1\n\n\
             [smtp]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\n",
            stack.imaps_port(),
            stack.ca_pem_path().display(),
            stack.smtp_port()
        );
        std::fs::write(self.dir.join("choixbot.toml"), config)?;
        Ok(())
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.choixbot);
        command.current_dir(&self.dir).env_remove("DATABASE_URL").args(args);
        command
    }

    /// Runs a command and shows what it prints, as the referent would see it.
    fn show(&self, args: &[&str]) -> Result<()> {
        println!("$ choixbot {}", args.join(" "));
        let output = self.command(args).output().context("cannot run choixbot")?;
        print!("{}", indent(&String::from_utf8_lossy(&output.stdout)));
        eprint!("{}", indent(&String::from_utf8_lossy(&output.stderr)));
        if !output.status.success() {
            bail!("choixbot {} failed", args.join(" "));
        }
        Ok(())
    }

    fn spawn(&self, args: &[&str]) -> Result<Child> {
        let log = std::fs::File::create(self.dir.join("daemon.log"))?;
        println!("$ choixbot {} (log in {})", args.join(" "), self.dir.join("daemon.log").display());
        Ok(self.command(args).stderr(log).spawn()?)
    }

    fn interns(&self) -> Result<Vec<Person>> {
        let output = self.command(&["allocate", "--json"]).output()?;
        let json: serde_json::Value = serde_json::from_slice(&output.stdout)?;
        let runtime = tokio::runtime::Runtime::new()?;
        let tokens = runtime.block_on(async {
            let store = choixbot::store::Store::connect(&format!(
                "sqlite://{}",
                self.dir.join("choixbot.db").display()
            ))
            .await?;
            anyhow::Ok(store.interns().await?)
        })?;
        Ok(json["assignments"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|a| {
                let email = a["email"].as_str()?.to_string();
                let token = tokens.iter().find(|s| s.intern.email.as_str() == email)?.token.to_string();
                Some(Person { email, group: a["group"].as_str()?.to_string(), token })
            })
            .collect())
    }
}

/// What a simulated reply is, for the demonstration's narration.
struct Sent {
    /// How it was written.
    text: String,
    /// Whether choixbot answers it (automatic mail and strangers get nothing).
    answered: bool,
}

fn answered(text: &str) -> Sent {
    Sent { text: text.to_string(), answered: true }
}

fn unanswered(text: &str) -> Sent {
    Sent { text: text.to_string(), answered: false }
}

/// Sends replies in the styles of several mail clients; returns who sent what.
fn simulate_replies(stack: &MailStack, interns: &[Person]) -> Result<Vec<(String, Sent)>> {
    let group = &interns[0].group;
    let same: Vec<&Person> = interns.iter().filter(|p| &p.group == group).collect();
    let other = interns.iter().find(|p| &p.group != group).context("the sample has two groups")?;
    let subject = "Re: Choix de stage";
    let mut sent = Vec::new();
    let styles = demo_styles();
    for (person, (description, body)) in same.iter().zip(styles.iter()) {
        let raw = plain(&person.email, Some(&person.token), subject, body, "");
        stack.send(&person.email, &[BOT], raw.as_bytes())?;
        sent.push((person.email.clone(), answered(description)));
    }
    let foreign = first_group_only_post(&other.group).context("a post of the first group only")?;
    let raw = plain(&other.email, Some(&other.token), subject, &format!("Mes choix : {foreign}\n"), "");
    stack.send(&other.email, &[BOT], raw.as_bytes())?;
    sent.push((other.email.clone(), answered(&format!("post {foreign}, which is not open to their group"))));
    let stranger = "curieux@ailleurs.example";
    stack.send(stranger, &[BOT], plain(stranger, None, subject, "1234\n", "").as_bytes())?;
    sent.push((stranger.into(), unanswered("a stranger (no answer: not a registered address)")));
    let on_leave = &same[same.len() - 1].email;
    let auto = plain(
        on_leave,
        None,
        "Réponse automatique : absent",
        "Je suis absent jusqu'au 11/05.\n",
        "Auto-Submitted: auto-replied\r\n",
    );
    stack.send(on_leave, &[BOT], auto.as_bytes())?;
    sent.push((on_leave.clone(), unanswered("an out-of-office (ignored, no answer)")));
    Ok(sent)
}

/// Reply bodies as several clients write them. The numbers are the sample's
/// posts of the first group (see samples/posts.csv).
fn demo_styles() -> Vec<(&'static str, String)> {
    let posts = sample_posts_of_first_group();
    let (a, b, c) = (&posts[0], &posts[1 % posts.len()], &posts[2 % posts.len()]);
    vec![
        ("Gmail, top-posted above the template", format!("{a}\n{b}\n\nMerci !\n\nLe lun. 4 mai 2020 à 09:12, Choix de stage <{BOT}> a écrit :\n> {c} – 2 postes\n> 01 44 02 03 60\n")),
        ("iPhone, numbered list and signature", format!("1) {b}\n2) {a}\n\nEnvoyé de mon iPhone\n")),
        ("Outlook, 'Choix 1 :' lines and the De/Envoyé block", format!("Choix 1 : {c}\nChoix 2 : {a}\n\nCordialement\n\n________________________________\nDe : Choix de stage <{BOT}>\nEnvoyé : lundi 4 mai 2020 09:12\nÀ : moi\nObjet : Choix de stage\n\n{b} – 1 poste\n")),
        ("a wrong number", "Choix 1 : 99999\n".to_string()),
        ("a comma list with 'et'", format!("{a}, {b} et {c}\n")),
    ]
}

/// (ARS number, group) of every sample post, in file order.
fn sample_posts() -> Vec<(String, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/posts.csv");
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let mut cells = line.split(';');
            let id = cells.next()?.trim_start_matches('\u{feff}').to_string();
            Some((id, cells.next()?.to_string()))
        })
        .collect()
}

fn sample_posts_of_first_group() -> Vec<String> {
    let posts = sample_posts();
    let group = posts.first().map(|(_, group)| group.clone()).unwrap_or_default();
    posts.into_iter().filter(|(_, g)| g == &group).map(|(id, _)| id).collect()
}

/// A post of the first group that is not open to `other_group`.
fn first_group_only_post(other_group: &str) -> Option<String> {
    let posts = sample_posts();
    sample_posts_of_first_group()
        .into_iter()
        .find(|id| !posts.iter().any(|(i, g)| i == id && g == other_group))
}

fn plain(from: &str, token: Option<&str>, subject: &str, body: &str, extra_headers: &str) -> String {
    let to = token.map_or(BOT.to_string(), |t| format!("choix+{t}@asso.example"));
    let id = format!(
        "<{}.{}@demo.example>",
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0),
        from.replace('@', ".")
    );
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: {id}\r\n{extra_headers}MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}"
    )
}

fn wait_for_subject(stack: &MailStack, address: &str, prefix: &str, timeout: Duration) -> Result<Vec<u8>> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Some(raw) = stack.messages(address).into_iter().find(|raw| subject(raw).starts_with(prefix)) {
            return Ok(raw);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    bail!("{address} received no answer within {timeout:?}")
}

fn subject(raw: &[u8]) -> String {
    mail_parser::MessageParser::default()
        .parse(raw)
        .and_then(|m| m.subject().map(str::to_string))
        .unwrap_or_default()
}

fn show_message(title: &str, raw: &[u8], max_lines: usize) {
    let message = mail_parser::MessageParser::default().parse(raw);
    let text = message.as_ref().and_then(|m| m.body_text(0)).map(|t| t.to_string()).unwrap_or_default();
    println!("\n  ┌─ {title}: « {} »", subject(raw));
    for line in text.lines().take(max_lines) {
        println!("  │ {line}");
    }
    if text.lines().count() > max_lines {
        println!("  │ …");
    }
    println!("  └─");
}

fn show_csv(raw: &[u8]) -> Result<()> {
    let message = mail_parser::MessageParser::default().parse(raw).context("the list is a valid email")?;
    for attachment in message.attachments() {
        let name = attachment.attachment_name().unwrap_or("?");
        println!("  attachment {name} ({} bytes)", attachment.contents().len());
        if name.ends_with(".csv") {
            let text = String::from_utf8_lossy(attachment.contents());
            for line in text.trim_start_matches('\u{feff}').lines().take(15) {
                println!("    {line}");
            }
            println!("    …");
        }
    }
    Ok(())
}

fn stop(child: &mut Child) {
    let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
    let _ = child.wait();
}

fn step(text: &str) {
    println!("\n==> {text}");
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}\n")).collect()
}

/// The `choixbot` binary next to this example (target/…/examples/demo →
/// target/…/choixbot), or the path given as the first argument.
fn choixbot_binary() -> Result<PathBuf> {
    if let Some(path) = std::env::args().nth(1) {
        // The commands run in the session's directory: make the path absolute.
        return std::fs::canonicalize(&path).with_context(|| format!("no choixbot binary at {path}"));
    }
    let exe = std::env::current_exe()?;
    let path =
        exe.parent().and_then(Path::parent).map(|dir| dir.join("choixbot")).context("no target directory")?;
    if !path.exists() {
        bail!("{} not found: build it first (scripts/demo.sh does)", path.display());
    }
    Ok(path)
}
