#!/usr/bin/env bash
# The main job (see README): a whole demonstration session on a private mail
# stack: sample data, invitations, simulated replies in several client
# styles, the deadline, and the consolidated list the ARS receives.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-test-deps.sh
cargo build --release --bin choixbot --example demo
exec target/release/examples/demo target/release/choixbot
