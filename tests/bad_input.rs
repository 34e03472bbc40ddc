//! Bad input, case by case: each asserts the exact file, line and key of the
//! finding, and snapshots the operator's text in Chinese and English.

mod common;

use common::TempStation;
use cunxiang::config::diag::Diagnostic;
use cunxiang::config::load::Station;
use cunxiang::config::{schedule, station};
use cunxiang::i18n::Lang;
use cunxiang::views::check;

/// Both languages, one finding per line, as `check` prints them.
fn rendered(diags: &[Diagnostic]) -> String {
    let mut s = String::new();
    for lang in [Lang::Zh, Lang::En] {
        for d in diags {
            s.push_str(&d.render(lang));
            s.push('\n');
        }
    }
    s
}

fn assert_finding(case: &str, diags: &[Diagnostic], file: &str, line: usize, key: Option<&str>) {
    assert!(
        diags.iter().any(|d| d.is_error()
            && d.file.as_deref() == Some(file)
            && d.line == Some(line)
            && d.key.as_deref() == key),
        "{case}: no error at {file}:{line} key {key:?} in\n{}",
        rendered(diags)
    );
}

/// (case, schedule text, line of the error, key)
const SCHEDULE_CASES: &[(&str, &str, usize, Option<&str>)] = &[
    ("unknown_key_typo", "[[broadcast]]\nname = \"信\"\nplay = [\"a.mp3\"]\nat = [\"07:30\"]\nrepaet = 3\n", 5, Some("repaet")),
    ("unknown_key_alias", "[[broadcast]]\nname = \"信\"\nfiles = [\"a.mp3\"]\nat = [\"07:30\"]\n", 3, Some("files")),
    ("unknown_key_far", "[[broadcast]]\nname = \"信\"\nplay = [\"a.mp3\"]\nat = [\"07:30\"]\ncolour = \"red\"\n", 5, Some("colour")),
    ("unknown_top_level", "[[broadcasts]]\nname = \"信\"\n", 1, Some("broadcasts")),
    ("repeat_is_text", "[[broadcast]]\nname = \"信\"\nplay = [\"a.mp3\"]\nat = [\"07:30\"]\nrepeat = \"3\"\n", 5, Some("repeat")),
    ("at_is_number", "[[broadcast]]\nname = \"信\"\nplay = [\"a.mp3\"]\nat = 730\n", 4, Some("at")),
    ("enabled_is_text", "[[broadcast]]\nname = \"信\"\nplay = [\"a.mp3\"]\nat = [\"07:30\"]\nenabled = \"yes\"\n", 5, Some("enabled")),
    ("play_is_number", "[[broadcast]]\nname = \"信\"\nplay = 5\nat = [\"07:30\"]\n", 3, Some("play")),
    ("play_item_not_text", "[[broadcast]]\nname = \"信\"\nplay = [\"a.mp3\",\n  7]\nat = [\"07:30\"]\n", 4, Some("play[2]")),
    ("time_out_of_range", "[[broadcast]]\nname = \"信\"\nplay = [\"a.mp3\"]\nat = [\"07:30\",\n      \"25:00\"]\n", 5, Some("at")),
    ("time_with_dot", "[[broadcast]]\nname = \"信\"\nplay = [\"a.mp3\"]\nat = [\"7.30\"]\n", 4, Some("at")),
    ("time_twice", "[[broadcast]]\nname = \"信\"\nplay = [\"a.mp3\"]\nat = [\"07:30\", \"07:30\"]\n", 4, Some("at")),
    ("cron_four_fields", "[[broadcast]]\nname = \"信\"\nplay = [\"a.mp3\"]\ncron = \"30 7 * *\"\n", 4, Some("cron")),
    ("cron_bad_minute", "[[broadcast]]\nname = \"信\"\nplay = [\"a.mp3\"]\ncron = \"61 7 * * *\"\n", 4, Some("cron")),
    ("at_and_cron", "[[broadcast]]\nname = \"信\"\nplay = [\"a.mp3\"]\nat = [\"07:30\"]\ncron = \"30 7 * * *\"\n", 4, Some("at")),
    ("no_times", "\n[[broadcast]]\nname = \"信\"\nplay = [\"a.mp3\"]\n", 2, Some("at")),
    ("no_name", "[[broadcast]]\nplay = [\"a.mp3\"]\nat = [\"07:30\"]\n", 1, Some("name")),
    ("no_play", "[[broadcast]]\nname = \"信\"\nat = [\"07:30\"]\n", 1, Some("play")),
    ("empty_name", "[[broadcast]]\nname = \"  \"\nplay = [\"a.mp3\"]\nat = [\"07:30\"]\n", 2, Some("name")),
    ("empty_play", "[[broadcast]]\nname = \"信\"\nplay = []\nat = [\"07:30\"]\n", 3, Some("play")),
    ("until_before_from", "[[broadcast]]\nname = \"信\"\nplay = [\"a.mp3\"]\nat = [\"07:30\"]\nfrom = 2026-12-31\nuntil = 2026-12-01\n", 6, Some("until")),
    ("date_does_not_exist", "[[broadcast]]\nname = \"信\"\nplay = [\"a.mp3\"]\nat = [\"07:30\"]\nfrom = \"2026-02-30\"\n", 5, Some("from")),
    ("date_with_time", "[[broadcast]]\nname = \"信\"\nplay = [\"a.mp3\"]\nat = [\"07:30\"]\nuntil = 2026-12-01T08:00:00\n", 5, Some("until")),
    ("bad_day", "[[broadcast]]\nname = \"信\"\nplay = [\"a.mp3\"]\nat = [\"07:30\"]\ndays = [\"mon\", \"tues\"]\n", 5, Some("days")),
    ("bad_priority", "[[broadcast]]\nname = \"信\"\nplay = [\"a.mp3\"]\nat = [\"07:30\"]\npriority = \"urgent\"\n", 5, Some("priority")),
    ("volume_too_loud", "[[broadcast]]\nname = \"信\"\nplay = [\"a.mp3\"]\nat = [\"07:30\"]\nvolume = 1.5\n", 5, Some("volume")),
    ("repeat_zero", "[[broadcast]]\nname = \"信\"\nplay = [\"a.mp3\"]\nat = [\"07:30\"]\nrepeat = 0\n", 5, Some("repeat")),
    ("gap_not_a_duration", "[[broadcast]]\nname = \"信\"\nplay = [\"a.mp3\"]\nat = [\"07:30\"]\ngap = \"forever\"\n", 5, Some("gap")),
    ("catch_up_too_long", "[[broadcast]]\nname = \"信\"\nplay = [\"a.mp3\"]\nat = [\"07:30\"]\ncatch_up = \"48h\"\n", 5, Some("catch_up")),
    ("path_escapes", "[[broadcast]]\nname = \"信\"\nplay = [\"../../etc/secret.mp3\"]\nat = [\"07:30\"]\n", 3, Some("play")),
    ("path_absolute", "[[broadcast]]\nname = \"信\"\nplay = [\"/etc/passwd\"]\nat = [\"07:30\"]\n", 3, Some("play")),
    ("unknown_placeholder", "[[broadcast]]\nname = \"信\"\nplay = [\"公告/{day}.mp3\"]\nat = [\"07:30\"]\n", 3, Some("play")),
    ("chime_is_number", "[[broadcast]]\nname = \"信\"\nplay = [\"a.mp3\"]\nat = [\"07:30\"]\nchime = 3\n", 5, Some("chime")),
    ("chime_escapes", "[[broadcast]]\nname = \"信\"\nplay = [\"a.mp3\"]\nat = [\"07:30\"]\nchime = \"../ding.mp3\"\n", 5, Some("chime")),
    ("duplicate_name", "[[broadcast]]\nname = \"信\"\nplay = [\"a.mp3\"]\nat = [\"07:30\"]\n\n[[broadcast]]\nname = \"信\"\nplay = [\"b.mp3\"]\nat = [\"08:30\"]\n", 7, Some("name")),
    ("toml_missing_quote", "[[broadcast]]\nname = \"信\nplay = [\"a.mp3\"]\n", 2, None),
    ("toml_missing_value", "[[broadcast]]\nname = \"信\"\nrepeat =\nat = [\"07:30\"]\n", 3, None),
    ("broadcast_not_tables", "broadcast = \"信\"\n", 1, Some("broadcast")),
    ("relay_and_play", "[[broadcast]]\nname = \"转播\"\nrelay = \"http://10.0.0.1/a.mp3\"\nplay = [\"a.mp3\"]\nat = [\"10:00\"]\nduration = \"40m\"\n", 4, Some("play")),
    ("relay_https", "[[broadcast]]\nname = \"转播\"\nrelay = \"https://10.0.0.1/a.mp3\"\nat = [\"10:00\"]\nduration = \"40m\"\n", 3, Some("relay")),
    ("relay_no_length", "[[broadcast]]\nname = \"转播\"\nrelay = \"line-in\"\nat = [\"10:00\"]\n", 1, Some("duration")),
    ("relay_duration_and_until", "[[broadcast]]\nname = \"转播\"\nrelay = \"line-in\"\nat = [\"10:00\"]\nduration = \"40m\"\nuntil = \"10:40\"\n", 5, Some("duration")),
    ("relay_until_before_at", "[[broadcast]]\nname = \"转播\"\nrelay = \"line-in\"\nat = [\"10:00\"]\nuntil = \"09:40\"\n", 5, Some("until")),
    ("relay_until_with_two_times", "[[broadcast]]\nname = \"转播\"\nrelay = \"line-in\"\nat = [\"10:00\", \"15:00\"]\nuntil = \"10:40\"\n", 5, Some("until")),
    ("relay_too_long", "[[broadcast]]\nname = \"转播\"\nrelay = \"line-in\"\nat = [\"10:00\"]\nduration = \"13h\"\n", 5, Some("duration")),
    ("relay_repeat", "[[broadcast]]\nname = \"转播\"\nrelay = \"line-in\"\nat = [\"10:00\"]\nduration = \"40m\"\nrepeat = 2\n", 6, Some("repeat")),
    ("fallback_without_relay", "[[broadcast]]\nname = \"信\"\nplay = [\"a.mp3\"]\nat = [\"07:30\"]\nfallback = [\"b.mp3\"]\n", 5, Some("fallback")),
    ("relay_fallback_escapes", "[[broadcast]]\nname = \"转播\"\nrelay = \"line-in\"\nat = [\"10:00\"]\nduration = \"40m\"\nfallback = [\"../x.mp3\"]\n", 6, Some("fallback")),
    ("say_empty", "[[broadcast]]\nname = \"通知\"\nsay = \"  \"\nat = [\"10:00\"]\n", 3, Some("say")),
    ("say_and_play", "[[broadcast]]\nname = \"通知\"\nsay = \"今晚停水\"\nplay = [\"a.mp3\"]\nat = [\"10:00\"]\n", 4, Some("play")),
    ("say_not_text", "[[broadcast]]\nname = \"通知\"\nsay = [\"今晚停水\"]\nat = [\"10:00\"]\n", 3, Some("say")),
];

#[test]
fn schedule_cases() {
    assert!(SCHEDULE_CASES.len() >= 25);
    for (case, text, line, key) in SCHEDULE_CASES {
        let file = format!("schedules/{case}.toml");
        let parsed = schedule::parse(&file, text);
        assert!(!parsed.is_valid(), "{case}: should not go on air");
        assert_finding(case, &parsed.diagnostics, &file, *line, *key);
        insta::assert_snapshot!(format!("schedule_{case}"), rendered(&parsed.diagnostics));
    }
}

#[test]
fn every_error_in_a_file_is_reported_at_once() {
    let text = "[[broadcast]]\nname = \"一\"\nplay = [\"a.mp3\"]\nat = [\"25:00\"]\n\n[[broadcast]]\nname = \"二\"\nplay = [\"b.mp3\"]\nat = [\"07:30\"]\nrepaet = 2\nvolume = 9\n";
    let parsed = schedule::parse("schedules/多处错误.toml", text);
    let lines: Vec<usize> = parsed
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .filter_map(|d| d.line)
        .collect();
    assert_eq!(lines.len(), 3, "{}", rendered(&parsed.diagnostics));
    for l in [4, 10, 11] {
        assert!(lines.contains(&l), "line {l} in {lines:?}");
    }
    insta::assert_snapshot!("schedule_many_errors", rendered(&parsed.diagnostics));
}

/// (case, station file text, line, key)
const STATION_CASES: &[(&str, &str, usize, Option<&str>)] = &[
    (
        "timezone_city",
        "name = \"李家村\"\ntimezone = \"Beijing\"\n",
        2,
        Some("timezone"),
    ),
    (
        "timezone_case",
        "timezone = \"asia/shanghai\"\n",
        1,
        Some("timezone"),
    ),
    (
        "quiet_hours_one_time",
        "quiet_hours = \"22:00\"\n",
        1,
        Some("quiet_hours"),
    ),
    (
        "unknown_station_key",
        "name = \"李家村\"\ntz = \"Asia/Shanghai\"\n",
        2,
        Some("tz"),
    ),
    (
        "bad_output",
        "[output]\ndevice = \"speaker\"\n",
        2,
        Some("output.device"),
    ),
    (
        "bad_listen",
        "[control]\nlisten = \"localhost\"\n",
        2,
        Some("control.listen"),
    ),
    (
        "holidays_not_list",
        "holidays = 2026-10-01\n",
        1,
        Some("holidays"),
    ),
    (
        "folders_unknown_key",
        "[folders]\nmusic = \"audio\"\n",
        2,
        Some("music"),
    ),
    (
        "speech_rate_too_fast",
        "[speech]\nrate = 500\n",
        2,
        Some("speech.rate"),
    ),
    (
        "speech_volume_too_loud",
        "[speech]\nvolume = 5\n",
        2,
        Some("speech.volume"),
    ),
];

#[test]
fn station_cases() {
    for (case, text, line, key) in STATION_CASES {
        let parsed = station::parse("cunxiang.toml", text);
        assert_finding(case, &parsed.diagnostics, "cunxiang.toml", *line, *key);
        insta::assert_snapshot!(format!("station_{case}"), rendered(&parsed.diagnostics));
    }
}

const NOW: &str = "2026-12-01T00:00:00Z";

fn check_station(st: &TempStation) -> check::Report {
    let station = Station::load(st.path());
    check::check(&station, NOW.parse().unwrap())
}

/// Disk cases: findings only a look at the files can give.
#[test]
fn audio_file_cases() {
    let st = TempStation::new();
    st.wav("ok.wav", 1.0);
    st.write("audio/empty.mp3", b"");
    st.write(
        "audio/notes.mp3",
        "这不是音频 not audio at all\n".repeat(40),
    );
    std::fs::create_dir_all(st.path().join("audio/folder")).unwrap();
    st.schedule(
        "files.toml",
        "[[broadcast]]\nname = \"缺文件\"\nplay = [\"ok.wav\",\n  \"一封信.mp3\"]\nat = [\"07:30\"]\n\n[[broadcast]]\nname = \"空文件\"\nplay = [\"empty.mp3\"]\nat = [\"08:30\"]\n\n[[broadcast]]\nname = \"坏文件\"\nplay = [\"notes.mp3\"]\nat = [\"09:30\"]\n\n[[broadcast]]\nname = \"文件夹\"\nplay = [\"folder\"]\nat = [\"10:30\"]\nchime = \"叮咚.mp3\"\n",
    );
    let r = check_station(&st);
    let d = &r.diagnostics;
    let f = "schedules/files.toml";
    assert_finding("missing", d, f, 4, Some("play"));
    assert_finding("empty", d, f, 9, Some("play"));
    assert_finding("undecodable", d, f, 14, Some("play"));
    assert_finding("folder", d, f, 19, Some("play"));
    assert_finding("missing chime", d, f, 21, Some("chime"));
    assert_eq!(r.errors(), 5, "{}", rendered(d));
    insta::assert_snapshot!("disk_audio_files", rendered(d));
}

#[test]
fn duplicate_name_across_files_keeps_the_first_on_air() {
    let st = TempStation::new();
    st.wav("a.wav", 1.0);
    st.schedule(
        "a.toml",
        "[[broadcast]]\nname = \"信\"\nplay = [\"a.wav\"]\nat = [\"07:30\"]\n",
    );
    st.schedule(
        "b.toml",
        "# 注释\n[[broadcast]]\nname = \"信\"\nplay = [\"a.wav\"]\nat = [\"08:30\"]\n",
    );
    let station = Station::load(st.path());
    let d = station.diagnostics();
    assert_finding("dup", &d, "schedules/b.toml", 2, Some("name"));
    assert!(station.files[0].is_valid() && !station.files[1].is_valid());
    assert_eq!(station.broadcasts().len(), 1);
    insta::assert_snapshot!("disk_duplicate_across_files", rendered(&d));
}

#[test]
fn one_broken_file_never_hides_the_others() {
    let st = TempStation::new();
    st.wav("a.wav", 1.0);
    st.schedule(
        "1-good.toml",
        "[[broadcast]]\nname = \"好\"\nplay = [\"a.wav\"]\nat = [\"07:30\"]\n",
    );
    st.schedule(
        "2-broken.toml",
        "[[broadcast]]\nname = \"坏\nplay = [\"a.wav\"]\n",
    );
    st.schedule(
        "3-typo.toml",
        "[[broadcast]]\nname = \"错字\"\nplay = [\"a.wav\"]\nat = [\"08:30\"]\nrepaet = 2\n",
    );
    st.write(
        "schedules/4-latin1.toml",
        b"[[broadcast]]\nname = \"\xd6\"\n",
    );
    let station = Station::load(st.path());
    let names: Vec<String> = station.broadcasts().into_iter().map(|b| b.name).collect();
    assert_eq!(names, ["好"]);
    let d = station.diagnostics();
    assert_finding("syntax", &d, "schedules/2-broken.toml", 2, None);
    assert_finding("typo", &d, "schedules/3-typo.toml", 5, Some("repaet"));
    assert!(d
        .iter()
        .any(|x| x.file.as_deref() == Some("schedules/4-latin1.toml") && x.is_error()));
    insta::assert_snapshot!("disk_broken_files", rendered(&d));
}

#[test]
fn symlink_out_of_audio_is_refused() {
    #[cfg(unix)]
    {
        let st = TempStation::new();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("x.wav"), common::wav_bytes(8000, 1.0)).unwrap();
        std::os::unix::fs::symlink(
            outside.path().join("x.wav"),
            st.path().join("audio/link.wav"),
        )
        .unwrap();
        st.schedule(
            "a.toml",
            "[[broadcast]]\nname = \"链接\"\nplay = [\"link.wav\"]\nat = [\"07:30\"]\n",
        );
        let r = check_station(&st);
        assert_finding(
            "symlink",
            &r.diagnostics,
            "schedules/a.toml",
            3,
            Some("play"),
        );
    }
}
