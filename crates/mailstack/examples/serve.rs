//! Starts a mail stack and keeps it up until stdin closes: for measuring
//! the bare servers by hand (`smtp-source`, `perf`), e.g.
//! `cargo run --release -p mailstack --example serve`.

use std::io::Read;

fn main() -> anyhow::Result<()> {
    let stack = mailstack::MailStack::start()?;
    println!(
        "dir {} smtp 127.0.0.1:{} imap 127.0.0.1:{} password {}",
        stack.dir().display(),
        stack.smtp_port(),
        stack.imap_port(),
        stack.password()
    );
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    Ok(())
}
