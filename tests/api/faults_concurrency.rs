//! Concurrent writers (SPEC §7): the daemon records a stream of replies
//! while `status`, `import` and finally `close` run at the same time. No
//! command fails with "database is locked".

use crate::helpers::{describe, samples_dir};
use crate::mail_helpers::*;

const REPLIES: usize = 30;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn commands_next_to_the_daemon_never_see_a_locked_database() {
    let app = spawn_mail_app(&paris_time(chrono::Duration::days(30))).await;
    let token = app.token(PLAIN_INTERNS[0]).await;
    let posts = app.posts_of(PLAIN_INTERNS[0]).await;
    let daemon = app.start_daemon().await;
    let interns = samples_dir().join("interns.csv").display().to_string();

    let outputs = tokio::task::block_in_place(|| {
        std::thread::scope(|scope| {
            let sender = scope.spawn(|| {
                for n in 0..REPLIES {
                    let body = format!("{}\n", posts[n % posts.len()]);
                    app.deliver(PLAIN_INTERNS[0], &reply(PLAIN_INTERNS[0], Some(&token), "Re: choix", &body));
                }
            });
            let commands: Vec<_> = (0..3)
                .map(|worker| {
                    let interns = interns.clone();
                    let app = &app;
                    scope.spawn(move || {
                        let mut outputs = Vec::new();
                        for round in 0..8 {
                            outputs.push(("status", app.app.choixbot(&["status", "--json"])));
                            if (worker + round) % 3 == 0 {
                                outputs.push(("import", app.app.choixbot(&["import", "interns", &interns])));
                            }
                        }
                        outputs
                    })
                })
                .collect();
            sender.join().unwrap();
            commands.into_iter().flat_map(|c| c.join().unwrap()).collect::<Vec<_>>()
        })
    });
    app.wait_until_settled(REPLIES as i64).await;
    let close = app.app.choixbot(&["close"]);
    daemon.stop().await;

    for (kind, output) in outputs.iter().chain([&("close", close.clone())]) {
        let text = describe(output);
        assert!(!text.contains("database is locked"), "{kind}: {text}");
        if *kind == "status" {
            assert!(output.status.success(), "status failed next to the daemon: {text}");
        }
    }
    assert!(close.status.success(), "{}", describe(&close));
}
