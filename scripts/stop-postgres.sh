#!/usr/bin/env bash
# Stops the server scripts/start-postgres.sh started in DIR.
set -uo pipefail
dir=${1:?usage: stop-postgres.sh DIR}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1
else
    "$bin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1
fi
rm -rf "$dir"
