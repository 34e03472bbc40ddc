//! `cunxiang check`: renders the check report of `views::check` as text
//! or JSON. Rendering only: it must not decide what is a finding.

use crate::config::load::Station;
use crate::i18n::Lang;
use crate::views::check;
use chrono::{DateTime, Utc};
use std::io::Write;
use std::path::Path;

/// Output format of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CheckFormat {
    Text,
    Json,
}

/// `cunxiang check`: 0 clean or warnings only, 2 errors.
///
/// # Errors
/// Only when writing to `out` fails.
pub fn check(
    station_dir: &Path,
    now: DateTime<Utc>,
    lang: Lang,
    format: CheckFormat,
    (deep, sources): (bool, bool),
    out: &mut dyn Write,
) -> std::io::Result<i32> {
    let station = Station::load(station_dir);
    let report = check::check_with(&station, now, deep);
    // Only when asked: each relayed source tried once, now.
    let probes = sources.then(|| crate::views::sources::probe_sources(&station));
    match format {
        CheckFormat::Text => {
            out.write_all(check::render(&report, lang).as_bytes())?;
            if let Some(p) = &probes {
                out.write_all(crate::views::sources::render(p, lang).as_bytes())?;
            }
        }
        CheckFormat::Json => {
            let mut json = check::to_json(&report, lang);
            if let Some(p) = &probes {
                json["sources"] = serde_json::to_value(p).expect("json");
            }
            writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&json).expect("json")
            )?
        }
    }
    let source_down = probes.is_some_and(|p| p.iter().any(|s| !s.ok));
    Ok(if report.errors() > 0 {
        crate::EXIT_CONFIG
    } else if source_down {
        crate::EXIT_FINDINGS
    } else {
        crate::EXIT_OK
    })
}
