#!/usr/bin/env bash
# The one test command (see README): installs what the tests need, then runs
# the whole suite on SQLite and again on PostgreSQL. Every server a test needs
# (PostgreSQL here; Dovecot and Postfix inside the tests) is started for it.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-test-deps.sh

echo "== unit tests, doc tests and the integration suite on SQLite"
cargo test --workspace --all-targets
cargo test --workspace --doc

pgdir=$(mktemp -d /tmp/choixbot-pg.XXXXXX)
trap 'scripts/stop-postgres.sh "$pgdir"' EXIT
CHOIXBOT_TEST_POSTGRES_URL=$(scripts/start-postgres.sh "$pgdir")
export CHOIXBOT_TEST_POSTGRES_URL
echo "== the integration suite on PostgreSQL ($CHOIXBOT_TEST_POSTGRES_URL)"
CHOIXBOT_TEST_DATABASE=postgres cargo test --test api
