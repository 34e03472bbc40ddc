//! `cunxiang county-report --prometheus URL --month 2026-12`: a county's
//! monthly availability report per village, read from the county's
//! Prometheus (the stations' own `/metrics` as it scraped them), as CSV
//! with a BOM for WPS/Excel, a table or JSON. No central server: the
//! numbers are Prometheus' samples of each station's gauges.
//!
//! Per station (by its `county`, `township` and `station` labels):
//! - online: the share of scrapes that answered (`up`) over the month;
//! - plays: each day's final `cunxiang_plays_today` by status (the value
//!   at the station's local 23:59:59, a `max_over_time` over that day),
//!   summed over the month;
//! - fault minutes: minutes with an open fault (`cunxiang_open_outages`).
//!
//! Querying and summing only; it must not decide what a fault is.

use super::out::write_csv;
use crate::i18n::Lang;
use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;

/// One village's month.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct VillageMonth {
    pub county: String,
    pub township: String,
    pub station: String,
    /// Share of scrapes answered, 0–1 (`None`: never scraped).
    pub online: Option<f64>,
    pub played: i64,
    pub partial: i64,
    pub failed: i64,
    pub missed: i64,
    /// Minutes with at least one open fault.
    pub fault_minutes: i64,
}

impl VillageMonth {
    /// Played of what was due (played, partial, failed, missed), 0–1.
    pub fn availability(&self) -> Option<f64> {
        let due = self.played + self.partial + self.failed + self.missed;
        (due > 0).then(|| self.played as f64 / due as f64)
    }
}

/// The report's window: each local day's last second in the month (up to
/// `now`), as instants.
pub fn day_ends(month: NaiveDate, tz: Tz, now: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    let mut out = Vec::new();
    let mut d = month.with_day(1).unwrap_or(month);
    while d.month() == month.month() {
        let next = d.succ_opt().unwrap_or(d);
        if let Some(end) = tz
            .from_local_datetime(&next.and_hms_opt(0, 0, 0).unwrap_or_default())
            .earliest()
            .map(|t| t.with_timezone(&Utc) - chrono::TimeDelta::seconds(1))
        {
            if end - chrono::TimeDelta::days(1) < now {
                out.push(end.min(now));
            }
        }
        d = next;
    }
    out
}

/// A station's key: (county, township, station).
type Key = (String, String, String);

fn key(metric: &serde_json::Value) -> Key {
    let l = |k: &str| metric[k].as_str().unwrap_or_default().to_string();
    (l("county"), l("township"), l("station"))
}

/// Adds a `query_range` answer of daily final counts (`status` label) to
/// the villages.
pub fn add_plays(villages: &mut BTreeMap<Key, VillageMonth>, answer: &serde_json::Value) {
    for series in answer["data"]["result"].as_array().into_iter().flatten() {
        let v = village(villages, &series["metric"]);
        let total: i64 = series["values"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p[1].as_str()?.parse::<f64>().ok())
            .map(|x| x.round() as i64)
            .sum();
        match series["metric"]["status"].as_str() {
            Some("played") => v.played += total,
            Some("partial") => v.partial += total,
            Some("failed") => v.failed += total,
            Some("missed") => v.missed += total,
            _ => {}
        }
    }
}

/// Sets one value per village from an instant query's answer.
pub fn add_instant(
    villages: &mut BTreeMap<Key, VillageMonth>,
    answer: &serde_json::Value,
    set: impl Fn(&mut VillageMonth, f64),
) {
    for series in answer["data"]["result"].as_array().into_iter().flatten() {
        if let Some(x) = series["value"][1]
            .as_str()
            .and_then(|s| s.parse::<f64>().ok())
        {
            set(village(villages, &series["metric"]), x);
        }
    }
}

fn village<'a>(
    villages: &'a mut BTreeMap<Key, VillageMonth>,
    metric: &serde_json::Value,
) -> &'a mut VillageMonth {
    let k = key(metric);
    villages.entry(k.clone()).or_insert_with(|| VillageMonth {
        county: k.0,
        township: k.1,
        station: k.2,
        ..VillageMonth::default()
    })
}

/// Asks Prometheus' HTTP API (`/api/v1/query` or `query_range`).
pub(super) fn ask(
    base: &str,
    token: Option<&str>,
    path: &str,
    params: &[(&str, String)],
) -> Result<serde_json::Value, String> {
    let url = format!("{}/api/v1/{path}", base.trim_end_matches('/'));
    let mut req = ureq::get(&url);
    for (k, v) in params {
        req = req.query(k, v);
    }
    if let Some(t) = token {
        req = req.header("Authorization", &format!("Bearer {t}"));
    }
    let v: serde_json::Value = req
        .call()
        .map_err(|e| format!("{url}: {e}"))?
        .body_mut()
        .read_json()
        .map_err(|e| format!("{url}: {e}"))?;
    if v["status"] != "success" {
        return Err(format!("{url}: {}", v["error"]));
    }
    Ok(v)
}

/// Reads the month of every station Prometheus knows.
///
/// # Errors
/// Prometheus cannot be reached or refuses a query.
pub fn read_month(
    base: &str,
    token: Option<&str>,
    month: NaiveDate,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<Vec<VillageMonth>, String> {
    let ends = day_ends(month, tz, now);
    let (Some(first), Some(last)) = (ends.first(), ends.last()) else {
        return Ok(Vec::new());
    };
    let start = *first - chrono::TimeDelta::days(1) + chrono::TimeDelta::seconds(1);
    let span = (*last - start).num_seconds().max(60);
    let mut villages = BTreeMap::new();
    let by = "county, township, station";
    let plays = ask(
        base,
        token,
        "query_range",
        &[
            (
                "query",
                format!("max by ({by}, status) (max_over_time(cunxiang_plays_today{{status=~\"played|partial|failed|missed\"}}[86399s]))"),
            ),
            ("start", first.timestamp().to_string()),
            ("end", last.timestamp().to_string()),
            ("step", "86400".to_string()),
        ],
    )?;
    add_plays(&mut villages, &plays);
    let at = ("time", last.timestamp().to_string());
    let online = ask(
        base,
        token,
        "query",
        &[
            (
                "query",
                format!("avg by ({by}) (avg_over_time(up[{span}s]))"),
            ),
            at.clone(),
        ],
    )?;
    add_instant(&mut villages, &online, |v, x| v.online = Some(x));
    let faults = ask(
        base,
        token,
        "query",
        &[
            (
                "query",
                format!(
                    "sum_over_time((max by ({by}) (cunxiang_open_outages) > bool 0)[{span}s:1m])"
                ),
            ),
            at,
        ],
    )?;
    add_instant(&mut villages, &faults, |v, x| {
        v.fault_minutes = x.round() as i64
    });
    let mut out: Vec<VillageMonth> = villages.into_values().collect();
    out.sort_by(|a, b| {
        (&a.county, &a.township, &a.station).cmp(&(&b.county, &b.township, &b.station))
    });
    Ok(out)
}

fn percent(x: Option<f64>) -> String {
    x.map_or_else(|| "-".into(), |x| format!("{:.1}%", x * 100.0))
}

/// Writes the report as CSV (with a BOM) in `lang`.
///
/// # Errors
/// When writing fails.
pub fn write_report_csv(
    rows: &[VillageMonth],
    lang: Lang,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let header: Vec<&str> = match lang {
        Lang::Zh => vec![
            "县",
            "乡镇",
            "村",
            "在线率",
            "应播",
            "播出",
            "不完整",
            "失败",
            "漏播",
            "可用率",
            "故障分钟",
        ],
        Lang::En => vec![
            "county",
            "township",
            "station",
            "online",
            "due",
            "played",
            "partial",
            "failed",
            "missed",
            "availability",
            "fault_minutes",
        ],
    };
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.county.clone(),
                r.township.clone(),
                r.station.clone(),
                percent(r.online),
                (r.played + r.partial + r.failed + r.missed).to_string(),
                r.played.to_string(),
                r.partial.to_string(),
                r.failed.to_string(),
                r.missed.to_string(),
                percent(r.availability()),
                r.fault_minutes.to_string(),
            ]
        })
        .collect();
    write_csv(out, &header, &body)
}

/// `cunxiang county-report`.
///
/// # Errors
/// Only when writing fails.
#[allow(clippy::too_many_arguments)]
pub fn county_report(
    base: &str,
    token: Option<&str>,
    month: NaiveDate,
    tz: Tz,
    now: DateTime<Utc>,
    json: bool,
    lang: Lang,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> std::io::Result<i32> {
    match read_month(base, token, month, tz, now) {
        Ok(rows) if json => {
            super::out::write_json(out, &rows)?;
            Ok(crate::EXIT_OK)
        }
        Ok(rows) => {
            write_report_csv(&rows, lang, out)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_is_its_local_days_ends_up_to_now() {
        let tz = chrono_tz::Asia::Shanghai;
        let now: DateTime<Utc> = "2026-12-03T02:00:00Z".parse().unwrap();
        let ends = day_ends(NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(), tz, now);
        // 1 and 2 December end at 15:59:59 UTC; the 3rd has begun (10:00
        // local): its end so far is now.
        assert_eq!(
            ends.iter().map(|t| t.to_rfc3339()).collect::<Vec<_>>(),
            [
                "2026-12-01T15:59:59+00:00",
                "2026-12-02T15:59:59+00:00",
                "2026-12-03T02:00:00+00:00"
            ]
        );
        let nov = day_ends(NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(), tz, now);
        assert_eq!(nov.len(), 30);
    }

    #[test]
    fn daily_counts_sum_per_village_and_status() {
        let answer = serde_json::json!({"status": "success", "data": {"result": [
            {"metric": {"county": "某县", "township": "城关镇", "station": "李家村", "status": "played"},
             "values": [[1, "5"], [2, "6"]]},
            {"metric": {"county": "某县", "township": "城关镇", "station": "李家村", "status": "missed"},
             "values": [[2, "1"]]},
        ]}});
        let mut v = BTreeMap::new();
        add_plays(&mut v, &answer);
        let li = v.values().next().unwrap();
        assert_eq!((li.played, li.missed), (11, 1));
        assert_eq!(li.availability(), Some(11.0 / 12.0));
        let mut buf = Vec::new();
        write_report_csv(&v.into_values().collect::<Vec<_>>(), Lang::Zh, &mut buf).unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert!(text.starts_with('\u{feff}'), "a BOM for WPS");
        assert!(
            text.contains("某县,城关镇,李家村,-,12,11,0,0,1,91.7%,0"),
            "{text}"
        );
    }
}
