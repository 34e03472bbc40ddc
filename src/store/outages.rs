//! The outage ledger: periods when broadcasts could not go out, by kind
//! and subject, at most one open per (kind, subject), and the link from a
//! play to the outage that cost it. It must not judge what is a fault:
//! the daemon opens and closes, this keeps the record.

use super::held::{HeldState, STORE_SUBJECT};
use super::schema::{next_id, parse_ts, ts};
use super::{Store, StoreError};
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};

/// What kind of failure an outage is (PRODUCT.md §5).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
pub enum OutageKind {
    /// The controller was not running and did not stop cleanly.
    Power,
    /// A person stopped it cleanly: shown, not a fault.
    Stopped,
    /// The sound device is missing or failing.
    Output,
    /// A scheduled file is missing, empty or undecodable.
    Content,
    /// The PC clock is wrong or jumped.
    Clock,
    Signal,
    Terminal,
    /// The station file or a schedule file has errors: its changes (or,
    /// with no good version yet, its broadcasts) are off air.
    Config,
    /// The database could not be written (disk full, locked by another
    /// program, read-only, damaged, deleted): broadcasting went on and the
    /// records waited in memory.
    Store,
    /// A relayed source (an HTTP stream, the line-in) was lost: the
    /// fallback or silence went out instead.
    Source,
}

impl OutageKind {
    pub const ALL: [OutageKind; 10] = [
        OutageKind::Power,
        OutageKind::Stopped,
        OutageKind::Output,
        OutageKind::Content,
        OutageKind::Clock,
        OutageKind::Signal,
        OutageKind::Terminal,
        OutageKind::Config,
        OutageKind::Store,
        OutageKind::Source,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OutageKind::Power => "power",
            OutageKind::Stopped => "stopped",
            OutageKind::Output => "output",
            OutageKind::Content => "content",
            OutageKind::Clock => "clock",
            OutageKind::Signal => "signal",
            OutageKind::Terminal => "terminal",
            OutageKind::Config => "config",
            OutageKind::Store => "store",
            OutageKind::Source => "source",
        }
    }

    fn parse(s: &str) -> OutageKind {
        OutageKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .unwrap_or(OutageKind::Power)
    }

    /// Faults need repair; a person's stop does not.
    pub fn is_fault(self) -> bool {
        self != OutageKind::Stopped
    }
}

/// One period when broadcasts could not go out.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct OutageRow {
    pub id: i64,
    pub kind: OutageKind,
    pub subject: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub detail: Option<String>,
    /// Plays (missed, failed...) that point at it.
    pub lost: i64,
}

impl HeldState {
    /// The `store` fault the file cannot show yet, as a repair-list row
    /// (id 0: it is not in the ledger until the records are written).
    pub fn outage(&self, detail: String) -> OutageRow {
        OutageRow {
            id: 0,
            kind: OutageKind::Store,
            subject: STORE_SUBJECT.to_string(),
            started_at: self.since,
            ended_at: None,
            detail: Some(detail),
            lost: 0,
        }
    }
}

impl Store {
    /// Opens an outage, or returns the one already open for (kind, subject):
    /// opening is idempotent.
    ///
    /// # Errors
    /// On a database failure.
    pub fn open_outage(
        &self,
        kind: OutageKind,
        subject: &str,
        started_at: DateTime<Utc>,
        detail: &str,
    ) -> Result<(i64, bool), StoreError> {
        self.run(|conn, floor| {
            if let Some(id) = conn
                .query_row(
                    "SELECT id FROM outages WHERE kind = ?1 AND subject = ?2 AND ended_at IS NULL",
                    params![kind.as_str(), subject],
                    |r| r.get(0),
                )
                .optional()?
            {
                return Ok((id, false));
            }
            let id = next_id(conn, "outages", floor)?;
            conn.execute(
                "INSERT INTO outages (id, kind, subject, started_at, detail) VALUES (?5, ?1, ?2, ?3, ?4)",
                params![kind.as_str(), subject, ts(started_at), detail, id],
            )?;
            Ok((id, true))
        })
    }

    /// Records an outage that is already over (a power cut found at start-up).
    ///
    /// # Errors
    /// On a database failure.
    pub fn closed_outage(
        &self,
        kind: OutageKind,
        subject: &str,
        started_at: DateTime<Utc>,
        ended_at: DateTime<Utc>,
        detail: &str,
    ) -> Result<i64, StoreError> {
        self.run(|conn, floor| {
            let id = next_id(conn, "outages", floor)?;
            conn.execute(
                "INSERT INTO outages (id, kind, subject, started_at, ended_at, detail) VALUES (?6, ?1, ?2, ?3, ?4, ?5)",
                params![kind.as_str(), subject, ts(started_at), ts(ended_at), detail, id],
            )?;
            Ok(id)
        })
    }

    /// Closes the open outage for (kind, subject), if any; idempotent.
    /// Returns its id when one was closed.
    ///
    /// # Errors
    /// On a database failure.
    pub fn close_outage(
        &self,
        kind: OutageKind,
        subject: &str,
        ended_at: DateTime<Utc>,
    ) -> Result<Option<i64>, StoreError> {
        self.run(|conn, _| {
            let id: Option<i64> = conn
                .query_row(
                    "SELECT id FROM outages WHERE kind = ?1 AND subject = ?2 AND ended_at IS NULL",
                    params![kind.as_str(), subject],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(id) = id {
                conn.execute(
                    "UPDATE outages SET ended_at = ?2 WHERE id = ?1",
                    params![id, ts(ended_at)],
                )?;
            }
            Ok(id)
        })
    }

    /// Points a play row at the outage that cost it.
    ///
    /// # Errors
    /// On a database failure.
    pub fn link_outage(&self, play: i64, outage: i64) -> Result<(), StoreError> {
        self.run(|conn, _| {
            conn.execute(
                "UPDATE plays SET outage_id = ?2 WHERE id = ?1",
                params![play, outage],
            )?;
            Ok(())
        })
    }

    /// The ledger, newest first: `open_only` gives the repair list (open
    /// faults); `since` keeps outages still open or ended after it.
    ///
    /// # Errors
    /// On a database failure.
    pub fn outages(
        &self,
        open_only: bool,
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<OutageRow>, StoreError> {
        self.run(|conn, _| {
            let mut stmt = conn.prepare(
                "SELECT o.id, o.kind, o.subject, o.started_at, o.ended_at, o.detail,
                        (SELECT COUNT(*) FROM plays p WHERE p.outage_id = o.id)
                 FROM outages o
                 WHERE (?1 = 0 OR (o.ended_at IS NULL AND o.kind != 'stopped'))
                   AND (?2 IS NULL OR o.ended_at IS NULL OR o.ended_at >= ?2)
                 ORDER BY o.started_at DESC, o.id DESC",
            )?;
            let rows = stmt.query_map(params![open_only as i32, since.map(ts)], |r| {
                Ok(OutageRow {
                    id: r.get(0)?,
                    kind: OutageKind::parse(&r.get::<_, String>(1)?),
                    subject: r.get(2)?,
                    started_at: parse_ts(&r.get::<_, String>(3)?),
                    ended_at: r.get::<_, Option<String>>(4)?.as_deref().map(parse_ts),
                    detail: r.get(5)?,
                    lost: r.get(6)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }
}
