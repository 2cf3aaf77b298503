//! How many typical replies the parser reads per second on one core
//! (target: 20,000 replies of about 5 KB per second, issue 3).
//!
//! The typical reply is what Gmail sends: multipart/alternative, the
//! intern's three lines on top of the quoted invitation (which lists every
//! post), in text/plain and in HTML.
//!
//! Measured on the shared 2-core development machine (release, 2026-11-22):
//! 24 µs of CPU per 5 KB reply, about 41,000 replies per second on one core
//! (wall clock under a load average of 5: about 14,000 per second).

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

use choixbot::reply::{parse, KnownPosts};

/// Posts listed in the quoted invitation: enough for a reply of about 5 KB.
const TEMPLATE_POSTS: usize = 38;

fn template_lines(prefix: &str) -> String {
    (0..TEMPLATE_POSTS)
        .map(|i| format!("{prefix}{:04} – Service de médecine {i}, Hôpital n°{i}\n", 1000 + i * 7))
        .collect()
}

/// A Gmail reply of about 5 KB.
fn typical_reply() -> Vec<u8> {
    let quoted = template_lines("> ");
    let html_quote: String = template_lines("").lines().map(|l| format!("<div>{l}</div>")).collect();
    format!(
        "Return-Path: <jean.dupont@gmail.com>\r\nFrom: Jean Dupont <jean.dupont@gmail.com>\r\nTo: Choix de stage <choix+k7m2q3x4b3n5c6d7@asso.example>\r\nSubject: Re: Choix de stage – Semestre d'été 2020 – réf. k7m2q3x4b3n5c6d7\r\nMessage-ID: <CAF123@mail.gmail.com>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"000000000000abcdef\"\r\n\r\n--000000000000abcdef\r\nContent-Type: text/plain; charset=\"UTF-8\"\r\nContent-Transfer-Encoding: 8bit\r\n\r\nBonjour,\r\n\r\nVoici mes choix :\r\n1) 1007\r\n2) 1021\r\n3) 1042\r\n\r\nCordialement,\r\nJean Dupont\r\n06 12 34 56 78\r\n\r\nLe lun. 4 mai 2020 à 09:12, Choix de stage <choix@asso.example> a écrit :\r\n{quoted}\r\n--000000000000abcdef\r\nContent-Type: text/html; charset=\"UTF-8\"\r\n\r\n<div dir=\"ltr\"><div>1) 1007</div><div>2) 1021</div><div>3) 1042</div></div><div class=\"gmail_quote\">{html_quote}</div>\r\n--000000000000abcdef--\r\n"
    )
    .into_bytes()
}

fn bench_parse(c: &mut Criterion) {
    let raw = typical_reply();
    let known = KnownPosts::new((0..TEMPLATE_POSTS).map(|i| format!("{:04}", 1000 + i * 7)));
    assert_eq!(parse(&raw, &known).choices.len(), 3, "the benchmark message must parse as intended");
    let mut group = c.benchmark_group("reply");
    group.throughput(Throughput::Elements(1));
    group.bench_function(format!("parse typical {} B reply", raw.len()), |b| {
        b.iter(|| parse(std::hint::black_box(&raw), &known))
    });
    // The machine is shared: wall-clock time counts the time other processes
    // hold the core. The CPU time of this thread is what "on one core" means.
    group.bench_function("parse typical reply, CPU time of one core", |b| {
        b.iter_custom(|iters| {
            let start = thread_cpu_time();
            for _ in 0..iters {
                std::hint::black_box(parse(std::hint::black_box(&raw), &known));
            }
            thread_cpu_time().saturating_sub(start)
        })
    });
    group.finish();
}

/// CPU time consumed by the calling thread (CLOCK_THREAD_CPUTIME_ID).
fn thread_cpu_time() -> Duration {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `now` is a valid, writable timespec for the duration of the call.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

criterion_group!(benches, bench_parse);
criterion_main!(benches);
