-- The session: posts, the call list, wishes, and everything the mail loop
-- records. Timestamps are milliseconds since the Unix epoch (UTC).

CREATE TABLE posts (
    ars_id   TEXT    NOT NULL,
    grp      TEXT    NOT NULL,
    places   INTEGER NOT NULL CHECK (places >= 1),
    hospital TEXT    NOT NULL DEFAULT '',
    service  TEXT    NOT NULL DEFAULT '',
    city     TEXT    NOT NULL DEFAULT '',
    position INTEGER NOT NULL,
    PRIMARY KEY (ars_id, grp)
);

CREATE TABLE interns (
    email       TEXT    NOT NULL PRIMARY KEY,
    grp         TEXT    NOT NULL,
    rank        INTEGER NOT NULL,
    last_name   TEXT    NOT NULL,
    first_name  TEXT    NOT NULL,
    choice_type TEXT    NOT NULL,
    proxy_email TEXT    UNIQUE,
    UNIQUE (grp, rank)
);

-- Tokens outlive a re-import of the call list: invitations already sent
-- carry them.
CREATE TABLE tokens (
    email      TEXT    NOT NULL PRIMARY KEY,
    token      TEXT    NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

CREATE TABLE wishes (
    email       TEXT    NOT NULL PRIMARY KEY,
    ars_ids     TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    message_ref INTEGER,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE wish_history (
    id          INTEGER PRIMARY KEY,
    email       TEXT    NOT NULL,
    ars_ids     TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    message_ref INTEGER,
    recorded_at INTEGER NOT NULL
);
CREATE INDEX wish_history_email ON wish_history (email, id);

CREATE TABLE session_state (
    key   TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE mailbox_state (
    folder      TEXT    NOT NULL PRIMARY KEY,
    uidvalidity INTEGER NOT NULL,
    last_uid    INTEGER NOT NULL
);

CREATE TABLE messages (
    id           INTEGER PRIMARY KEY,
    folder       TEXT    NOT NULL,
    uidvalidity  INTEGER NOT NULL,
    uid          INTEGER NOT NULL,
    message_id   TEXT,
    content_hash TEXT    NOT NULL,
    raw          BLOB    NOT NULL,
    received_at  INTEGER NOT NULL,
    sender       TEXT,
    kind         TEXT    NOT NULL,
    intern_email TEXT,
    verdict      TEXT    NOT NULL,
    reasons      TEXT    NOT NULL,
    moved        INTEGER NOT NULL DEFAULT 0,
    UNIQUE (folder, uidvalidity, uid)
);
CREATE INDEX messages_intern ON messages (intern_email, id);
CREATE INDEX messages_sender ON messages (sender, received_at);
CREATE INDEX messages_dedup ON messages (message_id, content_hash);
CREATE INDEX messages_unmoved ON messages (moved) WHERE moved = 0;

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    message_id      TEXT    NOT NULL UNIQUE,
    purpose         TEXT    NOT NULL,
    intern_email    TEXT,
    answers_message INTEGER,
    recipients      TEXT    NOT NULL,
    raw             BLOB    NOT NULL,
    status          TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_intern ON outbox (intern_email, id);

CREATE TABLE bounces (
    id           INTEGER PRIMARY KEY,
    intern_email TEXT    NOT NULL,
    message_ref  INTEGER NOT NULL,
    detail       TEXT    NOT NULL,
    recorded_at  INTEGER NOT NULL
);
CREATE INDEX bounces_intern ON bounces (intern_email);
