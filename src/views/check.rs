//! `cunxiang check`: everything that can be known before air time — the
//! station file, every schedule, every audio file they name — plus the
//! warnings a careful operator wants (collisions, quiet hours, finished date
//! ranges, daily files not uploaded yet) and a short summary. It reads
//! the files and probes the audio; it must not read the store nor print
//! (`cli::check` renders).

use crate::config::diag::{self, Diagnostic};
use crate::config::load::Station;
use crate::config::schedule::{Broadcast, Priority, Times};
use crate::i18n::show_duration;
use crate::i18n::{Lang, Msg};
use crate::plan::day_start;
use crate::plan::{self, Firing, Rules, Skip};
use crate::sound::media::{self, MediaError, MediaInfo};
use crate::sound::speech;
use chrono::{DateTime, Duration as TimeDelta, NaiveDate, Utc};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

/// How many days ahead `check` looks for collisions and missing daily files.
pub const LOOKAHEAD_DAYS: i64 = 7;

/// What probing the station's audio files found, by path relative to the
/// audio folder.
#[derive(Debug, Default, Clone)]
pub struct MediaTable {
    pub files: BTreeMap<String, Result<MediaInfo, MediaError>>,
    /// Decode every file to the end (`check --deep`).
    pub deep: bool,
}

impl MediaTable {
    /// Probes (once) a file relative to the audio folder.
    pub fn probe(&mut self, station: &Station, rel: &str) -> &Result<MediaInfo, MediaError> {
        let audio = station.audio_dir();
        let deep = self.deep;
        self.files.entry(rel.to_string()).or_insert_with(|| {
            let p = media::resolve_under(&audio, rel)?;
            let info = media::probe(&p)?;
            if deep {
                media::decode_all(&p)?;
            }
            Ok(info)
        })
    }

    /// The length of a file probed before, if it plays.
    pub fn length(&self, rel: &str) -> Option<Duration> {
        self.files
            .get(rel)
            .and_then(|r| r.as_ref().ok())
            .map(|i| i.duration)
    }
}

/// One day's totals in the summary.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DayTotal {
    pub date: NaiveDate,
    pub firings: usize,
    pub skipped: usize,
    #[serde(rename = "air_time_s")]
    pub air_secs: u64,
}

/// The outcome of a check.
#[derive(Debug)]
pub struct Report {
    pub station_name: String,
    pub timezone: String,
    pub files: usize,
    pub invalid_files: usize,
    pub broadcasts: usize,
    pub enabled: usize,
    pub audio_files: usize,
    pub audio_ok: usize,
    pub days: Vec<DayTotal>,
    /// Every file probed (static ones and the next days' dated ones).
    pub media: MediaTable,
    pub diagnostics: Vec<Diagnostic>,
}

impl Report {
    pub fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    pub fn warnings(&self) -> usize {
        self.diagnostics.len() - self.errors()
    }
}

/// Checks the station as of `now`.
pub fn check(station: &Station, now: DateTime<Utc>) -> Report {
    check_with(station, now, false)
}

/// Checks the station as of `now`; `deep` decodes every file to the end.
pub fn check_with(station: &Station, now: DateTime<Utc>, deep: bool) -> Report {
    let rules = Rules::from_config(&station.config);
    let today = now.with_timezone(&rules.tz).date_naive();
    let mut diags = station.diagnostics();
    let mut media = MediaTable {
        deep,
        ..Default::default()
    };
    let all: Vec<&Broadcast> = station.all_broadcasts().collect();
    diags.extend(static_files(station, &all, &mut media));
    diags.extend(notices(station, &all));
    let on_air = station.broadcasts();
    let by_name: HashMap<&str, &Broadcast> = on_air.iter().map(|b| (b.name.as_str(), b)).collect();
    diags.extend(range_and_quiet(station, &on_air, today));
    // The next days: daily files, cron firings in quiet hours, collisions.
    let from = day_start(&rules, today);
    let to = day_start(&rules, today + TimeDelta::days(LOOKAHEAD_DAYS));
    let plan = plan::firings(&on_air, &rules, from, to);
    diags.extend(lookahead(station, &rules, &by_name, &plan, &mut media));
    let durations: Vec<Option<Duration>> = plan.iter().map(|f| expected(f, &media)).collect();
    diags.extend(collisions(&rules, &by_name, &plan, &durations));
    let days = day_totals(&plan, &durations, today);
    diag::sort(&mut diags);
    let static_files: HashSet<String> = all
        .iter()
        .flat_map(|b| b.audio_paths())
        .filter(|(p, _, _)| !p.is_dated())
        .map(|(p, _, _)| p.template().to_string())
        .collect();
    Report {
        station_name: station.config.name.clone(),
        timezone: station.config.timezone.name().to_string(),
        files: station.files.len(),
        invalid_files: station.files.iter().filter(|f| !f.is_valid()).count(),
        broadcasts: all.len(),
        enabled: all.iter().filter(|b| b.enabled).count(),
        audio_files: static_files.len(),
        audio_ok: static_files
            .iter()
            .filter(|f| media.length(f).is_some())
            .count(),
        days,
        media,
        diagnostics: diags,
    }
}

/// A warning about broadcast `b`, at its line.
fn warning(b: &Broadcast, msg: Msg) -> Diagnostic {
    Diagnostic::warning(Some(b.file.clone()), msg)
        .at(Some((b.line, 1)))
        .in_broadcast(Some(&b.name))
}

/// Every static file named by any parsed broadcast, valid file or not,
/// that cannot be played: an error each (once per file and schedule).
fn static_files(station: &Station, all: &[&Broadcast], media: &mut MediaTable) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let mut reported: HashSet<(String, String)> = HashSet::new();
    for b in all {
        for (path, line, key) in b.audio_paths() {
            if path.is_dated() {
                continue;
            }
            let rel = path.template().to_string();
            if let Err(e) = media.probe(station, &rel) {
                if reported.insert((b.file.clone(), rel.clone())) {
                    let mut d = Diagnostic::error(
                        Some(b.file.clone()),
                        e.to_msg(&format!("{}/{}", station.config.audio_dir.display(), rel)),
                    )
                    .at(Some((line, 1)))
                    .in_broadcast(Some(&b.name));
                    d.key = Some(key.to_string());
                    diags.push(d);
                }
            }
        }
    }
    diags
}

/// Typed notices need the speech engine and its voice: when either is
/// missing, an error at each entry that reads a notice aloud.
fn notices(station: &Station, all: &[&Broadcast]) -> Vec<Diagnostic> {
    let says: Vec<&&Broadcast> = all.iter().filter(|b| b.say.is_some()).collect();
    if says.is_empty() {
        return Vec::new();
    }
    let voice = speech::station_voice(&station.config.speech);
    let Err(e) = speech::engine_ready(&voice) else {
        return Vec::new();
    };
    let msg = e.to_msg();
    says.iter()
        .map(|b| {
            let mut d = Diagnostic::error(Some(b.file.clone()), msg.clone())
                .at(Some((b.line, 1)))
                .in_broadcast(Some(&b.name));
            d.key = Some("say".to_string());
            d
        })
        .collect()
}

/// Finished date ranges and fixed times inside quiet hours.
fn range_and_quiet(station: &Station, on_air: &[Broadcast], today: NaiveDate) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    for b in on_air {
        if let Some(u) = b.until.filter(|u| *u < today) {
            diags.push(warning(
                b,
                Msg::WarnRangeOver {
                    name: b.name.clone(),
                    until: u.to_string(),
                },
            ));
        }
        if let (Times::At(times), Some(q), true) = (
            &b.times,
            station.config.quiet_hours,
            b.priority != Priority::Emergency,
        ) {
            for t in times.iter().filter(|t| q.contains(**t)) {
                diags.push(warning(
                    b,
                    Msg::WarnQuietHours {
                        name: b.name.clone(),
                        time: t.format("%H:%M:%S").to_string(),
                        quiet: q.to_string(),
                    },
                ));
            }
        }
    }
    diags
}

/// The firings of the next days: cron firings in quiet hours (once per
/// broadcast) and daily files not uploaded yet (the days, per file).
fn lookahead(
    station: &Station,
    rules: &Rules,
    by_name: &HashMap<&str, &Broadcast>,
    plan: &[Firing],
    media: &mut MediaTable,
) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let mut quiet_warned: HashSet<&str> = HashSet::new();
    // Per broadcast and template: the days whose file is missing.
    let mut dated_missing: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for f in plan {
        let Some(b) = by_name.get(f.broadcast.as_str()) else {
            continue;
        };
        if f.skip == Some(Skip::QuietHours)
            && matches!(b.times, Times::Cron { .. })
            && quiet_warned.insert(&b.name)
        {
            let local = f.scheduled_at.with_timezone(&rules.tz);
            let q = station
                .config
                .quiet_hours
                .map(|q| q.to_string())
                .unwrap_or_default();
            diags.push(warning(
                b,
                Msg::WarnQuietHours {
                    name: b.name.clone(),
                    time: local.format("%Y-%m-%d %H:%M:%S").to_string(),
                    quiet: q,
                },
            ));
        }
        if f.skip.is_some() {
            continue;
        }
        for (p, _, _) in b.audio_paths().filter(|(p, _, _)| p.is_dated()) {
            let rel = p.resolve(f.local_date);
            if media.probe(station, &rel).is_err() {
                let days = dated_missing
                    .entry((b.name.clone(), p.template().to_string()))
                    .or_default();
                let day = f.local_date.to_string();
                if !days.contains(&day) {
                    days.push(day);
                }
            }
        }
    }
    for ((name, template), dates) in dated_missing {
        if let Some(b) = by_name.get(name.as_str()) {
            diags.push(warning(
                b,
                Msg::WarnDateFileMissing {
                    name,
                    dates,
                    path: format!("{}/{}", station.config.audio_dir.display(), template),
                },
            ));
        }
    }
    diags
}

/// Firings a longer play before them makes miss (once per pair).
fn collisions(
    rules: &Rules,
    by_name: &HashMap<&str, &Broadcast>,
    plan: &[Firing],
    durations: &[Option<Duration>],
) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let outcomes = plan::simulate(plan, durations);
    let mut collision_warned: HashSet<(String, String)> = HashSet::new();
    let show = |t: DateTime<Utc>| {
        t.with_timezone(&rules.tz)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    };
    for (i, o) in outcomes.iter().enumerate() {
        let Some(blocker) = &o.missed_because else {
            continue;
        };
        let blocker = blocker.index;
        let f = &plan[i];
        let bf = &plan[blocker];
        let Some(b) = by_name.get(f.broadcast.as_str()) else {
            continue;
        };
        if !collision_warned.insert((f.broadcast.clone(), bf.broadcast.clone())) {
            continue;
        }
        let end = bf.scheduled_at
            + TimeDelta::from_std(durations[blocker].unwrap_or_default()).unwrap_or_default();
        diags.push(warning(
            b,
            Msg::WarnCollisionMissed {
                name: f.broadcast.clone(),
                at: show(f.scheduled_at),
                blocker: bf.broadcast.clone(),
                start: show(end),
                catch_up: show_duration(f.catch_up),
            },
        ));
    }
    diags
}

/// Summary figures: firings, skipped and air time per day.
fn day_totals(plan: &[Firing], durations: &[Option<Duration>], today: NaiveDate) -> Vec<DayTotal> {
    (0..LOOKAHEAD_DAYS)
        .map(|n| {
            let d = today + TimeDelta::days(n);
            let (mut firings, mut skipped, mut air) = (0, 0, Duration::ZERO);
            for (f, dur) in plan
                .iter()
                .zip(durations)
                .filter(|(f, _)| f.local_date == d)
            {
                if f.skip.is_some() {
                    skipped += 1;
                } else {
                    firings += 1;
                    air += dur.unwrap_or_default();
                }
            }
            DayTotal {
                date: d,
                firings,
                skipped,
                air_secs: air.as_secs(),
            }
        })
        .collect()
}

/// Expected air time of a firing from probed lengths.
pub fn expected(f: &Firing, media: &MediaTable) -> Option<Duration> {
    f.expected_duration(&|rel| media.length(rel))
}

/// `check`'s text output.
pub fn render(report: &Report, lang: Lang) -> String {
    let mut s = String::new();
    let l = |zh: &str, en: &str| lang.pick(zh, en).to_string();
    s.push_str(&format!(
        "{} · {} ({})\n",
        l("村响 检查", "cunxiang check"),
        report.station_name,
        report.timezone
    ));
    s.push_str(&match lang {
        Lang::Zh => format!(
            "节目单文件 {} 个（{} 个有错误、未生效）；节目 {} 个（{} 个启用）；音频文件 {} 个（{} 个可播放）\n",
            report.files, report.invalid_files, report.broadcasts, report.enabled, report.audio_files, report.audio_ok
        ),
        Lang::En => format!(
            "{} schedule files ({} with errors, not on air); {} broadcasts ({} enabled); {} audio files ({} playable)\n",
            report.files, report.invalid_files, report.broadcasts, report.enabled, report.audio_files, report.audio_ok
        ),
    });
    s.push_str(&playable_table(report, lang));
    s.push_str(&l(
        "未来 7 天每日播出：\n",
        "Air time per day, next 7 days:\n",
    ));
    let mut table = crate::views::text::table();
    table.set_header(vec![
        l("日期", "date"),
        l("播出次数", "firings"),
        l("不播（静音/节假日）", "skipped"),
        l("播出时长", "air time"),
    ]);
    for d in &report.days {
        table.add_row(vec![
            crate::views::text::date_with_weekday(d.date, lang),
            d.firings.to_string(),
            d.skipped.to_string(),
            show_duration(Duration::from_secs(d.air_secs)),
        ]);
    }
    s.push_str(&table.to_string());
    s.push('\n');
    if !report.diagnostics.is_empty() {
        s.push('\n');
        for d in &report.diagnostics {
            s.push_str(&d.render(lang));
            s.push('\n');
        }
    }
    s.push('\n');
    s.push_str(&match (lang, report.errors(), report.warnings()) {
        (Lang::Zh, 0, 0) => "结果：没有发现问题。\n".to_string(),
        (Lang::Zh, 0, w) => format!("结果：没有错误，{w} 个警告。\n"),
        (Lang::Zh, e, w) => format!("结果：{e} 个错误，{w} 个警告。有错误的节目单文件不会生效，请按提示改正后再运行 cunxiang check。\n"),
        (Lang::En, 0, 0) => "Result: no problems found.\n".to_string(),
        (Lang::En, 0, w) => format!("Result: no errors, {w} warnings.\n"),
        (Lang::En, e, w) => format!("Result: {e} errors, {w} warnings. Schedule files with errors do not go on air; fix them and run cunxiang check again.\n"),
    });
    s
}

/// The playable audio files with format, length, rate and channels.
fn playable_table(report: &Report, lang: Lang) -> String {
    let mut s = String::new();
    let l = |zh: &str, en: &str| lang.pick(zh, en).to_string();
    let playable: Vec<(&String, &MediaInfo)> = report
        .media
        .files
        .iter()
        .filter_map(|(k, v)| v.as_ref().ok().map(|i| (k, i)))
        .collect();
    if !playable.is_empty() {
        s.push_str(&l("可播放的音频文件：\n", "Playable audio files:\n"));
        let mut t = crate::views::text::table();
        t.set_header(vec![
            l("文件", "file"),
            l("格式", "format"),
            l("时长", "length"),
            l("采样率", "rate"),
            l("声道", "channels"),
        ]);
        for (name, info) in playable {
            t.add_row(vec![
                name.clone(),
                info.codec.clone(),
                format!("{:.1}s", info.duration.as_secs_f64()),
                format!("{} Hz", info.sample_rate),
                info.channels.to_string(),
            ]);
        }
        s.push_str(&t.to_string());
        s.push('\n');
    }
    s
}

/// `check --format json`.
pub fn to_json(report: &Report, lang: Lang) -> serde_json::Value {
    serde_json::json!({
        "station": report.station_name,
        "timezone": report.timezone,
        "schedule_files": report.files,
        "invalid_schedule_files": report.invalid_files,
        "broadcasts": report.broadcasts,
        "enabled": report.enabled,
        "audio_files": report.audio_files,
        "audio_playable": report.audio_ok,
        "days": report.days,
        "audio": report.media.files.iter().map(|(k, v)| match v {
            Ok(i) => serde_json::json!({"file": k, "ok": true, "codec": i.codec, "duration_s": i.duration.as_secs_f64(), "sample_rate": i.sample_rate, "channels": i.channels}),
            Err(e) => serde_json::json!({"file": k, "ok": false, "problem": e.to_string()}),
        }).collect::<Vec<_>>(),
        "errors": report.errors(),
        "warnings": report.warnings(),
        "diagnostics": report.diagnostics.iter().map(|d| d.to_json(lang)).collect::<Vec<_>>(),
    })
}
