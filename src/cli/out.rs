//! What every CLI listing shares: CSV for Excel/WPS, durations in words,
//! pretty JSON and a read that failed said as such. Rendering only: it
//! must not read the store or the schedules.

use crate::i18n::Lang;
use crate::views::ReadError;
use chrono::Duration as TimeDelta;
use std::io::Write;
use std::time::Duration;

/// CSV with a BOM (Excel and WPS then read UTF-8).
pub(crate) fn write_csv(
    out: &mut dyn Write,
    header: &[&str],
    rows: &[Vec<String>],
) -> std::io::Result<()> {
    // The writer's own I/O error, kind kept: a reader that closed the pipe
    // (`| head -1`) is a quiet end, not a failure.
    fn io(e: csv::Error) -> std::io::Error {
        match e.into_kind() {
            csv::ErrorKind::Io(e) => e,
            k => std::io::Error::other(format!("{k:?}")),
        }
    }
    out.write_all(b"\xEF\xBB\xBF")?;
    let mut w = csv::Writer::from_writer(out);
    w.write_record(header).map_err(io)?;
    for r in rows {
        w.write_record(r).map_err(io)?;
    }
    w.flush()
}

/// `1h 5m` for a span (a negative one is nothing).
pub(crate) fn human_duration(d: TimeDelta) -> String {
    crate::i18n::show_duration(Duration::from_secs(d.num_seconds().max(0) as u64))
}

/// Pretty JSON and a newline.
pub(crate) fn write_json(out: &mut dyn Write, v: &impl serde::Serialize) -> std::io::Result<()> {
    writeln!(out, "{}", serde_json::to_string_pretty(v).expect("json"))
}

/// Says why a read failed on `err`; the exit code: 2 for a bad option,
/// 1 for a store that cannot be read (never "nothing recorded").
pub(crate) fn read_failed(e: &ReadError, lang: Lang, err: &mut dyn Write) -> std::io::Result<i32> {
    writeln!(err, "cunxiang: {}", e.render(lang))?;
    Ok(match e {
        ReadError::Usage(_) => crate::EXIT_CONFIG,
        ReadError::Store(_) => crate::EXIT_FINDINGS,
    })
}
