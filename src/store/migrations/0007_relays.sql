-- 7: relays (转播): what went out of each relay (milliseconds of the
-- source relayed, milliseconds lost, reconnects), and `source` outages (a
-- relayed stream or line-in lost). The CHECK is widened as in migration 4.
-- Keep the text of each CREATE and added column as it is: SQLite stores
-- it as written, so even its spacing is part of the schema.
CREATE TABLE outages_new (
        id          INTEGER PRIMARY KEY,
        kind        TEXT NOT NULL CHECK (kind IN ('power','stopped','output','content','clock','signal','terminal','config','store','source')),
        subject     TEXT NOT NULL DEFAULT '',
        started_at  TEXT NOT NULL,
        ended_at    TEXT,
        detail      TEXT
    );
INSERT INTO outages_new (id, kind, subject, started_at, ended_at, detail)
    SELECT id, kind, subject, started_at, ended_at, detail FROM outages;
DROP TABLE outages;
ALTER TABLE outages_new RENAME TO outages;
CREATE UNIQUE INDEX outages_one_open ON outages (kind, subject) WHERE ended_at IS NULL;
CREATE INDEX outages_started ON outages (started_at);
ALTER TABLE plays ADD COLUMN relayed_ms INTEGER;
ALTER TABLE plays ADD COLUMN lost_ms INTEGER;
ALTER TABLE plays ADD COLUMN reconnects INTEGER;
