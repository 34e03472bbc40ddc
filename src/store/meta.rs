//! The daemon's own state in the `meta` table: its keys, the heartbeat
//! (and the lighter handle that writes it), the clean-stop marker, when
//! the records begin. It must not interpret them: telling a power cut
//! from a person's stop is the daemon's business, this only keeps them.

use super::file::{changeable, WRITE_WAIT};
use super::schema::{parse_ts, ts};
use super::{Store, StoreError};
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};

/// Meta keys.
pub mod keys {
    /// Last heartbeat: wall time the daemon last confirmed it was running.
    pub const HEARTBEAT: &str = "last_heartbeat";
    /// Set on a clean stop, cleared at start: tells a person's stop from a
    /// power cut.
    pub const CLEAN_STOP: &str = "clean_stop";
    /// The newest wall time the planner has handled firings up to.
    pub const HANDLED_UNTIL: &str = "handled_until";
    /// Schedule errors from the last load, as JSON, for `status`.
    pub const SCHEDULE_ERRORS: &str = "schedule_errors";
    /// The daemon's heartbeat interval in milliseconds (for `status`).
    pub const HEARTBEAT_EVERY: &str = "heartbeat_every_ms";
    /// Warnings about files missing for firings in the next hour, as JSON.
    pub const WARNINGS: &str = "warnings";
    /// Where the running daemon's HTTP control answers (`127.0.0.1:7878`),
    /// for `play`, `stop` and `status`; cleared on a clean stop.
    pub const CONTROL_ADDR: &str = "control_addr";
    /// Which run answers there (process id and start time), so a client
    /// never mistakes another program on that port for this station's
    /// daemon.
    pub const CONTROL_INSTANCE: &str = "control_instance";
    /// The daemon's first start on this database: days before it have no
    /// data (not 100 % availability).
    pub const FIRST_START: &str = "first_start";
}

impl Store {
    /// Reads a daemon-state value.
    ///
    /// # Errors
    /// On a database failure.
    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.run(|conn, _| {
            Ok(conn
                .query_row("SELECT value FROM meta WHERE key = ?1", params![key], |r| {
                    r.get(0)
                })
                .optional()?)
        })
    }

    /// Writes a daemon-state value.
    ///
    /// # Errors
    /// On a database failure.
    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.run(|conn, _| {
            conn.execute("INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value", params![key, value])?;
            Ok(())
        })?;
        self.touched(Some(key), None);
        Ok(())
    }

    /// Removes a daemon-state value.
    ///
    /// # Errors
    /// On a database failure.
    pub fn clear_meta(&self, key: &str) -> Result<(), StoreError> {
        self.run(|conn, _| {
            conn.execute("DELETE FROM meta WHERE key = ?1", params![key])?;
            Ok(())
        })?;
        self.touched(Some(key), None);
        Ok(())
    }

    /// Instant value of a meta key.
    ///
    /// # Errors
    /// On a database failure.
    pub fn meta_time(&self, key: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(self.meta(key)?.as_deref().map(parse_ts))
    }

    /// Writes the heartbeat and the handled-until mark in one transaction.
    ///
    /// # Errors
    /// On a database failure.
    pub fn beat(&self, now: DateTime<Utc>, handled_until: DateTime<Utc>) -> Result<(), StoreError> {
        self.run(|conn, _| {
            let tx = conn.transaction()?;
            for (k, v) in [(keys::HEARTBEAT, now), (keys::HANDLED_UNTIL, handled_until)] {
                tx.execute("INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value", params![k, ts(v)])?;
            }
            tx.commit()?;
            Ok(())
        })?;
        self.touched(Some(keys::HEARTBEAT), None);
        self.touched(Some(keys::HANDLED_UNTIL), None);
        Ok(())
    }

    /// A second handle on the same database for the heartbeat: its commits
    /// skip the fsync (`synchronous = NORMAL`; WAL keeps them consistent),
    /// so a heartbeat every few seconds costs one wake-up, not several. The
    /// next play commit (FULL) or checkpoint makes it durable; after a power
    /// cut the last heartbeat can be older by the kernel's writeback delay.
    /// It never holds records: a beat that cannot be written is lost (the
    /// daemon's handle holds what matters).
    ///
    /// # Errors
    /// When the database cannot be opened.
    pub fn heartbeat_handle(&self) -> Result<Store, StoreError> {
        let sq = |source| StoreError::Sqlite {
            path: self.path.clone(),
            source,
        };
        changeable(&self.path)?;
        let conn = Connection::open(&self.path).map_err(sq)?;
        conn.busy_timeout(WRITE_WAIT).map_err(sq)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(sq)?;
        Ok(Store::with(conn, self.path.clone(), false))
    }

    /// Moves this connection onto the file now at the path (after another
    /// handle restored it), as the heartbeat's (`synchronous = NORMAL`).
    ///
    /// # Errors
    /// When it cannot be opened.
    pub fn reopen(&self) -> Result<(), StoreError> {
        let sq = |source| StoreError::Sqlite {
            path: self.path.clone(),
            source,
        };
        let new = Connection::open(&self.path).map_err(sq)?;
        new.busy_timeout(WRITE_WAIT).map_err(sq)?;
        new.pragma_update(None, "synchronous", "NORMAL")
            .map_err(sq)?;
        self.lock().disk = Some(new);
        Ok(())
    }

    /// When this station's records begin: the daemon's first start, or the
    /// oldest play or outage (databases from before that key). `None` for
    /// an empty store.
    ///
    /// # Errors
    /// On a database failure.
    pub fn first_record(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let first = self.meta_time(keys::FIRST_START)?;
        self.run(|conn, _| {
            let oldest: Option<String> = conn.query_row(
                "SELECT MIN(t) FROM (SELECT MIN(scheduled_at) AS t FROM plays
                                     UNION ALL SELECT MIN(started_at) FROM outages)",
                [],
                |r| r.get(0),
            )?;
            Ok([first, oldest.as_deref().map(parse_ts)]
                .into_iter()
                .flatten()
                .min())
        })
    }
}
