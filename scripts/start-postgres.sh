#!/usr/bin/env bash
# Starts a private PostgreSQL server for the tests, in a new directory on a
# free loopback port, and prints the admin URL on stdout.
#
#   url=$(scripts/start-postgres.sh /tmp/somewhere)   # stop: scripts/stop-postgres.sh /tmp/somewhere
#
# PostgreSQL refuses to run as root, so as root the server runs as the
# `postgres` user (created by Debian's package); DIR must then be reachable by
# that user, as a fresh `mktemp -d /tmp/NAME.XXXXXX` is.
set -euo pipefail
dir=${1:?usage: start-postgres.sh DIR}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    echo "start-postgres: no PostgreSQL server binaries under /usr/lib/postgresql (run scripts/install-test-deps.sh)" >&2
    exit 1
fi
# A port below the kernel's ephemeral range (where outgoing connections
# take their source ports), that nothing answers on. Plain bash: a fresh
# machine may have no python.
free_port() {
    local port
    for _ in $(seq 1 200); do
        port=$((10000 + RANDOM % 22000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    echo "start-postgres: no free loopback port found" >&2
    return 1
}
mkdir -p "$dir"
run() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
[ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
run "$bin/initdb" -D "$dir/data" -A trust -U postgres --no-sync >"$dir/initdb.log" 2>&1 \
    || { echo "start-postgres: initdb failed:" >&2; tail -n 20 "$dir/initdb.log" >&2; exit 1; }
# Another process may bind the port in the instant before the server does:
# then try another one.
for attempt in 1 2 3; do
    port=$(free_port)
    if run "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" start >/dev/null; then
        break
    fi
    if [ "$attempt" = 3 ] || ! grep -q "Address already in use" "$dir/server.log"; then
        echo "start-postgres: the server did not start:" >&2
        tail -n 20 "$dir/server.log" >&2
        exit 1
    fi
done
echo "postgres://postgres@127.0.0.1:$port/postgres"
