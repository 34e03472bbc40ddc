//! The real binary: `check` and `plan` exit codes, text and JSON.

mod common;

use common::{cunxiang, sample_station, TempStation};
use std::collections::BTreeSet;

#[test]
fn check_sample_station_is_clean() {
    let out = cunxiang()
        .args(["--lang", "en", "check"])
        .current_dir(sample_station())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(!stdout.contains("error:"), "{stdout}");
    assert!(stdout.contains("0 with errors"), "{stdout}");
    // Every audio file the sample names decodes.
    let json = cunxiang()
        .args(["--station"])
        .arg(sample_station())
        .args(["check", "--format", "json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["errors"], 0);
    assert!(v["audio_files"].as_u64().unwrap() >= 5);
    assert_eq!(v["audio_files"], v["audio_playable"]);
}

#[test]
fn check_reports_unknown_key_on_line_7_and_exits_2() {
    let st = TempStation::new();
    st.wav("信.wav", 1.0);
    st.schedule(
        "宣传.toml",
        "# 宣传\n\n[[broadcast]]\nname = \"一封信\"\nplay = [\"信.wav\"]\nat = [\"07:30\"]\nrepaet = 3\n",
    );
    let out = cunxiang()
        .arg("--station")
        .arg(st.path())
        .arg("check")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(stdout.contains("schedules/宣传.toml:7:"), "{stdout}");
    assert!(stdout.contains("repaet"), "{stdout}");
    assert!(
        stdout.contains("repeat"),
        "suggests the right key: {stdout}"
    );
    assert!(stdout.contains("错误"), "Chinese by default: {stdout}");

    let en = cunxiang()
        .arg("--station")
        .arg(st.path())
        .arg("check")
        .env("LANG", "en_US.UTF-8")
        .output()
        .unwrap();
    let en = String::from_utf8_lossy(&en.stdout);
    assert!(
        en.contains(
            "schedules/宣传.toml:7:1: error: [一封信] unknown key `repaet`; did you mean `repeat`?"
        ),
        "{en}"
    );
}

#[test]
fn check_exit_codes_for_broken_stations() {
    // Broken station file.
    let st = TempStation::new();
    st.write("cunxiang.toml", "timezone = \"Mars/Olympus\"\n");
    let out = cunxiang()
        .arg("--station")
        .arg(st.path())
        .arg("check")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).contains("cunxiang.toml:1:"));

    // Missing audio file.
    let st = TempStation::new();
    st.schedule(
        "a.toml",
        "[[broadcast]]\nname = \"a\"\nplay = [\"无.mp3\"]\nat = [\"07:30\"]\n",
    );
    let out = cunxiang()
        .arg("--station")
        .arg(st.path())
        .arg("check")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).contains("schedules/a.toml:3:1"));

    // No audio folder at all, through the environment variable.
    let dir = tempfile::tempdir().unwrap();
    let out = cunxiang()
        .env("CUNXIANG_STATION", dir.path())
        .args(["--lang", "en", "check"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).contains("the folder `audio`"));

    // Warnings only: exit 0.
    let st = TempStation::new();
    st.wav("a.wav", 1.0);
    st.write("cunxiang.toml", "quiet_hours = \"22:00-06:00\"\n");
    st.schedule(
        "a.toml",
        "[[broadcast]]\nname = \"夜里\"\nplay = [\"a.wav\"]\nat = [\"23:00\"]\n",
    );
    let out = cunxiang()
        .arg("--station")
        .arg(st.path())
        .args(["--lang", "en", "check"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("warning: [夜里]") && stdout.contains("quiet hours"),
        "{stdout}"
    );

    // Usage error: exit 2.
    let out = cunxiang().args(["plan", "--days", "0"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn check_warns_of_collisions_and_finished_ranges() {
    let st = TempStation::new();
    st.wav("long.wav", 120.0);
    st.wav("short.wav", 1.0);
    st.schedule(
        "a.toml",
        "[[broadcast]]\nname = \"长节目\"\nplay = [\"long.wav\"]\nat = [\"07:00\"]\n\n[[broadcast]]\nname = \"短节目\"\nplay = [\"short.wav\"]\nat = [\"07:01\"]\ncatch_up = \"30s\"\n\n[[broadcast]]\nname = \"旧活动\"\nplay = [\"short.wav\"]\nat = [\"09:00\"]\nuntil = 2020-01-01\n",
    );
    let out = cunxiang()
        .arg("--station")
        .arg(st.path())
        .args(["--lang", "en", "check"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("schedules/a.toml:6:1: warning: [短节目] `短节目`"),
        "{stdout}"
    );
    assert!(stdout.contains("collides with `长节目`"), "{stdout}");
    assert!(
        stdout.contains("[旧活动] `旧活动` ended on 2020-01-01"),
        "{stdout}"
    );
}

/// Local date-times of the sample station's firings from 2026-11-30 (Mon)
/// for 7 days, worked out by hand from `schedules/*.toml`.
fn sample_week_by_hand() -> BTreeSet<(String, String)> {
    let mut want = BTreeSet::new();
    let days = [
        "2026-11-30",
        "2026-12-01",
        "2026-12-02",
        "2026-12-03",
        "2026-12-04",
        "2026-12-05",
        "2026-12-06",
    ];
    for (i, d) in days.iter().enumerate() {
        let weekday = i < 5; // 11-30 is a Monday
        if *d >= "2026-12-01" {
            for t in ["07:30", "12:00", "18:30"] {
                want.insert((
                    "致广大市民朋友的一封信".to_string(),
                    format!("{d}T{t}:00+08:00"),
                ));
            }
        }
        if weekday {
            want.insert(("移风易俗倡议书".to_string(), format!("{d}T07:40:00+08:00")));
        } else {
            for t in ["09:00", "16:00"] {
                want.insert(("周末轻音乐".to_string(), format!("{d}T{t}:00+08:00")));
            }
        }
        want.insert(("傍晚防火提示".to_string(), format!("{d}T19:00:00+08:00")));
        if *d <= "2026-12-05" {
            for t in ["08:00", "17:30"] {
                want.insert(("每日公告".to_string(), format!("{d}T{t}:00+08:00")));
            }
        }
    }
    want
}

#[test]
fn plan_json_lists_exactly_the_sample_firings() {
    let out = cunxiang()
        .current_dir(sample_station())
        .args([
            "plan",
            "--from",
            "2026-11-30",
            "--days",
            "7",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let got: Vec<(String, String)> = v
        .iter()
        .map(|f| {
            (
                f["broadcast"].as_str().unwrap().to_string(),
                f["scheduled_at"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want = sample_week_by_hand();
    assert_eq!(got.len(), want.len(), "no duplicates, nothing extra");
    assert_eq!(got.iter().cloned().collect::<BTreeSet<_>>(), want);
    assert_eq!(v.len(), 46);
    // In time order.
    let mut sorted = got.clone();
    sorted.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(
        got.iter().map(|x| &x.1).collect::<Vec<_>>(),
        sorted.iter().map(|x| &x.1).collect::<Vec<_>>()
    );
    for f in &v {
        assert!(f["files"].is_array() && f["priority"].is_string());
        let ends = f["ends_at"]
            .as_str()
            .expect("every sample file has a length");
        assert!(
            ends.ends_with("+08:00") && ends > f["scheduled_at"].as_str().unwrap(),
            "{f}"
        );
        assert!(
            f["collision"].is_null(),
            "the sample has no collisions: {f}"
        );
    }
    // {date} resolved per day; repeat and chime carried.
    let bulletin = v
        .iter()
        .find(|f| f["broadcast"] == "每日公告" && f["date"] == "2026-12-03")
        .unwrap();
    assert_eq!(
        bulletin["files"],
        serde_json::json!(["公告/2026-12-03.mp3"])
    );
    let letter = v
        .iter()
        .find(|f| f["broadcast"] == "致广大市民朋友的一封信")
        .unwrap();
    assert_eq!(letter["repeat"], 3);
    assert_eq!(letter["chime"], "builtin");
    assert_eq!(letter["priority"], "normal");
    let proposal = v
        .iter()
        .find(|f| f["broadcast"] == "移风易俗倡议书")
        .unwrap();
    assert_eq!(proposal["priority"], "important");
    assert_eq!(proposal["chime"], "提示音.mp3");
}

#[test]
fn plan_table_shows_days_and_totals() {
    let out = cunxiang()
        .current_dir(sample_station())
        .args([
            "--lang",
            "zh",
            "plan",
            "--from",
            "2026-12-05",
            "--days",
            "2",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout.contains("2026-12-05 09:00:00 +08:00"), "{stdout}");
    assert!(stdout.contains("2026-12-05 周六"), "{stdout}");
    assert!(stdout.contains("当日合计 8 次"), "{stdout}");
    assert!(stdout.contains("当日合计 6 次"), "{stdout}");
    assert!(stdout.contains("循环 3 次"), "{stdout}");
}

#[test]
fn plan_marks_collisions_and_keeps_good_files_when_one_is_broken() {
    let st = TempStation::new();
    st.wav("long.wav", 60.0);
    st.wav("short.wav", 2.0);
    st.schedule(
        "a.toml",
        "[[broadcast]]\nname = \"长\"\nplay = [\"long.wav\"]\nat = [\"07:00\"]\n\n[[broadcast]]\nname = \"急\"\nplay = [\"short.wav\"]\nat = [\"07:00:30\"]\npriority = \"emergency\"\n",
    );
    st.schedule(
        "b.toml",
        "[[broadcast]]\nname = \"坏\"\nplay = [\"short.wav\"]\nat = [\"08:00\"]\nvolume = 3\n",
    );
    let out = cunxiang()
        .arg("--station")
        .arg(st.path())
        .args(["plan", "--from", "2026-12-01", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "a broken file is a config error"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("schedules/b.toml:5:"), "{stderr}");
    let v: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = v.iter().map(|f| f["broadcast"].as_str().unwrap()).collect();
    assert_eq!(names, ["长", "急"]);
    assert_eq!(v[0]["collision"]["interrupted_by"], "急");
    assert_eq!(v[1]["collision"]["interrupts"], "长");
    assert_eq!(v[0]["ends_at"], "2026-12-01T07:01:00+08:00");
}

#[test]
fn cron_weekdays_through_the_binary() {
    let st = TempStation::new();
    st.wav("a.wav", 1.0);
    st.schedule(
        "a.toml",
        "[[broadcast]]\nname = \"早\"\nplay = [\"a.wav\"]\ncron = \"30 7 * * 1-5\"\n",
    );
    let out = cunxiang()
        .arg("--station")
        .arg(st.path())
        .args([
            "plan",
            "--from",
            "2026-11-28",
            "--days",
            "14",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let v: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let dates: Vec<&str> = v.iter().map(|f| f["date"].as_str().unwrap()).collect();
    // 2026-11-28 is a Saturday: two full work weeks, no weekend.
    assert_eq!(
        dates,
        [
            "2026-11-30",
            "2026-12-01",
            "2026-12-02",
            "2026-12-03",
            "2026-12-04",
            "2026-12-07",
            "2026-12-08",
            "2026-12-09",
            "2026-12-10",
            "2026-12-11"
        ]
    );
    assert!(v.iter().all(|f| f["scheduled_at"]
        .as_str()
        .unwrap()
        .contains("T07:30:00+08:00")));
}

#[test]
fn check_deep_finds_a_truncated_file_the_header_probe_misses() {
    let st = TempStation::new();
    let full = std::fs::read(sample_station().join("audio/一封信.mp3")).unwrap();
    st.write("audio/截断.mp3", &full[..full.len() / 3]);
    st.schedule(
        "a.toml",
        "[[broadcast]]\nname = \"截断\"\nplay = [\"截断.mp3\"]\nat = [\"07:00\"]\n",
    );
    let quick = cunxiang()
        .arg("--station")
        .arg(st.path())
        .args(["--lang", "en", "check"])
        .output()
        .unwrap();
    assert_eq!(quick.status.code(), Some(0), "the header looks fine");
    let deep = cunxiang()
        .arg("--station")
        .arg(st.path())
        .args(["--lang", "en", "check", "--deep"])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&deep.stdout);
    assert_eq!(deep.status.code(), Some(2), "{out}");
    assert!(
        out.contains("schedules/a.toml:3:1: error: [截断]") && out.contains("truncated"),
        "{out}"
    );
}

#[test]
fn log_formats() {
    let st = TempStation::new();
    // No database yet: an empty JSON array and a hint, not a crash.
    let out = cunxiang()
        .arg("--station")
        .arg(st.path())
        .args(["log", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "[]");
    let s = cunxiang::store::Store::open(&st.path().join("var")).unwrap();
    let t = chrono::Utc::now() - chrono::Duration::hours(1);
    s.insert_play(&cunxiang::store::NewPlay {
        broadcast: "一封信",
        scheduled_at: t,
        started_at: None,
        ended_at: None,
        status: cunxiang::store::Status::Missed,
        reason: Some("busy: 紧急通知"),
        trigger: cunxiang::store::Trigger::Schedule,
        priority: "normal",
        files: &["一封信.mp3".into()],
    })
    .unwrap();
    let csv = cunxiang()
        .arg("--station")
        .arg(st.path())
        .args(["log", "--format", "csv"])
        .output()
        .unwrap();
    let bytes = csv.stdout;
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "BOM for Excel/WPS");
    let text = String::from_utf8_lossy(&bytes[3..]).to_string();
    assert!(text.starts_with("编号,节目,计划时间"), "{text}");
    assert!(
        text.contains("漏播") && text.contains("一直在播「紧急通知」"),
        "{text}"
    );
    let table = cunxiang()
        .arg("--station")
        .arg(st.path())
        .args(["--lang", "en", "log", "--status", "missed"])
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(
        table.contains("missed") && table.contains("1 rows"),
        "{table}"
    );
    let none = cunxiang()
        .arg("--station")
        .arg(st.path())
        .args(["--lang", "en", "log", "--status", "played"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&none.stdout).contains("0 rows"));
    let bad = cunxiang()
        .arg("--station")
        .arg(st.path())
        .args(["log", "--since", "yesterday-ish"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn report_csv_and_status_exit_codes_from_a_ledger() {
    use cunxiang::store::{OutageKind, Status, Store, Trigger};
    let st = TempStation::new();
    st.wav("a.wav", 1.0);
    st.schedule("a.toml", "[[broadcast]]\nname = \"信\"\nplay = [\"a.wav\"]\nat = [\"07:30\", \"12:00\", \"18:30\"]\n");
    let s = Store::open(&st.path().join("var")).unwrap();
    let day = |h: u32, m: u32| common::sh(&format!("2026-11-01 {h:02}:{m:02}:00"));
    // 11-01 (a past day): 07:30 played, 12:00 missed in a 2-hour power cut, 18:30 failed (card).
    s.insert_play(&cunxiang::store::NewPlay {
        broadcast: "信",
        scheduled_at: day(7, 30),
        started_at: Some(day(7, 30)),
        ended_at: Some(day(7, 31)),
        status: Status::Played,
        reason: None,
        trigger: Trigger::Schedule,
        priority: "normal",
        files: &[],
    })
    .unwrap();
    let p = s
        .closed_outage(
            OutageKind::Power,
            "",
            day(11, 0),
            day(13, 0),
            "no clean stop",
        )
        .unwrap();
    let m = s
        .insert_play(&cunxiang::store::NewPlay {
            broadcast: "信",
            scheduled_at: day(12, 0),
            started_at: None,
            ended_at: None,
            status: Status::Missed,
            reason: Some("not_running"),
            trigger: Trigger::CatchUp,
            priority: "normal",
            files: &[],
        })
        .unwrap()
        .unwrap();
    s.link_outage(m, p).unwrap();
    s.insert_play(&cunxiang::store::NewPlay {
        broadcast: "信",
        scheduled_at: day(18, 30),
        started_at: Some(day(18, 30)),
        ended_at: Some(day(18, 30)),
        status: Status::Failed,
        reason: Some("device: x"),
        trigger: Trigger::Schedule,
        priority: "normal",
        files: &[],
    })
    .unwrap();
    s.open_outage(OutageKind::Output, "rodio:default", day(18, 30), "no card")
        .unwrap();
    s.set_meta("last_heartbeat", &cunxiang::store::ts(chrono::Utc::now()))
        .unwrap();

    let out = cunxiang()
        .arg("--station")
        .arg(st.path())
        .args([
            "report",
            "--from",
            "2026-11-01",
            "--days",
            "2",
            "--format",
            "csv",
        ])
        .output()
        .unwrap();
    assert!(out.stdout.starts_with(b"\xEF\xBB\xBF"));
    let text = String::from_utf8_lossy(&out.stdout[3..]).to_string();
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let headers: Vec<String> = rdr.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(
        &headers[..7],
        ["日期", "计划", "已播出", "未播完", "失败", "漏播", "不播"]
    );
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 2, "one row per day");
    let r = &rows[0];
    let n = |i: usize| r[i].parse::<usize>().unwrap();
    assert_eq!(&r[0], "2026-11-01");
    assert_eq!(n(1), 3, "planned");
    assert_eq!(
        n(2) + n(3) + n(4) + n(5) + n(6) + n(7),
        n(1),
        "played+partial+failed+missed+skipped+interrupted = planned"
    );
    assert_eq!((n(2), n(4), n(5)), (1, 1, 1));
    let col = |h: &str| headers.iter().position(|x| x == h).unwrap();
    assert_eq!(&r[col("断电分钟")], "120", "power minutes");
    assert_eq!(
        &r[col("声卡故障分钟")],
        "330",
        "output minutes: 18:30 to midnight"
    );
    assert_eq!(&r[col("确认播出")], "0", "no monitor, nothing verified");
    // Down 2 h + 5.5 h of 24.
    assert_eq!(&r[col("可用率")], "68.75%");
    let en = cunxiang()
        .arg("--station")
        .arg(st.path())
        .args([
            "--lang",
            "en",
            "report",
            "--from",
            "2026-11-01",
            "--days",
            "1",
            "--format",
            "csv",
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&en.stdout[3..]).starts_with("date,planned,played"));

    // An output outage is open: status says so and exits 1.
    let out = cunxiang()
        .arg("--station")
        .arg(st.path())
        .args(["--lang", "en", "status"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("Repair list:") && text.contains("check the sound card"),
        "{text}"
    );
    let repair = cunxiang()
        .arg("--station")
        .arg(st.path())
        .args(["outages", "--open", "--format", "json"])
        .output()
        .unwrap();
    let v: Vec<serde_json::Value> = serde_json::from_slice(&repair.stdout).unwrap();
    assert_eq!(v.len(), 1);
    assert_eq!(v[0]["kind"], "output");
    let all = cunxiang()
        .arg("--station")
        .arg(st.path())
        .args(["outages", "--format", "gdj"])
        .output()
        .unwrap();
    let v: Vec<serde_json::Value> = serde_json::from_slice(&all.stdout).unwrap();
    let states: Vec<u64> = v.iter().map(|o| o["state"].as_u64().unwrap()).collect();
    assert_eq!(
        states,
        [3, 4],
        "open fault 3, recovered fault 4 (newest first)"
    );
    let zh = cunxiang()
        .arg("--station")
        .arg(st.path())
        .args(["outages", "--open"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&zh.stdout).contains("检查声卡连接"));
    // Repaired: exit 0.
    s.close_outage(OutageKind::Output, "rodio:default", chrono::Utc::now())
        .unwrap();
    let out = cunxiang()
        .arg("--station")
        .arg(st.path())
        .args(["status"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let log = cunxiang()
        .arg("--station")
        .arg(st.path())
        .args(["log", "--since", "all", "--format", "gdj"])
        .output()
        .unwrap();
    let v: Vec<serde_json::Value> = serde_json::from_slice(&log.stdout).unwrap();
    assert_eq!(
        v.iter()
            .map(|r| r["state"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        [1, 3, 3]
    );
    assert_eq!(v[0]["title"], "信");
}

#[test]
fn probe_reads_format_length_rate_and_channels() {
    let st = TempStation::new();
    let p = st.wav("tone.wav", 1.5);
    let info = cunxiang::sound::media::probe(&p).unwrap();
    assert_eq!(
        (info.sample_rate, info.channels, info.duration.as_millis()),
        (8000, 1, 1500)
    );
    assert_eq!(
        cunxiang::sound::media::decode_all(&p).unwrap().as_millis(),
        1500
    );
}
