-- 1: the as-run log and daemon state.
-- Keep the text of each CREATE and added column as it is: SQLite stores
-- it as written, so even its spacing is part of the schema.
CREATE TABLE plays (
        id            INTEGER PRIMARY KEY,
        broadcast     TEXT NOT NULL,
        scheduled_at  TEXT NOT NULL,
        started_at    TEXT,
        ended_at      TEXT,
        status        TEXT NOT NULL CHECK (status IN ('playing','played','partial','failed','missed','skipped','interrupted')),
        reason        TEXT,
        trigger       TEXT NOT NULL CHECK (trigger IN ('schedule','catch_up','manual')),
        priority      TEXT NOT NULL DEFAULT 'normal',
        files         TEXT NOT NULL DEFAULT '[]',
        UNIQUE (broadcast, scheduled_at)
    );
CREATE INDEX plays_scheduled ON plays (scheduled_at);
CREATE INDEX plays_status ON plays (status);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
