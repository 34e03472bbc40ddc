//! The as-run log: one `plays` row per firing (never two), its status as
//! it goes on air and ends, what the monitor heard, and the queries the
//! log, reports and metrics read. It must not decide what plays: the
//! daemon says, this writes it down before the daemon reports it.

use super::schema::{next_id, parse_ts, ts};
use super::{Store, StoreError};
use crate::plan::{Firing, Trigger};
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};

/// Status of a play row.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Playing,
    Played,
    Partial,
    Failed,
    Missed,
    Skipped,
    Interrupted,
}

impl Status {
    /// Every status, for listings that must show zeros too.
    pub const ALL: [Status; 7] = [
        Status::Playing,
        Status::Played,
        Status::Partial,
        Status::Failed,
        Status::Missed,
        Status::Skipped,
        Status::Interrupted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Playing => "playing",
            Status::Played => "played",
            Status::Partial => "partial",
            Status::Failed => "failed",
            Status::Missed => "missed",
            Status::Skipped => "skipped",
            Status::Interrupted => "interrupted",
        }
    }

    fn parse(s: &str) -> Status {
        match s {
            "playing" => Status::Playing,
            "played" => Status::Played,
            "partial" => Status::Partial,
            "failed" => Status::Failed,
            "missed" => Status::Missed,
            "skipped" => Status::Skipped,
            _ => Status::Interrupted,
        }
    }
}

/// One row of the as-run log.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PlayRow {
    pub id: i64,
    pub broadcast: String,
    pub scheduled_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub status: Status,
    pub reason: Option<String>,
    pub trigger: Trigger,
    pub priority: String,
    pub files: Vec<String>,
    pub outage_id: Option<i64>,
    /// Whether the monitor heard it: `None` without a monitor.
    pub heard: Option<bool>,
    /// A relay's seconds of the source that went out (`None`: not a relay).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relayed_s: Option<f64>,
    /// A relay's seconds lost (fallback, silence, cut) since it went on air.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lost_s: Option<f64>,
    /// A relay's connections tried after the first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reconnects: Option<u32>,
}

/// A row to add to the as-run log ([`Store::insert_play`]): one value
/// instead of nine arguments. [`NewPlay::of`] fills it from a firing;
/// set the rest with struct update syntax.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NewPlay<'a> {
    pub broadcast: &'a str,
    pub scheduled_at: DateTime<Utc>,
    /// When its first sample went out (`None`: no sound, or not yet).
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub status: Status,
    pub reason: Option<&'a str>,
    pub trigger: Trigger,
    pub priority: &'a str,
    pub files: &'a [String],
}

impl<'a> NewPlay<'a> {
    /// The row of `firing`, started by `trigger`, with `status`; no start,
    /// end or reason yet.
    pub fn of(firing: &'a Firing, trigger: Trigger, status: Status) -> NewPlay<'a> {
        NewPlay {
            broadcast: &firing.broadcast,
            scheduled_at: firing.scheduled_at,
            started_at: None,
            ended_at: None,
            status,
            reason: None,
            trigger,
            priority: firing.priority.as_str(),
            // A relay's row names its source.
            files: match &firing.relay {
                Some(r) => std::slice::from_ref(&r.subject),
                None => &firing.files,
            },
        }
    }
}

/// What the log command asks for.
#[derive(Debug, Clone, Default)]
pub struct PlayFilter {
    /// Rows scheduled at or after this instant.
    pub since: Option<DateTime<Utc>>,
    /// Rows scheduled before this instant.
    pub until: Option<DateTime<Utc>>,
    pub status: Option<Status>,
    pub limit: Option<usize>,
    /// Leave out the text (broadcast name, reason, files) for callers that
    /// only count and measure: a day of plays then costs the same whatever
    /// the names are.
    pub bare: bool,
}

/// A `plays` row in the column order every play query selects.
fn play_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PlayRow> {
    Ok(PlayRow {
        id: r.get(0)?,
        broadcast: r.get(1)?,
        scheduled_at: parse_ts(&r.get::<_, String>(2)?),
        started_at: r.get::<_, Option<String>>(3)?.as_deref().map(parse_ts),
        ended_at: r.get::<_, Option<String>>(4)?.as_deref().map(parse_ts),
        status: Status::parse(&r.get::<_, String>(5)?),
        reason: r.get(6)?,
        trigger: Trigger::parse(&r.get::<_, String>(7)?),
        priority: r.get(8)?,
        files: serde_json::from_str(&r.get::<_, String>(9)?).unwrap_or_default(),
        outage_id: r.get(10)?,
        heard: r.get(11)?,
        relayed_s: r.get::<_, Option<i64>>(12)?.map(|ms| ms as f64 / 1000.0),
        lost_s: r.get::<_, Option<i64>>(13)?.map(|ms| ms as f64 / 1000.0),
        reconnects: r.get(14)?,
    })
}

impl Store {
    /// At start-up: rows left `playing` by a crash or power cut become
    /// `interrupted`. Returns how many.
    ///
    /// # Errors
    /// On a database failure.
    pub fn mark_interrupted(&self, now: DateTime<Utc>) -> Result<usize, StoreError> {
        self.run(|c, _| {
            Ok(c.execute(
                "UPDATE plays SET status = 'interrupted', reason = COALESCE(reason || '; ', '') || ?2, ended_at = COALESCE(ended_at, ?1) WHERE status = 'playing'",
                params![ts(now), crate::plan::reasons::DAEMON_STOPPED],
            )?)
        })
    }

    /// Whether a firing already has a row (played, missed, anything).
    ///
    /// # Errors
    /// On a database failure.
    pub fn exists(&self, broadcast: &str, scheduled_at: DateTime<Utc>) -> Result<bool, StoreError> {
        self.run(|c, _| {
            Ok(c.query_row(
                "SELECT 1 FROM plays WHERE broadcast = ?1 AND scheduled_at = ?2",
                params![broadcast, ts(scheduled_at)],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
        })
    }

    /// Inserts a row; `None` if the firing already has one (never twice).
    ///
    /// # Errors
    /// On a database failure.
    pub fn insert_play(&self, p: &NewPlay<'_>) -> Result<Option<i64>, StoreError> {
        self.run(|c, floor| {
            let id = next_id(c, "plays", floor)?;
            let n = c.execute(
                "INSERT OR IGNORE INTO plays (id, broadcast, scheduled_at, started_at, ended_at, status, reason, trigger, priority, files)
                 VALUES (?10, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    p.broadcast,
                    ts(p.scheduled_at),
                    p.started_at.map(ts),
                    p.ended_at.map(ts),
                    p.status.as_str(),
                    p.reason,
                    p.trigger.as_str(),
                    p.priority,
                    serde_json::to_string(p.files).expect("json"),
                    id,
                ],
            )?;
            Ok((n == 1).then_some(id))
        })
    }

    /// Sets a row's status (and end, and reason when given).
    ///
    /// # Errors
    /// On a database failure.
    pub fn update(
        &self,
        id: i64,
        status: Status,
        ended_at: Option<DateTime<Utc>>,
        reason: Option<&str>,
    ) -> Result<(), StoreError> {
        self.run(|c, _| {
            c.execute(
                "UPDATE plays SET status = ?2, ended_at = CASE WHEN ?2 = 'playing' THEN NULL ELSE COALESCE(?3, ended_at) END, reason = COALESCE(?4, reason) WHERE id = ?1",
                params![id, status.as_str(), ended_at.map(ts), reason],
            )?;
            Ok(())
        })
    }

    /// Records what the monitor heard of a play.
    ///
    /// # Errors
    /// On a database failure.
    pub fn set_heard(&self, id: i64, heard: Option<bool>) -> Result<(), StoreError> {
        self.run(|c, _| {
            c.execute(
                "UPDATE plays SET heard = ?2 WHERE id = ?1",
                params![id, heard],
            )?;
            Ok(())
        })
    }

    /// Records what a relay put out so far.
    ///
    /// # Errors
    /// On a database failure.
    pub fn set_relayed(
        &self,
        id: i64,
        relayed: std::time::Duration,
        lost: std::time::Duration,
        reconnects: u32,
    ) -> Result<(), StoreError> {
        self.run(|c, _| {
            c.execute(
                "UPDATE plays SET relayed_ms = ?2, lost_ms = ?3, reconnects = ?4 WHERE id = ?1",
                params![
                    id,
                    relayed.as_millis() as i64,
                    lost.as_millis() as i64,
                    reconnects
                ],
            )?;
            Ok(())
        })
    }

    /// Records when the first sample of a play went out.
    ///
    /// # Errors
    /// On a database failure.
    pub fn set_started(&self, id: i64, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.run(|c, _| {
            c.execute(
                "UPDATE plays SET started_at = ?2 WHERE id = ?1",
                params![id, ts(at)],
            )?;
            Ok(())
        })
    }

    /// Reads the as-run log, oldest first.
    ///
    /// # Errors
    /// On a database failure.
    pub fn plays(&self, f: &PlayFilter) -> Result<Vec<PlayRow>, StoreError> {
        self.run(|conn, _| {
            let mut stmt = conn.prepare(
                "SELECT id, CASE WHEN ?5 THEN '' ELSE broadcast END, scheduled_at, started_at, ended_at, status,
                        CASE WHEN ?5 THEN NULL ELSE reason END, trigger, priority,
                        CASE WHEN ?5 THEN '[]' ELSE files END, outage_id, heard, relayed_ms, lost_ms, reconnects FROM plays
                 WHERE (?1 IS NULL OR scheduled_at >= ?1) AND (?4 IS NULL OR scheduled_at < ?4)
                   AND (?2 IS NULL OR status = ?2)
                 ORDER BY scheduled_at, id LIMIT ?3",
            )?;
            let rows = stmt.query_map(
                params![
                    f.since.map(ts),
                    f.status.map(|s| s.as_str()),
                    f.limit.map_or(-1, |l| l as i64),
                    f.until.map(ts),
                    f.bare,
                ],
                play_row,
            )?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    /// The newest `limit` rows (by scheduled instant), newest first.
    ///
    /// # Errors
    /// On a database failure.
    pub fn latest_plays(&self, limit: usize) -> Result<Vec<PlayRow>, StoreError> {
        self.run(|conn, _| {
            let mut stmt = conn.prepare(
                "SELECT id, broadcast, scheduled_at, started_at, ended_at, status, reason, trigger, priority, files, outage_id, heard, relayed_ms, lost_ms, reconnects FROM plays
                 ORDER BY scheduled_at DESC, id DESC LIMIT ?1",
            )?;
            let rows = stmt.query_map(params![limit as i64], play_row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    /// How many plays scheduled in `[from, to)` have each status, by whole
    /// hours since `from` (0 = the first hour): `(hour, status, count)`.
    ///
    /// # Errors
    /// On a database failure.
    pub fn hourly_counts(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(i64, Status, i64)>, StoreError> {
        self.run(|conn, _| {
            // Whole seconds, integer division: a play on the hour belongs to
            // the hour it opens (julianday's floating point could say 7.999).
            let mut stmt = conn.prepare(
                "SELECT (CAST(strftime('%s', scheduled_at) AS INTEGER) - CAST(strftime('%s', ?1) AS INTEGER)) / 3600 AS h,
                        status, COUNT(*) FROM plays
                 WHERE scheduled_at >= ?1 AND scheduled_at < ?2
                 GROUP BY h, status ORDER BY h",
            )?;
            let rows = stmt.query_map(params![ts(from), ts(to)], |r| {
                Ok((r.get(0)?, Status::parse(&r.get::<_, String>(1)?), r.get(2)?))
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    /// How many plays have each status, of those scheduled at or after
    /// `since` (all when `None`).
    ///
    /// # Errors
    /// On a database failure.
    pub fn count_by_status(
        &self,
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<(Status, i64)>, StoreError> {
        // `+status`: group without the status index, so a window is read
        // through the time index (a year of rows cost 23 ms a scrape when
        // SQLite walked the status index instead).
        let sql = match since {
            Some(_) => {
                "SELECT status, COUNT(*) FROM plays WHERE scheduled_at >= ?1 GROUP BY +status"
            }
            None => "SELECT status, COUNT(*) FROM plays WHERE ?1 IS NULL GROUP BY status",
        };
        self.status_counts(sql, since)
    }

    /// As-run rows by status scheduled before `until` (the settled past).
    ///
    /// # Errors
    /// On a database failure.
    pub fn count_by_status_before(
        &self,
        until: DateTime<Utc>,
    ) -> Result<Vec<(Status, i64)>, StoreError> {
        self.status_counts(
            "SELECT status, COUNT(*) FROM plays WHERE scheduled_at < ?1 GROUP BY +status",
            Some(until),
        )
    }

    fn status_counts(
        &self,
        sql: &'static str,
        at: Option<DateTime<Utc>>,
    ) -> Result<Vec<(Status, i64)>, StoreError> {
        self.run(move |conn, _| {
            let mut stmt = conn.prepare_cached(sql)?;
            let rows = stmt.query_map(params![at.map(ts)], |r| {
                Ok((Status::parse(&r.get::<_, String>(0)?), r.get(1)?))
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    /// Of the plays scheduled at or after `since`: how many the monitor
    /// heard, and how many it judged (heard or silent).
    ///
    /// # Errors
    /// On a database failure.
    pub fn count_heard(&self, since: DateTime<Utc>) -> Result<(i64, i64), StoreError> {
        self.run(|conn, _| {
            Ok(conn.query_row(
                "SELECT COALESCE(SUM(heard = 1), 0), COUNT(heard) FROM plays WHERE scheduled_at >= ?1",
                params![ts(since)],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_firing_has_one_row() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let t = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let id = s
            .insert_play(&NewPlay {
                broadcast: "信",
                scheduled_at: t,
                started_at: Some(t),
                ended_at: None,
                status: Status::Playing,
                reason: None,
                trigger: Trigger::Schedule,
                priority: "normal",
                files: &["a.mp3".into()],
            })
            .unwrap();
        assert!(id.is_some());
        assert_eq!(
            s.insert_play(&NewPlay {
                broadcast: "信",
                scheduled_at: t,
                started_at: None,
                ended_at: None,
                status: Status::Missed,
                reason: Some("x"),
                trigger: Trigger::Schedule,
                priority: "normal",
                files: &[],
            })
            .unwrap(),
            None
        );
        assert!(s.exists("信", t).unwrap());
        assert_eq!(s.mark_interrupted(t).unwrap(), 1);
        let rows = s.plays(&PlayFilter::default()).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].status, Status::Interrupted);
        assert_eq!(rows[0].files, vec!["a.mp3".to_string()]);
        // Reopening keeps the data and does not re-run migrations.
        drop(s);
        let s = Store::open(dir.path()).unwrap();
        assert_eq!(s.plays(&PlayFilter::default()).unwrap().len(), 1);
        assert_eq!(s.integrity_check().unwrap(), "ok");
    }

    /// `insert_play` writes every field it is given, once per firing.
    #[test]
    fn a_new_play_is_written_as_given() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        let t = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let files = ["a.mp3".to_string(), "b.mp3".to_string()];
        let p = NewPlay {
            broadcast: "通知",
            scheduled_at: t,
            started_at: Some(t + chrono::Duration::seconds(2)),
            ended_at: Some(t + chrono::Duration::seconds(9)),
            status: Status::Partial,
            reason: Some("cut"),
            trigger: Trigger::CatchUp,
            priority: "important",
            files: &files,
        };
        let id = s.insert_play(&p).unwrap().expect("new row");
        assert_eq!(s.insert_play(&p).unwrap(), None);
        let rows = s.plays(&PlayFilter::default()).unwrap();
        assert_eq!(
            rows,
            vec![PlayRow {
                id,
                broadcast: "通知".into(),
                scheduled_at: t,
                started_at: p.started_at,
                ended_at: p.ended_at,
                status: Status::Partial,
                reason: Some("cut".into()),
                trigger: Trigger::CatchUp,
                priority: "important".into(),
                files: files.to_vec(),
                outage_id: None,
                heard: None,
                relayed_s: None,
                lost_s: None,
                reconnects: None,
            }]
        );
    }
}
