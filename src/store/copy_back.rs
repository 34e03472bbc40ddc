//! Copying the rows the held records changed in memory onto the database
//! file, inside the write-back's one transaction: same ids, links kept,
//! a row the file already has for the same firing or open outage
//! respected. It must not choose what to copy (the hold's change list
//! does) nor commit: the caller's transaction makes it all or nothing.

use rusqlite::{params, Connection, OptionalExtension};
use std::collections::BTreeSet;

/// The outages changed in memory, onto the file.
pub(super) fn outages(
    mem: &Connection,
    disk: &Connection,
    ids: &BTreeSet<i64>,
) -> Result<(), rusqlite::Error> {
    type Outage = (String, String, String, Option<String>, Option<String>);
    for &id in ids {
        let Some((kind, subject, started, ended, detail)) = mem
            .query_row(
                "SELECT kind, subject, started_at, ended_at, detail FROM outages WHERE id = ?1",
                params![id],
                |r| Ok::<Outage, _>((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()?
        else {
            continue;
        };
        let n = disk.execute(
            "UPDATE outages SET kind = ?2, subject = ?3, started_at = ?4, ended_at = ?5, detail = ?6 WHERE id = ?1",
            params![id, kind, subject, started, ended, detail],
        )?;
        if n == 0 {
            // One the file has open for the same subject (the memory did
            // not know it) ends where this one starts.
            if ended.is_none() {
                disk.execute(
                    "UPDATE outages SET ended_at = ?3 WHERE kind = ?1 AND subject = ?2 AND ended_at IS NULL",
                    params![kind, subject, started],
                )?;
            }
            disk.execute(
                "INSERT INTO outages (id, kind, subject, started_at, ended_at, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![id, kind, subject, started, ended, detail],
            )?;
        }
    }
    Ok(())
}

/// The plays changed in memory, onto the file, under the same ids.
pub(super) fn plays(
    mem: &Connection,
    disk: &Connection,
    ids: &BTreeSet<i64>,
) -> Result<(), rusqlite::Error> {
    const COLS: &str = "broadcast, scheduled_at, started_at, ended_at, status, reason, trigger, priority, files, outage_id, heard, relayed_ms, lost_ms, reconnects";
    for &id in ids {
        let Some(row) = mem
            .query_row(
                &format!("SELECT {COLS} FROM plays WHERE id = ?1"),
                params![id],
                |r| {
                    (0..14)
                        .map(|i| r.get::<_, rusqlite::types::Value>(i))
                        .collect::<Result<Vec<_>, _>>()
                },
            )
            .optional()?
        else {
            continue;
        };
        let n = disk.execute(
            "UPDATE plays SET broadcast = ?2, scheduled_at = ?3, started_at = ?4, ended_at = ?5, status = ?6, reason = ?7, trigger = ?8, priority = ?9, files = ?10, outage_id = ?11, heard = ?12, relayed_ms = ?13, lost_ms = ?14, reconnects = ?15 WHERE id = ?1",
            rusqlite::params_from_iter(std::iter::once(rusqlite::types::Value::Integer(id)).chain(row.iter().cloned())),
        )?;
        if n == 0 {
            // A firing the file already has a row for (the memory did not
            // know it) keeps that row.
            disk.execute(
                &format!("INSERT OR IGNORE INTO plays (id, {COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"),
                rusqlite::params_from_iter(std::iter::once(rusqlite::types::Value::Integer(id)).chain(row)),
            )?;
        }
    }
    Ok(())
}

/// The meta keys changed (or removed) in memory, onto the file.
pub(super) fn meta(
    mem: &Connection,
    disk: &Connection,
    keys: &BTreeSet<String>,
) -> Result<(), rusqlite::Error> {
    for key in keys {
        let v: Option<String> = mem
            .query_row("SELECT value FROM meta WHERE key = ?1", params![key], |r| {
                r.get(0)
            })
            .optional()?;
        match v {
            Some(v) => disk.execute("INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value", params![key, v])?,
            None => disk.execute("DELETE FROM meta WHERE key = ?1", params![key])?,
        };
    }
    Ok(())
}

/// The good schedule versions changed (or forgotten) in memory, onto the file.
pub(super) fn good_files(
    mem: &Connection,
    disk: &Connection,
    files: &BTreeSet<String>,
) -> Result<(), rusqlite::Error> {
    for file in files {
        let v: Option<(String, String)> = mem
            .query_row(
                "SELECT text, saved_at FROM good_files WHERE file = ?1",
                params![file],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        match v {
            Some((text, at)) => disk.execute(
                "INSERT INTO good_files (file, text, saved_at) VALUES (?1, ?2, ?3) ON CONFLICT (file) DO UPDATE SET text = excluded.text, saved_at = excluded.saved_at",
                params![file, text, at],
            )?,
            None => disk.execute("DELETE FROM good_files WHERE file = ?1", params![file])?,
        };
    }
    Ok(())
}
