#!/usr/bin/env bash
# The end-to-end benchmark of SPEC §10 (see README, "Benchmarks"): the bare
# IMAP + SMTP floor, a storm of waiting replies, the latency under IDLE, the
# close of a 10,000-intern session and the daemon's peak memory, against a
# private Dovecot + Postfix. Options are passed on, e.g.
#   scripts/bench.sh --replies 5000 --duration 60
# Must run as root (the mail stack does); Postfix's smtp-source is needed.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-test-deps.sh
cargo build --release --bin choixbot --example bench_mail_loop
exec target/release/examples/bench_mail_loop "$@"
