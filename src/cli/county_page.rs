//! `cunxiang county-page --prometheus URL [--out FILE]`: the county's view
//! as one static HTML page (no scripts, no external assets), made from the
//! county Prometheus' HTTP API: the townships with how many villages fail,
//! then every failing village — what is wrong, since when, what to check —
//! longest first. Stations that stopped answering (`up == 0`) or whose
//! pushed samples stopped (behind NAT) head the list as `power`. Meant
//! for a cron job writing into a web folder, or to open in a browser.
//! Querying and rendering only.

use super::county::ask;
use crate::i18n::Lang;
use crate::store::OutageKind;
use crate::views::ledger::{advice_for, kind_word};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use maud::{html, PreEscaped, DOCTYPE};
use std::collections::BTreeMap;
use std::io::Write;

/// One failing village's fault.
#[derive(Debug, Clone, PartialEq)]
pub struct Failing {
    pub township: String,
    pub station: String,
    pub kind: OutageKind,
    pub subject: String,
    pub since: DateTime<Utc>,
}

fn label(m: &serde_json::Value, k: &str) -> String {
    m[k].as_str().unwrap_or_default().to_string()
}

fn kind_of(s: &str) -> Option<OutageKind> {
    OutageKind::ALL.into_iter().find(|k| k.as_str() == s)
}

fn instant(v: f64) -> DateTime<Utc> {
    DateTime::from_timestamp(v as i64, 0).unwrap_or_default()
}

/// Every village Prometheus knows (by township), and the failing ones.
///
/// # Errors
/// Prometheus cannot be reached or refuses a query.
pub fn read(
    base: &str,
    token: Option<&str>,
) -> Result<(BTreeMap<String, usize>, Vec<Failing>), String> {
    let q = |query: &str| ask(base, token, "query", &[("query", query.to_string())]);
    let mut townships: BTreeMap<String, usize> = BTreeMap::new();
    let known = q("max by (township, station) (last_over_time(cunxiang_time_seconds[30d]))")?;
    for s in known["data"]["result"].as_array().into_iter().flatten() {
        *townships
            .entry(label(&s["metric"], "township"))
            .or_default() += 1;
    }
    let mut failing = Vec::new();
    // Not answering (scraped), or no sample for 5 minutes (pushed): since
    // the last time it was heard.
    let silent = q("max by (township, station) (last_over_time(cunxiang_time_seconds[30d])) unless max by (township, station) (cunxiang_time_seconds)")?;
    let open = q("cunxiang_outage_open_since_timestamp_seconds")?;
    // A silent village is a power cut since it was last heard; an open
    // outage says its own kind and subject.
    let series =
        |a: &serde_json::Value| a["data"]["result"].as_array().cloned().unwrap_or_default();
    for (s, outage) in series(&silent)
        .iter()
        .map(|s| (s, false))
        .chain(series(&open).iter().map(|s| (s, true)))
    {
        let m = &s["metric"];
        let kind = if outage {
            kind_of(&label(m, "kind"))
        } else {
            Some(OutageKind::Power)
        };
        let Some(kind) = kind else { continue };
        let at = s["value"][1]
            .as_str()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0);
        failing.push(Failing {
            township: label(m, "township"),
            station: label(m, "station"),
            kind,
            subject: if outage {
                label(m, "subject")
            } else {
                String::new()
            },
            since: instant(at),
        });
    }
    failing.sort_by(|a, b| a.since.cmp(&b.since).then(a.station.cmp(&b.station)));
    Ok((townships, failing))
}

/// The page.
pub fn render(
    townships: &BTreeMap<String, usize>,
    failing: &[Failing],
    now: DateTime<Utc>,
    tz: Tz,
    lang: Lang,
) -> String {
    let l = |zh: &'static str, en: &'static str| lang.pick(zh, en);
    let show = |t: DateTime<Utc>| t.with_timezone(&tz).format("%m-%d %H:%M").to_string();
    let long =
        |t: DateTime<Utc>| crate::i18n::show_duration((now - t).to_std().unwrap_or_default());
    let failing_in = |t: &str| {
        let mut v: Vec<&str> = failing
            .iter()
            .filter(|f| f.township == t)
            .map(|f| f.station.as_str())
            .collect();
        v.sort_unstable();
        v.dedup();
        v.len()
    };
    html! {
        (DOCTYPE)
        html lang=(l("zh-CN", "en")) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (l("县级广播监控", "County broadcast monitoring")) }
                style { (PreEscaped("body{font-family:sans-serif;margin:1em;color:#1d2330}table{border-collapse:collapse}td,th{padding:.3em .6em;border-bottom:1px solid #ddd;text-align:left}.bad{color:#b3261e;font-weight:bold}")) }
            }
            body {
                h1 { (l("县级广播监控", "County broadcast monitoring")) }
                p { (l("生成于 ", "Made at ")) (now.with_timezone(&tz).format("%Y-%m-%d %H:%M")) }
                h2 { (l("各乡镇", "Townships")) }
                table #townships {
                    tr { th { (l("乡镇", "township")) } th { (l("村", "villages")) } th { (l("有故障", "failing")) } }
                    @for (t, n) in townships {
                        @let bad = failing_in(t);
                        tr { td { (t) } td { (n) } td class=(if bad > 0 { "bad" } else { "" }) { (bad) } }
                    }
                }
                h2 { (l("故障村（持续最久的在前）", "Failing villages (longest first)")) }
                @if failing.is_empty() {
                    p { (l("全部正常。", "All well.")) }
                } @else {
                    table #failing {
                        tr {
                            th { (l("乡镇", "township")) } th { (l("村", "village")) } th { (l("故障", "fault")) }
                            th { (l("对象", "subject")) } th { (l("开始", "since")) } th { (l("已持续", "for")) } th { (l("检查", "check")) }
                        }
                        @for f in failing {
                            tr {
                                td { (f.township) } td { (f.station) } td.bad { (kind_word(lang, f.kind)) }
                                td { (f.subject) } td { (show(f.since)) } td { (long(f.since)) }
                                td { (advice_for(lang, f.kind, &f.subject)) }
                            }
                        }
                    }
                }
            }
        }
    }
    .into_string()
}

/// `cunxiang county-page`.
///
/// # Errors
/// Only when writing fails.
pub fn county_page(
    base: &str,
    token: Option<&str>,
    tz: Tz,
    now: DateTime<Utc>,
    lang: Lang,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> std::io::Result<i32> {
    match read(base, token) {
        Ok((townships, failing)) => {
            out.write_all(render(&townships, &failing, now, tz, lang).as_bytes())?;
            Ok(crate::EXIT_OK)
        }
        Err(e) => {
            match lang {
                Lang::Zh => writeln!(err, "cunxiang: 读不到县里的 Prometheus：{e}")?,
                Lang::En => writeln!(err, "cunxiang: cannot read the county's Prometheus: {e}")?,
            }
            Ok(crate::EXIT_FINDINGS)
        }
    }
}
