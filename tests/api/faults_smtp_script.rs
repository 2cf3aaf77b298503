//! SMTP answers Postfix cannot be asked for, from a scripted server: 421 at
//! the greeting and 451 to MAIL (retried, then delivered once), 550 to MAIL
//! and 554 to the end of DATA (failed for good, listed by `status`, never
//! retried). The daemon reads its replies from the real Dovecot; only its
//! answers go to the scripted server.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use crate::mail_helpers::*;

/// Where the scripted server refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// Greets with this code and hangs up.
    Greeting(u16),
    /// Answers MAIL FROM with this code.
    Mail(u16),
    /// Answers the end of DATA with this code.
    DataEnd(u16),
}

/// The scripted server's state.
#[derive(Default)]
struct Script {
    /// Refusals to play, in order; each is used once. Then everything is accepted.
    refusals: Vec<Refusal>,
    /// The messages accepted (DATA bytes).
    accepted: Vec<String>,
}

async fn start_scripted_server(refusals: Vec<Refusal>) -> (u16, Arc<Mutex<Script>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let script = Arc::new(Mutex::new(Script { refusals, accepted: Vec::new() }));
    let shared = script.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(serve(socket, shared.clone()));
        }
    });
    (port, script)
}

/// Takes the next refusal if it is of the kind `matches` accepts.
fn next_refusal(script: &Mutex<Script>, matches: impl Fn(Refusal) -> Option<u16>) -> Option<u16> {
    let mut script = script.lock().unwrap();
    let code = script.refusals.first().and_then(|r| matches(*r))?;
    script.refusals.remove(0);
    Some(code)
}

async fn serve(socket: tokio::net::TcpStream, script: Arc<Mutex<Script>>) {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read).lines();
    if let Some(code) = next_refusal(&script, |r| if let Refusal::Greeting(c) = r { Some(c) } else { None }) {
        let _ = write.write_all(format!("{code} scripted: try later\r\n").as_bytes()).await;
        return;
    }
    let _ = write.write_all(b"220 scripted ESMTP\r\n").await;
    while let Ok(Some(line)) = lines.next_line().await {
        let verb = line.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
        let answer = match verb.as_str() {
            "EHLO" => "250-scripted\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n".to_string(),
            "MAIL" => {
                match next_refusal(&script, |r| if let Refusal::Mail(c) = r { Some(c) } else { None }) {
                    Some(code) => format!("{code} scripted refusal of MAIL\r\n"),
                    None => "250 ok\r\n".into(),
                }
            }
            "DATA" => {
                let _ = write.write_all(b"354 go on\r\n").await;
                let mut data = String::new();
                while let Ok(Some(line)) = lines.next_line().await {
                    if line == "." {
                        break;
                    }
                    data.push_str(&line);
                    data.push('\n');
                }
                match next_refusal(&script, |r| if let Refusal::DataEnd(c) = r { Some(c) } else { None }) {
                    Some(code) => format!("{code} scripted refusal of the message\r\n"),
                    None => {
                        script.lock().unwrap().accepted.push(data);
                        "250 queued\r\n".into()
                    }
                }
            }
            "QUIT" => {
                let _ = write.write_all(b"221 bye\r\n").await;
                return;
            }
            _ => "250 ok\r\n".into(),
        };
        if write.write_all(answer.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// The app with its answers sent to the scripted server on `port`.
async fn app_with_scripted_smtp(port: u16) -> MailApp {
    let deadline = paris_time(chrono::Duration::days(30));
    let app = spawn_mail_app(&deadline).await;
    app.write_config_with(&deadline, &FAST_RETRY);
    let config = std::fs::read_to_string(&app.app.config).unwrap();
    let config = config.replacen(&format!("port = {}", app.stack.smtp_port()), &format!("port = {port}"), 1);
    std::fs::write(&app.app.config, config).unwrap();
    app
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_421_greeting_and_a_451_to_mail_are_retried_then_delivered_once() {
    let (port, script) = start_scripted_server(vec![Refusal::Greeting(421), Refusal::Mail(451)]).await;
    let app = app_with_scripted_smtp(port).await;
    let intern = PLAIN_INTERNS[0];
    app.deliver_valid_reply(intern).await;
    let daemon = app.start_daemon().await;
    app.wait_for_outbox(intern, "the answer sent", |rows| rows.len() == 1 && rows[0].0 == "sent").await;
    daemon.stop().await;

    let rows = app.outbox_to(intern).await;
    assert_eq!(rows[0].1, 3, "expected two refusals then a delivery: {rows:?}");
    let script = script.lock().unwrap();
    assert!(script.refusals.is_empty(), "a scripted refusal was never played");
    assert_eq!(script.accepted.len(), 1, "the answer was accepted {} times", script.accepted.len());
    assert!(script.accepted[0].contains(intern));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_5xx_to_mail_or_to_data_fails_for_good_and_shows_in_status() {
    let (port, script) = start_scripted_server(vec![Refusal::Mail(550), Refusal::DataEnd(554)]).await;
    let app = app_with_scripted_smtp(port).await;
    let [refused_at_mail, refused_at_data, _] = PLAIN_INTERNS;
    app.deliver_valid_reply(refused_at_mail).await;
    let daemon = app.start_daemon().await;
    app.wait_for_outbox(refused_at_mail, "failed", |rows| rows.len() == 1 && rows[0].0 == "failed").await;
    app.deliver_valid_reply(refused_at_data).await;
    app.wait_for_outbox(refused_at_data, "failed", |rows| rows.len() == 1 && rows[0].0 == "failed").await;
    daemon.stop().await;

    for (intern, code) in [(refused_at_mail, "550"), (refused_at_data, "554")] {
        let rows = app.outbox_to(intern).await;
        assert_eq!(rows[0].1, 1, "a permanent refusal was retried: {rows:?}");
        assert!(rows[0].2.as_deref().unwrap_or("").contains(code), "{rows:?}");
    }
    let failed = app.status_json()["failed"].clone();
    for intern in [refused_at_mail, refused_at_data] {
        assert!(
            failed.as_array().unwrap().iter().any(|row| row[1].as_str().unwrap().contains(intern)),
            "{failed}"
        );
    }
    assert!(script.lock().unwrap().accepted.is_empty());
}
