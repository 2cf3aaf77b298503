//! The `choixbot` binary: parses the command line, runs the command, and maps
//! its outcome to an exit code. Everything else lives in the library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // Before anything is created: the database and its journals, exports
    // and dry-run invitations hold the interns' personal data.
    choixbot::private::owner_only_from_now_on();
    let cli = match choixbot::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            // Help and version are successes; anything else is bad usage (2).
            let _ = error.print();
            return ExitCode::from(if error.use_stderr() { 2 } else { 0 });
        }
    };
    init_logging();
    match choixbot::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("choixbot: {}", render(&error));
            ExitCode::from(error.exit_code() as u8)
        }
    }
}

/// The error with its chain of causes, one per line, as a referent needs to
/// read it ("cannot connect to IMAP server…: connection refused").
fn render(error: &choixbot::Error) -> String {
    match error {
        choixbot::Error::Runtime(inner) => format!("{inner:#}"),
        choixbot::Error::Import(import) => {
            let mut text = format!("{import}: nothing was imported");
            for row in &import.errors {
                text.push_str(&format!("\n  line {}: {}", row.line, row.reason));
            }
            text
        }
        other => other.to_string(),
    }
}

/// Logs go to stderr, one line per event: `info` by default (one line per
/// decision of the daemon), `RUST_LOG` to change it (`RUST_LOG=debug`).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,lettre=warn"));
    // The protocol crates log whole commands and responses at debug and
    // trace, the LOGIN or AUTH line with the password among them: never
    // more than warnings from them, whatever RUST_LOG asks.
    let filter = ["async_imap", "imap_proto", "lettre", "rustls", "tokio_rustls", "sqlx"]
        .iter()
        .filter_map(|target| format!("{target}=warn").parse().ok())
        .fold(filter, |filter, directive| filter.add_directive(directive));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).init();
}
