//! Why the outbox sets TCP_NODELAY on its SMTP connections (see
//! `src/outbox/pinned.rs`): sends 2,000 messages of 3,240 bytes over 8
//! connections to a private Postfix, with lettre speaking SMTP on sockets
//! with and without TCP_NODELAY, twice each, to fresh mailboxes.
//!
//! `cargo run --release --example nagle_probe` (as root, like the tests:
//! it starts its own Dovecot and Postfix).

use std::time::{Duration, Instant};

use lettre::address::Envelope;
use lettre::transport::smtp::client::AsyncSmtpConnection;
use lettre::transport::smtp::extension::ClientId;

/// Connections, as `smtp-source -s 8`.
const CONNECTIONS: usize = 8;
/// Messages per round.
const MESSAGES: usize = 2_000;

/// A message of about the answers' size.
fn message() -> Vec<u8> {
    let mut raw = b"From: probe@asso.example\r\nSubject: probe\r\n\r\n".to_vec();
    while raw.len() < 3_240 {
        raw.extend_from_slice(b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do.\r\n");
    }
    raw
}

/// Sends [`MESSAGES`] over [`CONNECTIONS`]; returns how long it took.
async fn round(port: u16, nodelay: bool, tag: String) -> anyhow::Result<Duration> {
    let start = Instant::now();
    let mut tasks = Vec::new();
    for first in 0..CONNECTIONS {
        let tag = tag.clone();
        tasks.push(tokio::spawn(async move {
            let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
            tcp.set_nodelay(nodelay)?;
            let mut connection =
                AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &ClientId::default()).await?;
            let raw = message();
            for i in (first..MESSAGES).step_by(CONNECTIONS) {
                let to = format!("{tag}{i}@exemple.fr").parse()?;
                let envelope = Envelope::new(Some("probe@asso.example".parse()?), vec![to])?;
                connection.send(&envelope, &raw).await?;
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok(start.elapsed())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let stack = mailstack::MailStack::start()?;
    for (n, nodelay) in [false, true, false, true].into_iter().enumerate() {
        let took = round(stack.smtp_port(), nodelay, format!("probe{n}-")).await?;
        println!("TCP_NODELAY {nodelay:>5}: {MESSAGES} messages in {:.2} s", took.as_secs_f64());
        // The deliveries of this round end before the next one starts.
        tokio::time::sleep(Duration::from_secs(12)).await;
    }
    Ok(())
}
