#!/bin/sh
# Installs what choixbot's tests need: Dovecot (IMAP, LMTP) and Postfix for
# the private mail stack (crates/mailstack), openssl for its certificates,
# PostgreSQL for the database tests, and Chromium with chromedriver for the
# web page's browser tests. Idempotent: does nothing when every
# package is there; runs `apt-get update` once, only when one is missing.
#
# The system-wide Dovecot and Postfix services are not needed (each test
# starts its own servers on free loopback ports): they are stopped if the
# packages started them.
set -eu

PACKAGES="dovecot-imapd dovecot-lmtpd postfix openssl postgresql chromium chromium-driver"

missing=""
for package in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $package"
    fi
done

if [ -z "$missing" ]; then
    echo "install-test-deps: everything is installed ($PACKAGES)"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "install-test-deps: missing:$missing; run this script as root (sudo $0)" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# Postfix's package asks how the machine sends mail: "No configuration"
# writes no main.cf of its own use and starts nothing that matters to us.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections

echo "install-test-deps: installing$missing"
apt-get update
# shellcheck disable=SC2086
apt-get install -y --no-install-recommends $missing

# Postfix with "No configuration" leaves no /etc/postfix/main.cf; the stack
# appends `alternate_config_directories` to it, so make sure it exists.
if [ ! -f /etc/postfix/main.cf ]; then
    cp /usr/share/postfix/main.cf.debian /etc/postfix/main.cf 2>/dev/null || : > /etc/postfix/main.cf
fi

# Stop the system-wide servers if the packages started them: tests use
# their own instances on their own ports.
for service in dovecot postfix; do
    if command -v service >/dev/null 2>&1; then
        service "$service" stop >/dev/null 2>&1 || true
    fi
done
echo "install-test-deps: done"
