//! IMAP connections that fail in the network (SPEC §7), through
//! [`FaultProxy`]: a connection that goes silent (packets dropped, no FIN)
//! is detected by the command timeout and replaced; a connection cut in the
//! middle of a FETCH, or Dovecot restarted in the middle of one, is
//! replaced and the message fetched again. Nothing is lost, nothing
//! decided twice.

use crate::faults_proxy::FaultProxy;
use crate::mail_helpers::*;

/// Sends choixbot's IMAP traffic through `proxy`, with a short command
/// timeout.
fn through_proxy(app: &MailApp, proxy: &FaultProxy) {
    through_proxy_with_timeout(app, proxy, 3);
}

fn through_proxy_with_timeout(app: &MailApp, proxy: &FaultProxy, seconds: u64) {
    let config = std::fs::read_to_string(&app.app.config).unwrap();
    let config = config
        .replacen(&format!("port = {}", app.stack.imaps_port()), &format!("port = {}", proxy.port), 1)
        .replacen("timeout_seconds = 15", &format!("timeout_seconds = {seconds}"), 1);
    std::fs::write(&app.app.config, config).unwrap();
}

/// Delivers a 4 MB reply from one intern (its FETCH takes long enough to
/// be interrupted in the middle), then a small one from another; returns
/// the two interns, once both replies are in the mailbox.
async fn deliver_big_then_small(app: &MailApp) -> [&'static str; 2] {
    let [big, small, _] = PLAIN_INTERNS;
    let post = app.posts_of(big).await.remove(0);
    let token = app.token(big).await;
    let padding = "Lorem ipsum dolor sit amet, consectetur adipiscing elit.\r\n".repeat(70_000);
    app.deliver(big, &reply(big, Some(&token), "Re: choix", &format!("{post}\r\n\r\n--\r\n{padding}")));
    app.deliver_valid_reply(small).await;
    app.wait_for(BOT, 2);
    [big, small]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silently_dead_imap_connection_is_detected_by_the_timeout() {
    // Without IDLE the daemon polls with NOOP, which the timeout bounds.
    let builder = mailstack::MailStack::builder().imap_capability(mailstack::BASIC_IMAP_CAPABILITY);
    let app = spawn_mail_app_on(builder, &paris_time(chrono::Duration::days(30))).await;
    let proxy = FaultProxy::start(app.stack.imaps_port()).await;
    through_proxy(&app, &proxy);
    let [before, after, _] = PLAIN_INTERNS;
    app.deliver_valid_reply(before).await;
    let daemon = app.start_daemon().await;
    app.wait_until_settled(1).await;
    let connections = proxy.connections();

    proxy.drop_packets_of_open_connections();
    app.deliver_valid_reply(after).await;
    app.settle_and_stop(daemon, 2).await;
    assert!(proxy.connections() > connections, "the daemon never reconnected");
    app.check_each_answered_once(&[before, after]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_cut_during_fetch_is_fetched_again_once() {
    let app = spawn_mail_app(&paris_time(chrono::Duration::days(30))).await;
    let proxy = FaultProxy::start(app.stack.imaps_port()).await;
    through_proxy(&app, &proxy);
    // A 4 MB reply: the cut falls in the middle of its FETCH.
    let [big, small] = deliver_big_then_small(&app).await;
    proxy.cut_next_transfer_after(1024 * 1024);

    let daemon = app.start_daemon().await;
    app.settle_and_stop(daemon, 2).await;
    assert!(proxy.connections() >= 2, "the cut did not happen: the test aimed wrong");
    app.check_each_answered_once(&[big, small]).await;
}

/// Dovecot restarted while it is sending a FETCH: the proxy holds the
/// transfer after 1 MB (Dovecot blocks writing the rest), Dovecot is
/// restarted (its IMAP process killed mid-command), then the proxy lets the
/// remains through. The daemon sees the connection end in the middle of the
/// literal, reconnects once Dovecot is back, and fetches again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dovecot_restarted_during_a_fetch_the_message_is_fetched_again_once() {
    let mut app = spawn_mail_app(&paris_time(chrono::Duration::days(30))).await;
    let proxy = FaultProxy::start(app.stack.imaps_port()).await;
    // A timeout longer than the restart: the restart, not the timeout, is
    // what ends the FETCH.
    through_proxy_with_timeout(&app, &proxy, 30);
    let [big, small] = deliver_big_then_small(&app).await;
    proxy.hold_next_transfer_after(1024 * 1024);

    let daemon = app.start_daemon().await;
    proxy.wait_until_held(std::time::Duration::from_secs(60)).await;
    assert!(app.decided().await.is_empty(), "decided before the FETCH ended");
    tokio::task::block_in_place(|| app.stack.restart_dovecot()).expect("Dovecot restarts");
    proxy.release();

    app.settle_and_stop(daemon, 2).await;
    assert!(proxy.connections() >= 2, "the daemon never reconnected");
    app.check_each_answered_once(&[big, small]).await;
}

/// Regression: a connection that died without a FIN during IDLE was only
/// noticed at the IDLE renewal, 25 minutes later. The IDLE now ends after
/// `[imap] idle_silence_seconds` without a word from the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_dies_silently_during_idle_is_noticed() {
    let deadline = paris_time(chrono::Duration::days(30));
    let app = spawn_mail_app(&deadline).await;
    app.write_config_with(&deadline, &[("imap", "idle_silence_seconds = 5")]);
    let proxy = FaultProxy::start(app.stack.imaps_port()).await;
    through_proxy(&app, &proxy);
    let [before, after, _] = PLAIN_INTERNS;
    app.deliver_valid_reply(before).await;
    let daemon = app.start_daemon().await;
    app.wait_until_settled(1).await;
    app.wait_for_empty_inbox();
    let connections = proxy.connections();

    // The daemon idles; its connection now drops every packet.
    proxy.drop_packets_of_open_connections();
    app.deliver_valid_reply(after).await;
    app.settle_and_stop(daemon, 2).await;
    assert!(proxy.connections() > connections, "the daemon never reconnected");
    app.check_each_answered_once(&[before, after]).await;
}
