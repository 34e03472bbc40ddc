//! Reading the ledger for people: outage words and advice, the per-day
//! report (planned vs aired, fault minutes, availability) and the
//! emergency-broadcast state codes. The arithmetic is pure and unit-tested;
//! it must not open the store (its callers hand it rows).

use crate::i18n::Lang;
use crate::store::{OutageKind, OutageRow, PlayRow, Status};
use chrono::{DateTime, Duration as TimeDelta, NaiveDate, Utc};
use std::collections::BTreeMap;

/// Emergency-broadcast state codes (PRODUCT.md §5).
pub mod state {
    pub const NORMAL: u8 = 1;
    pub const STOPPED: u8 = 2;
    pub const FAULT: u8 = 3;
    pub const FAULT_RECOVERED: u8 = 4;
    pub const BROADCASTING: u8 = 5;
}

/// An outage kind in the operator's words.
pub fn kind_word(lang: Lang, k: OutageKind) -> &'static str {
    let (zh, en) = match k {
        OutageKind::Power => ("断电/死机", "power"),
        OutageKind::Stopped => ("人为停止", "stopped"),
        OutageKind::Output => ("声卡/输出", "output"),
        OutageKind::Content => ("音频文件", "content"),
        OutageKind::Clock => ("电脑时钟", "clock"),
        OutageKind::Signal => ("无信号", "signal"),
        OutageKind::Terminal => ("网络终端", "terminal"),
        OutageKind::Config => ("节目单/设置文件", "config"),
        OutageKind::Store => ("记录数据库", "store"),
        OutageKind::Source => ("转播信号源", "source"),
    };
    lang.pick(zh, en)
}

/// What to check for one outage: a typed notice that could not be read
/// aloud (`say:…`) points at the speech engine, not at an audio file.
pub fn advice_for(lang: Lang, k: OutageKind, subject: &str) -> &'static str {
    if k == OutageKind::Content && subject.starts_with("say:") {
        return lang.pick(
            "这条文字广播没能朗读：运行 cunxiang check 看原因，安装或修好朗读程序（apt-get install espeak-ng）",
            "this typed notice could not be read aloud: run cunxiang check for why, and install or repair the speech engine (apt-get install espeak-ng)",
        );
    }
    advice(lang, k)
}

/// What to check for an outage kind: the repair list's last column.
pub fn advice(lang: Lang, k: OutageKind) -> &'static str {
    let (zh, en) = match k {
        OutageKind::Power => (
            "检查广播电脑和功放/发射机供电，查明是谁断的电",
            "check the power of the broadcast PC and the amplifier/transmitter",
        ),
        OutageKind::Stopped => (
            "有人停止了播控程序（不是故障）",
            "someone stopped cunxiang (not a fault)",
        ),
        OutageKind::Output => (
            "检查声卡连接、音频线和功放电源",
            "check the sound card, the audio cable and the amplifier's power",
        ),
        OutageKind::Content => (
            "上传今日公告文件，或重新导出这个音频文件",
            "upload today's bulletin, or export the audio file again",
        ),
        OutageKind::Clock => (
            "校准电脑时间，检查主板电池",
            "set the PC clock right and check the CMOS battery",
        ),
        OutageKind::Signal => (
            "检查功放/发射机是否断电，检查广播线路",
            "check whether the amplifier/transmitter is switched off, and the broadcast line",
        ),
        OutageKind::Terminal => (
            "检查网络音柱的供电和网络",
            "check the IP loudspeaker's power and network",
        ),
        OutageKind::Config => (
            "改正这个文件里的错误（cunxiang check 会指出哪一行），保存后几秒内生效",
            "fix the error in this file (cunxiang check shows the line); it applies within seconds of saving",
        ),
        OutageKind::Store => (
            "检查数据文件夹所在磁盘的剩余空间，是否有别的程序占用数据库文件，文件是否被设为只读（chattr -i）；损坏的数据库已另存备查",
            "check the free space on the data folder's disk, whether another program holds the database file, and whether it was made read-only (chattr -i); a damaged database is kept beside for inspection",
        ),
        OutageKind::Source => (
            "检查转播来源：直播流地址能否打开（cunxiang check --sources）、县台/上级的推流是否中断、网络是否通；线路输入检查接线和收音机",
            "check the relayed source: whether the stream address opens (cunxiang check --sources), whether the county's stream is up, the network; for line-in, the cable and the receiver",
        ),
    };
    lang.pick(zh, en)
}

/// The state code of an outage record.
pub fn outage_state(o: &OutageRow) -> u8 {
    match (o.kind, o.ended_at) {
        (OutageKind::Stopped, _) => state::STOPPED,
        (_, None) => state::FAULT,
        (_, Some(_)) => state::FAULT_RECOVERED,
    }
}

/// The state code of a play record.
pub fn play_state(p: &PlayRow) -> u8 {
    match p.status {
        Status::Playing => state::BROADCASTING,
        Status::Played | Status::Skipped => state::NORMAL,
        _ => state::FAULT,
    }
}

/// One day of the report.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct DayReport {
    pub date: NaiveDate,
    pub planned: usize,
    pub played: usize,
    pub partial: usize,
    pub failed: usize,
    pub missed: usize,
    pub skipped: usize,
    pub interrupted: usize,
    pub manual: usize,
    /// Plays the monitor heard (proof of air).
    pub verified: usize,
    pub minutes_on_air: f64,
    /// Minutes of relayed sources that went out, and minutes of relay
    /// slots lost (the source lost, or cut).
    pub relay_minutes: f64,
    pub relay_lost_minutes: f64,
    /// Fault minutes per outage kind (overlaps within a kind counted once).
    pub fault_minutes: BTreeMap<String, f64>,
    /// Share of the (elapsed part of the) day with no fault outage open;
    /// `None` for days that have not started.
    pub availability: Option<f64>,
}

/// Total length of the union of intervals, clipped to `[lo, hi)`.
pub fn covered(
    mut spans: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    lo: DateTime<Utc>,
    hi: DateTime<Utc>,
) -> TimeDelta {
    spans.retain(|(a, b)| b > &lo && a < &hi && a < b);
    spans.sort();
    let mut total = TimeDelta::zero();
    let mut cur: Option<(DateTime<Utc>, DateTime<Utc>)> = None;
    for (a, b) in spans {
        let (a, b) = (a.max(lo), b.min(hi));
        match cur {
            Some((ca, cb)) if a <= cb => cur = Some((ca, cb.max(b))),
            Some((ca, cb)) => {
                total += cb - ca;
                cur = Some((a, b));
            }
            None => cur = Some((a, b)),
        }
    }
    if let Some((a, b)) = cur {
        total += b - a;
    }
    total
}

/// Builds one day's report from its bounds, the plan's count for it, the
/// play rows scheduled in it and the outages.
pub fn day_report(
    date: NaiveDate,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    now: DateTime<Utc>,
    planned: usize,
    plays: &[PlayRow],
    outages: &[OutageRow],
) -> DayReport {
    let mut r = DayReport {
        date,
        planned,
        ..Default::default()
    };
    let mut air = TimeDelta::zero();
    let (mut relayed, mut relay_lost) = (0.0, 0.0);
    for p in plays
        .iter()
        .filter(|p| p.scheduled_at >= start && p.scheduled_at < end)
    {
        if p.heard == Some(true) {
            r.verified += 1;
        }
        relayed += p.relayed_s.unwrap_or_default();
        relay_lost += p.lost_s.unwrap_or_default();
        if p.trigger == crate::plan::Trigger::Manual {
            r.manual += 1;
        } else {
            match p.status {
                Status::Played => r.played += 1,
                Status::Partial => r.partial += 1,
                Status::Failed => r.failed += 1,
                Status::Missed => r.missed += 1,
                Status::Skipped => r.skipped += 1,
                Status::Interrupted => r.interrupted += 1,
                Status::Playing => {}
            }
        }
        if let (Some(a), Some(b)) = (
            p.started_at,
            p.ended_at.or((p.status == Status::Playing).then_some(now)),
        ) {
            air += covered(vec![(a, b)], start, end);
        }
    }
    r.minutes_on_air = round2(air.num_milliseconds() as f64 / 60_000.0);
    r.relay_minutes = round2(relayed / 60.0);
    r.relay_lost_minutes = round2(relay_lost / 60.0);
    let hi = end.min(now);
    let mut all = Vec::new();
    for k in OutageKind::ALL.into_iter().filter(|k| k.is_fault()) {
        let spans: Vec<_> = outages
            .iter()
            .filter(|o| o.kind == k)
            .map(|o| (o.started_at, o.ended_at.unwrap_or(now)))
            .collect();
        all.extend(spans.iter().cloned());
        let m = covered(spans, start, hi.max(start));
        if m > TimeDelta::zero() {
            r.fault_minutes.insert(
                k.as_str().to_string(),
                round2(m.num_milliseconds() as f64 / 60_000.0),
            );
        }
    }
    if now > start {
        let span = (hi - start).num_milliseconds() as f64;
        let down = covered(all, start, hi).num_milliseconds() as f64;
        r.availability = Some(if span > 0.0 {
            round4(1.0 - down / span)
        } else {
            1.0
        });
    }
    r
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: i64, m: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 - 1_800_000_000 % 86_400, 0).unwrap()
            + TimeDelta::hours(h)
            + TimeDelta::minutes(m)
    }

    #[test]
    fn union_of_spans() {
        let c = covered(
            vec![(t(1, 0), t(2, 0)), (t(1, 30), t(3, 0)), (t(5, 0), t(6, 0))],
            t(0, 0),
            t(24, 0),
        );
        assert_eq!(c, TimeDelta::hours(3));
        assert_eq!(
            covered(vec![(t(23, 0), t(26, 0))], t(0, 0), t(24, 0)),
            TimeDelta::hours(1)
        );
        assert_eq!(covered(vec![], t(0, 0), t(24, 0)), TimeDelta::zero());
    }

    fn outage(kind: OutageKind, a: DateTime<Utc>, b: Option<DateTime<Utc>>) -> OutageRow {
        OutageRow {
            id: 1,
            kind,
            subject: String::new(),
            started_at: a,
            ended_at: b,
            detail: None,
            lost: 0,
        }
    }

    #[test]
    fn availability_counts_faults_not_stops() {
        let o = vec![
            outage(OutageKind::Power, t(1, 0), Some(t(3, 0))),
            outage(OutageKind::Output, t(2, 0), Some(t(4, 0))),
            outage(OutageKind::Stopped, t(10, 0), Some(t(12, 0))),
        ];
        let r = day_report(
            t(0, 0).date_naive(),
            t(0, 0),
            t(24, 0),
            t(30, 0),
            0,
            &[],
            &o,
        );
        assert_eq!(r.fault_minutes.get("power"), Some(&120.0));
        assert_eq!(r.fault_minutes.get("output"), Some(&120.0));
        assert!(!r.fault_minutes.contains_key("stopped"));
        // 3 hours of 24 down (the overlap counted once).
        assert_eq!(r.availability, Some(round4(1.0 - 3.0 / 24.0)));
        // Today, 6 hours in, an output outage open for the last hour.
        let o = vec![outage(OutageKind::Output, t(5, 0), None)];
        let r = day_report(t(0, 0).date_naive(), t(0, 0), t(24, 0), t(6, 0), 0, &[], &o);
        assert_eq!(r.availability, Some(round4(5.0 / 6.0)));
        // Tomorrow: no availability yet.
        let r = day_report(
            t(0, 0).date_naive(),
            t(24, 0),
            t(48, 0),
            t(6, 0),
            0,
            &[],
            &o,
        );
        assert_eq!(r.availability, None);
    }
}
