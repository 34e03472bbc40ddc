//! Each schedule file's last version without errors (`good_files`), so a
//! file broken while the daemon was down still goes on air as it was. It
//! must not parse or judge schedules: the daemon says which text is good.

use super::schema::{parse_ts, ts};
use super::{Store, StoreError};
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};

impl Store {
    /// A schedule file's last version without errors, and when it was
    /// saved: what goes on air while the file has errors, across restarts.
    ///
    /// # Errors
    /// On a database failure.
    pub fn good_file(&self, file: &str) -> Result<Option<(String, DateTime<Utc>)>, StoreError> {
        let row: Option<(String, String)> = self.run(|conn, _| {
            Ok(conn
                .query_row(
                    "SELECT text, saved_at FROM good_files WHERE file = ?1",
                    params![file],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?)
        })?;
        Ok(row.map(|(text, at)| (text, parse_ts(&at))))
    }

    /// Every schedule file's good version (file, text).
    ///
    /// # Errors
    /// On a database failure.
    pub fn good_files(&self) -> Result<Vec<(String, String)>, StoreError> {
        self.run(|conn, _| {
            let mut st = conn.prepare("SELECT file, text FROM good_files ORDER BY file")?;
            let rows = st
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
            Ok(rows)
        })
    }

    /// Keeps `text` as the good version of `file` (when it changed).
    /// Returns whether it was written.
    ///
    /// # Errors
    /// On a database failure.
    pub fn keep_good_file(
        &self,
        file: &str,
        text: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let n = self.run(|conn, _| {
            Ok(conn.execute(
                "INSERT INTO good_files (file, text, saved_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (file) DO UPDATE SET text = excluded.text, saved_at = excluded.saved_at
                 WHERE good_files.text <> excluded.text",
                params![file, text, ts(at)],
            )?)
        })?;
        self.touched(None, Some(file));
        Ok(n > 0)
    }

    /// Forgets the good versions of files no longer in the schedules
    /// folder (a deleted file goes off air, as its owner meant).
    ///
    /// # Errors
    /// On a database failure.
    pub fn forget_good_files_except(&self, keep: &[String]) -> Result<usize, StoreError> {
        let gone = self.run(|conn, _| {
            let files: Vec<String> = conn
                .prepare("SELECT file FROM good_files")?
                .query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            let mut gone = Vec::new();
            for f in files.into_iter().filter(|f| !keep.contains(f)) {
                if conn.execute("DELETE FROM good_files WHERE file = ?1", params![f])? > 0 {
                    gone.push(f);
                }
            }
            Ok(gone)
        })?;
        for f in &gone {
            self.touched(None, Some(f));
        }
        Ok(gone.len())
    }
}
