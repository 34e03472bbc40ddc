//! The shape of the tables: the numbered migrations (`migrations/*.sql`,
//! applied in order, `PRAGMA user_version` counting them), how an instant
//! is stored as text and how a new row is numbered. It must not read or
//! write the records themselves; a migration, once released, is never
//! edited (add the next one instead).

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::Connection;

/// Numbered migrations; `PRAGMA user_version` says how many have run.
pub(super) const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_plays_and_meta.sql"),
    include_str!("migrations/0002_outages.sql"),
    include_str!("migrations/0003_heard.sql"),
    include_str!("migrations/0004_config_outages.sql"),
    include_str!("migrations/0005_good_files.sql"),
    include_str!("migrations/0006_store_outages.sql"),
    include_str!("migrations/0007_relays.sql"),
];

/// Runs the numbered migrations on `conn` (each in an immediate
/// transaction that re-reads the version, so two processes opening a new
/// database at once cannot both apply one).
pub(super) fn migrate(conn: &mut Connection) -> Result<(), rusqlite::Error> {
    // Migrations run with foreign keys off (SQLite's own procedure for
    // rebuilding a table others point at) and are checked before each
    // commit; they are switched on once the schema is current.
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    loop {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let version: usize = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
        let Some(m) = MIGRATIONS.get(version) else {
            break;
        };
        tx.execute_batch(m)?;
        let broken: i64 =
            tx.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                r.get(0)
            })?;
        if broken > 0 {
            return Err(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY),
                Some(format!(
                    "migration {} left {broken} dangling references",
                    version + 1
                )),
            ));
        }
        tx.pragma_update(None, "user_version", version + 1)?;
        tx.commit()?;
    }
    conn.pragma_update(None, "foreign_keys", "ON")
}

/// Stored instants: UTC, millisecond precision, fixed width so text order is
/// time order.
pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Reads a stored instant back (the epoch for text that is not one).
pub(super) fn parse_ts(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

/// The highest play or outage id in a database.
pub(super) fn top_id(conn: &Connection) -> Result<i64, rusqlite::Error> {
    conn.query_row(
        "SELECT MAX(IFNULL((SELECT MAX(id) FROM plays), 0), IFNULL((SELECT MAX(id) FROM outages), 0))",
        [],
        |r| r.get(0),
    )
}

/// The id a new row gets: above every id in the table and above `floor`
/// (every id in the file, while held without a copy of it).
pub(super) fn next_id(conn: &Connection, table: &str, floor: i64) -> Result<i64, rusqlite::Error> {
    let top: i64 = conn.query_row(
        &format!("SELECT IFNULL(MAX(id), 0) FROM {table}"),
        [],
        |r| r.get(0),
    )?;
    Ok(top.max(floor) + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{OutageKind, Store, DB_FILE};

    /// The schema the migrations leave, as SQLite keeps it: the text of
    /// each CREATE, spacing included, so the `.sql` files must keep theirs.
    const SCHEMA: &str = "CREATE TABLE good_files (
        file      TEXT PRIMARY KEY,
        text      TEXT NOT NULL,
        saved_at  TEXT NOT NULL
    )
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)
CREATE TABLE \"outages\" (
        id          INTEGER PRIMARY KEY,
        kind        TEXT NOT NULL CHECK (kind IN ('power','stopped','output','content','clock','signal','terminal','config','store','source')),
        subject     TEXT NOT NULL DEFAULT '',
        started_at  TEXT NOT NULL,
        ended_at    TEXT,
        detail      TEXT
    )
CREATE UNIQUE INDEX outages_one_open ON outages (kind, subject) WHERE ended_at IS NULL
CREATE INDEX outages_started ON outages (started_at)
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
        files         TEXT NOT NULL DEFAULT '[]', outage_id INTEGER REFERENCES outages (id), heard INTEGER CHECK (heard IN (0, 1)), relayed_ms INTEGER, lost_ms INTEGER, reconnects INTEGER,
        UNIQUE (broadcast, scheduled_at)
    )
CREATE INDEX plays_outage ON plays (outage_id)
CREATE INDEX plays_scheduled ON plays (scheduled_at)
CREATE INDEX plays_status ON plays (status)";

    #[test]
    fn the_migrations_leave_the_schema_as_it_was() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        let version: usize = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, 7);
        let sql: Vec<String> = conn
            .prepare("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(sql.join("\n"), SCHEMA);
    }

    #[test]
    fn a_wave_one_database_migrates_and_keeps_its_links() {
        // A database as wave 1 left it (migrations 1-3), with an outage a
        // play points at.
        let dir = tempfile::tempdir().unwrap();
        {
            let conn = Connection::open(dir.path().join(DB_FILE)).unwrap();
            conn.pragma_update(None, "foreign_keys", "ON").unwrap();
            for m in &MIGRATIONS[..3] {
                conn.execute_batch(m).unwrap();
            }
            conn.pragma_update(None, "user_version", 3).unwrap();
            conn.execute_batch(
                "INSERT INTO outages (id, kind, subject, started_at) VALUES (7, 'output', 'rodio', '2026-12-01T00:00:00.000Z');
                 INSERT INTO plays (broadcast, scheduled_at, status, trigger, outage_id) VALUES ('信', '2026-12-01T00:00:00.000Z', 'failed', 'schedule', 7);",
            )
            .unwrap();
        }
        let s = Store::open(dir.path()).unwrap();
        let t = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let open = s.outages(true, None).unwrap();
        assert_eq!(open.len(), 1);
        assert_eq!((open[0].id, open[0].lost), (7, 1));
        let (id, new) = s
            .open_outage(OutageKind::Config, "schedules/a.toml", t, "x")
            .unwrap();
        assert!(new);
        assert!(
            s.open_outage(OutageKind::Config, "schedules/a.toml", t, "x")
                .unwrap()
                == (id, false)
        );
        assert_eq!(s.integrity_check().unwrap(), "ok");
        let fk: i64 = s
            .run(|c, _| {
                Ok(
                    c.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                        r.get(0)
                    })?,
                )
            })
            .unwrap();
        assert_eq!(fk, 0);
    }
}
