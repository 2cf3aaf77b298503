-- The virtual amphi (SPEC §11): interns called in turns, in rank order
-- within their group, each validation final.
--
-- One row per call of an intern: `round` 1 at their rank, 2 when they
-- asked PLUS TARD and are called again after the last of their group.
-- `ends_at` is when the turn ends (moved on by a pause). A turn is settled
-- once (`settled_at` set, never changed): `outcome` chosen, absent or
-- later; for chosen, the post (`ars_id`) and `status` (assigned or
-- surnombre); `how` says what settled it (favourite, reply, when_absent,
-- declared, skipped), and `message_ref` the reply that did.
CREATE TABLE amphi_turns (
    email       TEXT    NOT NULL,
    grp         TEXT    NOT NULL,
    round       INTEGER NOT NULL,
    called_at   INTEGER NOT NULL,
    ends_at     INTEGER NOT NULL,
    settled_at  INTEGER,
    outcome     TEXT,
    ars_id      TEXT,
    status      TEXT,
    how         TEXT,
    message_ref INTEGER,
    PRIMARY KEY (email, round)
);
CREATE INDEX amphi_turns_open ON amphi_turns (settled_at);

-- What an intern said before their turn: ABSENT or PLUS TARD (`intent`
-- absent or later), or a referent's `amphi skip` (skipped).
CREATE TABLE amphi_intents (
    email       TEXT    NOT NULL PRIMARY KEY,
    intent      TEXT    NOT NULL,
    at          INTEGER NOT NULL,
    message_ref INTEGER
);

-- The interns told their turn is near, once per round.
CREATE TABLE amphi_warned (
    email TEXT    NOT NULL,
    round INTEGER NOT NULL,
    at    INTEGER NOT NULL,
    PRIMARY KEY (email, round)
);
