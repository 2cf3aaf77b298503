//! What each command does, on top of the library's modules.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::snapshot::snapshot;
use super::{Cli, Command, ExportFormat, ImportKind};
use crate::ars_list::{self, ListInput};
use crate::settings::{self, Settings};
use crate::store::Store;
use crate::{import, reply, Error, Result};

pub async fn dispatch(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Init => init(&cli.config, &cli.database_url).await,
        Command::Import { kind, ref file } => import_file(&cli.database_url, kind, file).await,
        Command::Allocate { json } => allocate(&cli, json).await,
        Command::Status { json } => status(&cli, json).await,
        Command::Check { send } => super::check::check(&cli.config, send).await,
        Command::Login => login(&cli.config).await,
        Command::Export { format, ref output } => export(&cli, format, output.clone()).await,
        Command::ParseReply { ref file, json } => parse_reply(&cli.database_url, file, json).await,
        Command::Invite { dry_run, ref output, force } => {
            super::mail::invite(&cli.config, &cli.database_url, dry_run, force, output).await
        }
        Command::Run => super::mail::run(&cli.config, &cli.database_url).await,
        Command::Close { without_mailbox } => {
            super::mail::close(&cli.config, &cli.database_url, without_mailbox).await
        }
        Command::Audit { ref email, raw } => super::mail::audit(&cli.database_url, email, raw).await,
        Command::ExportPerson { ref email } => export_person(&cli, email).await,
        Command::Purge { now } => purge(&cli, now).await,
        Command::Amphi(ref action) => {
            let settings = Settings::load(&cli.config)?;
            let store = Store::connect(&cli.database_url).await?;
            let done = super::amphi::amphi(&settings, &store, action).await;
            store.close().await;
            done
        }
    }
}

async fn export_person(cli: &Cli, email: &str) -> Result<()> {
    let address = crate::domain::Email::parse(email).map_err(Error::bad_input)?;
    let settings = optional_settings(&cli.config)?;
    let store = Store::connect(&cli.database_url).await?;
    let snapshot = snapshot(&store, settings.as_ref()).await?;
    let person = super::person::export(&store, &snapshot, &address).await;
    store.close().await;
    println!("{}", serde_json::to_string_pretty(&person?).expect("JSON serialises"));
    Ok(())
}

async fn purge(cli: &Cli, now: bool) -> Result<()> {
    use crate::close::retention::{self, Retention};
    let settings = Settings::load(&cli.config)?;
    let store = Store::connect(&cli.database_url).await?;
    let outcome = if now {
        match retention::retention(&store, &settings).await? {
            Retention::Open => Err(Retention::Open),
            _ => Ok(store.purge_bodies().await?),
        }
    } else {
        retention::purge_if_due(&store, &settings).await?
    };
    store.close().await;
    report_purge(outcome, now, &settings)
}

/// What `purge` says: what it deleted, or why nothing.
fn report_purge(
    outcome: std::result::Result<crate::store::Purged, crate::close::retention::Retention>,
    now: bool,
    settings: &Settings,
) -> Result<()> {
    use crate::close::retention::Retention;
    match outcome {
        Ok(purged) => {
            println!(
                "Deleted the raw bytes of {} received message(s) and the bodies of {} sent message(s); \
                 the list, the decisions and their dates are kept.",
                purged.messages, purged.sent
            );
            if purged.still_pending > 0 {
                println!(
                    "{} message(s) still to send keep their bodies until they leave: run choixbot purge again then.",
                    purged.still_pending
                );
            }
            Ok(())
        }
        Err(Retention::Open) if now => Err(Error::bad_input(
            "the session is not closed: its emails are the record of the choice until the list has left; \
             nothing was deleted (purge --now works after the close)",
        )),
        Err(Retention::KeptUntil(until)) => {
            let tz = settings.session.timezone;
            println!(
                "Nothing to delete yet: the retention ({} days after the close) keeps the emails until {}. \
                 choixbot purge --now deletes them at once.",
                settings.session.retention_days,
                crate::answer::french::instant_in_words(until, tz)
            );
            Ok(())
        }
        Err(_) => {
            println!(
                "Nothing to delete: the session is not closed yet (the retention counts from the close)."
            );
            Ok(())
        }
    }
}

async fn init(config: &Path, database_url: &str) -> Result<()> {
    if config.exists() {
        Settings::load(config)?;
        println!("{} already exists and is valid: left as it is.", config.display());
    } else {
        std::fs::write(config, settings::TEMPLATE)
            .with_context(|| format!("cannot write {}", config.display()))?;
        println!("Wrote {}: edit it for your session.", config.display());
    }
    let store = Store::connect(database_url).await?;
    store.close().await;
    println!("Database {database_url} is ready.");
    Ok(())
}

async fn import_file(database_url: &str, kind: ImportKind, file: &Path) -> Result<()> {
    let table = import::read_table(file)?;
    let bad_rows = |errors| import::ImportError { file: file.display().to_string(), errors };
    let store = Store::connect(database_url).await?;
    let message = match kind {
        ImportKind::Posts => {
            let import::ParsedPosts { posts, respelled } = import::parse_posts(&table).map_err(bad_rows)?;
            let replaced = store.replace_posts(&posts).await?;
            let mut message = format!("Imported {} post(s), replacing {}.", replaced.now, replaced.previous);
            for (from, to, rows) in respelled {
                message.push_str(&format!(
                    "\n  group {:?} on {rows} row(s) is taken as {:?}, as written elsewhere in the file: one group. \
                     If they are different groups, name them so that they differ by more than case, accents or spaces.",
                    from.as_str(),
                    to.as_str()
                ));
            }
            // The call list, imported first, takes the posts' spelling.
            let mut interns = store.intern_list().await?;
            let check = import::align_groups(&mut interns, &posts);
            if !check.respelled.is_empty() {
                store.replace_interns(&interns).await?;
            }
            with_notes(message, &check)
        }
        ImportKind::Interns => {
            let mut interns = import::parse_interns(&table).map_err(bad_rows)?;
            let check = import::align_groups(&mut interns, &store.posts().await?);
            let replaced = store.replace_interns(&interns).await?;
            with_notes(
                format!("Imported {} intern(s), replacing {}.", replaced.now, replaced.previous),
                &check,
            )
        }
        ImportKind::Choices => {
            let interns = store.intern_list().await?;
            let posts = store.posts().await?;
            if interns.is_empty() {
                return Err(Error::bad_input("import the interns before their pre-choices"));
            }
            let choices = import::parse_choices(&table, &interns, &posts).map_err(bad_rows)?;
            let (replaced, kept) = store.replace_prechoices(&choices).await?;
            let mut message = format!(
                "Imported pre-choices of {} intern(s), replacing {}.",
                replaced.now, replaced.previous
            );
            for email in kept {
                message.push_str(&format!("\n  {email}: kept the wishes sent by email, which are newer."));
            }
            message
        }
    };
    store.close().await;
    println!("{message}");
    Ok(())
}

/// `choixbot login`: the device flow of the `[oauth2]` table.
async fn login(config: &std::path::Path) -> Result<()> {
    let settings = Settings::load(config)?;
    let Some(oauth2) = settings.oauth2.as_ref() else {
        return Err(Error::bad_input(format!(
            "{}: there is no [oauth2] table; choixbot login is for mailboxes reached with OAuth2 (see the README)",
            config.display()
        )));
    };
    let clock = crate::clock::Clock::from_env();
    crate::oauth::login::login(oauth2, &clock, &mut std::io::stdout()).await.map_err(Error::from)
}

/// `message`, then one indented line per note of the group check.
fn with_notes(mut message: String, check: &import::GroupCheck) -> String {
    for note in check.notes() {
        message.push_str(&format!("\n  {note}"));
    }
    message
}

/// Settings when the file exists; commands that only read the database
/// still work without one (with the default supernumerary cap).
fn optional_settings(config: &Path) -> Result<Option<Settings>> {
    if config.exists() {
        Ok(Some(Settings::load(config)?))
    } else {
        Ok(None)
    }
}

async fn allocate(cli: &Cli, json: bool) -> Result<()> {
    let settings = optional_settings(&cli.config)?;
    let store = Store::connect(&cli.database_url).await?;
    let snapshot = snapshot(&store, settings.as_ref()).await?;
    store.close().await;
    if json {
        let assignments: Vec<_> = snapshot
            .allocation
            .assignments
            .iter()
            .map(|a| {
                serde_json::json!({
                    "email": a.email, "group": a.group, "rank": a.rank.get(),
                    "status": a.status, "ars_id": a.ars_id,
                })
            })
            .collect();
        println!("{}", serde_json::json!({ "assignments": assignments }));
    } else {
        print!("{}", super::report::allocation_table(&snapshot));
    }
    Ok(())
}

async fn status(cli: &Cli, json: bool) -> Result<()> {
    let settings = optional_settings(&cli.config)?;
    let store = Store::connect(&cli.database_url).await?;
    let (_, status) = super::status::read(&store, settings.as_ref()).await?;
    store.close().await;
    if json {
        println!("{}", serde_json::to_string(&status).expect("status serialises"));
    } else {
        print!("{}", status.to_text());
    }
    Ok(())
}

async fn export(cli: &Cli, format: Option<ExportFormat>, output: Option<PathBuf>) -> Result<()> {
    let format = format.unwrap_or_else(|| match output.as_ref().and_then(|o| o.extension()) {
        Some(ext) if ext.eq_ignore_ascii_case("xlsx") => ExportFormat::Xlsx,
        _ => ExportFormat::Csv,
    });
    let output = output.unwrap_or_else(|| match format {
        ExportFormat::Csv => PathBuf::from("liste-ars.csv"),
        ExportFormat::Xlsx => PathBuf::from("liste-ars.xlsx"),
    });
    let settings = optional_settings(&cli.config)?;
    let store = Store::connect(&cli.database_url).await?;
    let snapshot = snapshot(&store, settings.as_ref()).await?;
    store.close().await;
    let session_name = settings.as_ref().map_or("choixbot", |s| s.session.name.as_str());
    let input = ListInput {
        session_name,
        posts: &snapshot.posts,
        interns: &snapshot.interns,
        allocation: &snapshot.allocation,
    };
    let bytes = match format {
        ExportFormat::Csv => ars_list::to_csv(input),
        ExportFormat::Xlsx => ars_list::to_xlsx(input)?,
    };
    crate::private::write(&output, &bytes)?;
    println!("Wrote the consolidated list to {}.", output.display());
    Ok(())
}

async fn parse_reply(database_url: &str, file: &Path, json: bool) -> Result<()> {
    let raw = std::fs::read(file)
        .map_err(|error| Error::bad_input(format!("cannot read {}: {error}", file.display())))?;
    let known = reply::KnownPosts { ars_ids: known_ars_ids(database_url).await? };
    let parsed = reply::parse(&raw, &known);
    if json {
        println!("{}", reply::to_json(&parsed));
    } else {
        print!("{}", reply::explain(&parsed));
    }
    Ok(())
}

/// The imported ARS numbers, when there is a database with posts. A SQLite
/// file that does not exist is not created just to be found empty.
async fn known_ars_ids(database_url: &str) -> Result<HashSet<String>> {
    if let Some(path) =
        database_url.strip_prefix("sqlite://").or_else(|| database_url.strip_prefix("sqlite:"))
    {
        let path = path.split('?').next().unwrap_or(path);
        if path.is_empty() || path == ":memory:" || !Path::new(path).exists() {
            return Ok(HashSet::new());
        }
    }
    let store = Store::connect(database_url).await?;
    let posts = store.posts().await?;
    store.close().await;
    Ok(posts.into_iter().map(|p| p.ars_id.as_str().to_string()).collect())
}
