-- Commands by email (SPEC §11).
--
-- Proxies an intern designated or revoked by email (PROCURATION). Once
-- `overridden` is 1, `active` (NULL: no proxy) replaces the call list's
-- `interns.proxy_email`: the intern's own word is newer than the file.
-- `pending` is a designated address that has not answered ACCEPTE yet,
-- with the token of the request it was sent.
CREATE TABLE proxies (
    email TEXT NOT NULL PRIMARY KEY,
    overridden BIGINT NOT NULL DEFAULT 0,
    active TEXT,
    accepted_at BIGINT,
    pending TEXT,
    pending_token TEXT UNIQUE,
    requested_at BIGINT,
    changed_at BIGINT NOT NULL
);

-- Displacement notices, one row per intern who has had one or turned
-- them off (NOTIFS NON). A pending notice has `pending_since` and the post
-- the intern lost (`lost_ars_id`); it leaves when due (debounced by
-- `mail.notice_minutes`), worded with the state at that time.
CREATE TABLE notices (
    email TEXT NOT NULL PRIMARY KEY,
    muted BIGINT NOT NULL DEFAULT 0,
    lost_ars_id TEXT,
    pending_since BIGINT,
    last_sent_at BIGINT,
    sent BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX notices_pending ON notices (pending_since);
