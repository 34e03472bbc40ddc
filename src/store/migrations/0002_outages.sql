-- 2: the outage ledger; missed/failed plays point at the outage that cost them.
-- Keep the text of each CREATE and added column as it is: SQLite stores
-- it as written, so even its spacing is part of the schema.
CREATE TABLE outages (
        id          INTEGER PRIMARY KEY,
        kind        TEXT NOT NULL CHECK (kind IN ('power','stopped','output','content','clock','signal','terminal')),
        subject     TEXT NOT NULL DEFAULT '',
        started_at  TEXT NOT NULL,
        ended_at    TEXT,
        detail      TEXT
    );
CREATE UNIQUE INDEX outages_one_open ON outages (kind, subject) WHERE ended_at IS NULL;
CREATE INDEX outages_started ON outages (started_at);
ALTER TABLE plays ADD COLUMN outage_id INTEGER REFERENCES outages (id);
CREATE INDEX plays_outage ON plays (outage_id);
