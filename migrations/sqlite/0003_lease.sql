-- One process acts on mail at a time: the one holding this lease (a single
-- row, id 1). `epoch` grows by one at each taking, and every write that
-- acts on mail checks it in its own transaction (fencing): a holder that
-- lost the lease while paused or cut off commits nothing. Times are ms
-- since the epoch by the database's clock, the one every daemon shares.
CREATE TABLE lease (
    id INTEGER PRIMARY KEY,
    epoch INTEGER NOT NULL,
    holder TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    since_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL
);

-- Every `choixbot run` seen lately, holder or standby, for `status`.
CREATE TABLE daemons (
    id TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started_ms INTEGER NOT NULL,
    seen_ms INTEGER NOT NULL
);
