//! `check --sources`: each relayed source of the station's schedules
//! tried once, now (an HTTP stream connected and its first sound decoded;
//! a line-in opened and read). Only when a person asks: plain `check`
//! never touches the network or a device.

use crate::config::load::Station;
use crate::config::schedule::RelaySource;
use crate::i18n::Lang;
use crate::sound::monitor::{DeviceSource, MonitorSource};
use crate::sound::relay::probe_http;
use std::collections::BTreeMap;
use std::time::Duration;

/// How long one source may take to answer.
pub const PROBE: Duration = Duration::from_secs(5);

/// One source tried: what it carries, or why it cannot be relayed now.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SourceProbe {
    pub source: String,
    /// The broadcasts that relay it.
    pub broadcasts: Vec<String>,
    pub ok: bool,
    /// `44100 Hz, 2 ch (audio/mpeg)`, or the error.
    pub detail: String,
}

/// Tries every source the station's broadcasts relay, once each.
pub fn probe_sources(station: &Station) -> Vec<SourceProbe> {
    let mut by_source: BTreeMap<String, (RelaySource, Vec<String>)> = BTreeMap::new();
    for b in station
        .files
        .iter()
        .flat_map(|f| f.parsed.broadcasts.iter())
    {
        if let Some(r) = &b.relay {
            by_source
                .entry(r.source.subject())
                .or_insert_with(|| (r.source.clone(), Vec::new()))
                .1
                .push(b.name.clone());
        }
    }
    by_source
        .into_iter()
        .map(|(subject, (source, broadcasts))| {
            let result = match &source {
                RelaySource::Http(url) => probe_http(url, PROBE),
                RelaySource::LineIn(dev) => probe_line_in(dev.as_deref()),
            };
            SourceProbe {
                source: subject,
                broadcasts,
                ok: result.is_ok(),
                detail: result.unwrap_or_else(|e| e),
            }
        })
        .collect()
}

fn probe_line_in(device: Option<&str>) -> Result<String, String> {
    let mut d = DeviceSource::open(device)?;
    let w = d.read_window()?;
    Ok(format!(
        "{} Hz, {:.1} dBFS",
        d.rate(),
        crate::sound::monitor::rms_dbfs(&w)
    ))
}

/// The probes as text, one line each.
pub fn render(probes: &[SourceProbe], lang: Lang) -> String {
    let mut s = String::new();
    s.push_str(lang.pick(
        "\n转播来源（现在试连一次）：\n",
        "\nRelay sources (tried once, now):\n",
    ));
    if probes.is_empty() {
        s.push_str(lang.pick("  没有转播节目。\n", "  no broadcast relays a source.\n"));
    }
    for p in probes {
        let mark = if p.ok { "✓" } else { "✗" };
        s.push_str(&format!(
            "  {mark} {} — {}（{}）\n",
            p.source,
            p.detail,
            p.broadcasts.join("、")
        ));
    }
    s
}
