//! The allocation of a large session, and the consolidated list made from
//! it (SPEC §10: closing a session of 10,000 interns and 12,000 places must
//! take under 2 s in all; the allocation's own target is under 50 ms).

use criterion::{criterion_group, criterion_main, Criterion};

use choixbot::allocation::allocate;
use choixbot::ars_list::{summary, to_csv, to_xlsx, ListInput};
use choixbot::synthetic;

fn allocation(c: &mut Criterion) {
    let session = synthetic::session(10_000, 12_000, 30, 1);
    c.bench_function("allocate 10,000 interns, 12,000 places", |b| {
        b.iter(|| allocate(std::hint::black_box(session.input(1))))
    });
}

fn ars_list(c: &mut Criterion) {
    let session = synthetic::session(10_000, 12_000, 30, 1);
    let allocation = allocate(session.input(1));
    let input = ListInput {
        session_name: "Benchmark",
        posts: &session.posts,
        interns: &session.interns,
        allocation: &allocation,
    };
    c.bench_function("ARS list CSV, 10,000 interns", |b| b.iter(|| to_csv(std::hint::black_box(input))));
    c.bench_function("ARS list XLSX, 10,000 interns", |b| b.iter(|| to_xlsx(std::hint::black_box(input))));
    c.bench_function("ARS list summary, 10,000 interns", |b| b.iter(|| summary(std::hint::black_box(input))));
}

criterion_group!(benches, allocation, ars_list);
criterion_main!(benches);
