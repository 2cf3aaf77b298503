//! The allocation of a large session (SPEC §10: closing a session of 10,000
//! interns and 12,000 places must take under 2 s in all; the allocation's
//! own target is under 50 ms).

use criterion::{criterion_group, criterion_main, Criterion};

use choixbot::allocation::allocate;
use choixbot::synthetic;

fn allocation(c: &mut Criterion) {
    let session = synthetic::session(10_000, 12_000, 30, 1);
    c.bench_function("allocate 10,000 interns, 12,000 places", |b| {
        b.iter(|| allocate(std::hint::black_box(session.input(1))))
    });
}

criterion_group!(benches, allocation);
criterion_main!(benches);
