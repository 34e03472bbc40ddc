//! Cost (issue 18, items 18 and 19), through the real binary: what a
//! schedule can make the station spend. The dashboard stays a small page
//! however busy the day and however long the names; `plan` writes its
//! firings as it goes, so its memory does not grow with `--days`.
#![cfg(target_os = "linux")]

mod common;

use common::{afternoon_zone, cunxiang, Daemon, TempStation};
use std::io::BufRead;
use std::process::{Command, Stdio};

/// A station with one broadcast every 10 seconds (8,640 firings a day).
fn every_ten_seconds() -> TempStation {
    let st = TempStation::new();
    st.wav("a.wav", 2.0);
    st.schedule(
        "a.toml",
        "[[broadcast]]\nname = \"每十秒\"\nplay = [\"a.wav\"]\ncron = \"*/10 * * * * *\"\n",
    );
    st
}

/// What one `plan` run cost and gave.
struct PlanRun {
    /// Peak resident memory of the process (KB): its VmHWM, read as its
    /// output is read, until the last of it (the process is then blocked
    /// on the full pipe or writing its last lines; planning is done).
    peak_kb: i64,
    /// Its VmHWM (KB) when the first bytes of output arrived.
    peak_at_first_kb: i64,
    /// The process was still running when its first bytes arrived.
    first_while_running: bool,
    /// Elements of the JSON array (the whole output parsed as JSON).
    firings: usize,
}

fn proc_field(pid: u32, key: &str) -> Option<String> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix(key))
        .map(|v| v.trim().to_string())
}

/// The process's peak resident memory so far (KB), if it still runs. Not
/// `wait4`'s `ru_maxrss`: Linux carries the parent's peak across `exec`
/// into it, so a child of a big test process would look big.
fn vm_hwm(pid: u32) -> Option<i64> {
    proc_field(pid, "VmHWM:")?
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// A child's stdout that reads its VmHWM every 64 KB it passes on.
struct Watched<R> {
    inner: R,
    pid: u32,
    unpolled: usize,
    peak_kb: i64,
}

impl<R: std::io::Read> std::io::Read for Watched<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.unpolled += n;
        if self.unpolled >= 1 << 16 {
            self.unpolled = 0;
            if let Some(kb) = vm_hwm(self.pid) {
                self.peak_kb = self.peak_kb.max(kb);
            }
        }
        Ok(n)
    }
}

/// Runs `cunxiang --station ST ARGS…` with its stdout watched.
fn watched(
    st: &TempStation,
    args: &[&str],
) -> (
    std::process::Child,
    std::io::BufReader<Watched<std::process::ChildStdout>>,
) {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("cunxiang"))
        .arg("--station")
        .arg(st.path())
        .args(args)
        .env("LANG", "C.UTF-8")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = Watched {
        inner: child.stdout.take().unwrap(),
        pid: child.id(),
        unpolled: 0,
        peak_kb: 0,
    };
    (child, std::io::BufReader::with_capacity(1 << 16, out))
}

/// Runs `plan --days N --format json` on `st`, reading its output as it
/// comes and validating it as one JSON array without holding it.
fn plan_json(st: &TempStation, days: u32) -> PlanRun {
    let days_arg = days.to_string();
    let (mut child, mut out) = watched(
        st,
        &[
            "plan",
            "--from",
            "2026-12-01",
            "--format",
            "json",
            "--days",
            &days_arg,
        ],
    );
    let pid = child.id();
    assert!(!out.fill_buf().unwrap().is_empty(), "no output at all");
    // A zombie (exited, not yet waited for) has no VmHWM line.
    let state = proc_field(pid, "State:").unwrap_or_default();
    let first_while_running = !state.starts_with('Z');
    let peak_at_first_kb = vm_hwm(pid).unwrap_or(0);
    let items: Vec<serde::de::IgnoredAny> =
        serde_json::from_reader(&mut out).expect("the output is one JSON array");
    let peak_kb = out.get_ref().peak_kb.max(peak_at_first_kb);
    drop(out);
    let status = child.wait().unwrap();
    assert!(status.success(), "plan --days {days} failed: {status}");
    PlanRun {
        peak_kb,
        peak_at_first_kb,
        first_while_running,
        firings: items.len(),
    }
}

/// Issue 18 item 19: `plan --days 366 --format json` with a 10-second cron
/// took 28 MB per day planned (10 GB for the year): it built every firing,
/// then the whole JSON document, before writing a byte. Now it writes each
/// firing once its collisions are settled: twelve days cost what two do,
/// and the first firing is out while the rest are still being planned.
#[test]
fn plan_memory_is_flat_in_the_number_of_days() {
    let st = every_ten_seconds();
    let short = plan_json(&st, 2);
    let long = plan_json(&st, 12);
    eprintln!(
        "plan --days 2: peak {} KB (at first output {} KB); --days 12: peak {} KB (at first output {} KB)",
        short.peak_kb, short.peak_at_first_kb, long.peak_kb, long.peak_at_first_kb
    );
    assert!(short.peak_kb > 0 && long.peak_kb > 0, "VmHWM was read");
    assert_eq!(short.firings, 2 * 8640);
    assert_eq!(long.firings, 12 * 8640, "every firing, once");
    assert!(
        long.first_while_running,
        "the first firings are written while the rest are planned"
    );
    assert!(
        long.peak_kb * 2 < short.peak_kb * 3,
        "12 days must cost about what 2 days do: {} KB vs {} KB",
        long.peak_kb,
        short.peak_kb
    );
    assert!(
        long.peak_at_first_kb * 2 < short.peak_kb * 3,
        "the first firing goes out before the window is built: {} KB at the first byte, {} KB for 2 days",
        long.peak_at_first_kb,
        short.peak_kb
    );
}

/// The table streams too: one table per day, so memory holds a day.
#[test]
fn plan_table_memory_is_flat_in_the_number_of_days() {
    let st = every_ten_seconds();
    let peak = |days: u32| {
        let days_arg = days.to_string();
        let (mut child, out) = watched(
            &st,
            &[
                "--lang",
                "en",
                "plan",
                "--from",
                "2026-12-01",
                "--days",
                &days_arg,
            ],
        );
        let mut totals = 0;
        let mut headers = 0;
        let mut out = out;
        let mut line = String::new();
        while out.read_line(&mut line).unwrap() > 0 {
            totals += usize::from(line.contains("day total: 8640 firings"));
            headers += usize::from(line.contains("scheduled"));
            line.clear();
        }
        let peak = out.get_ref().peak_kb;
        assert!(child.wait().unwrap().success());
        (peak, totals, headers)
    };
    let ((short, ..), (long, totals, headers)) = (peak(1), peak(6));
    eprintln!("plan (table) --days 1: peak {short} KB; --days 6: peak {long} KB");
    assert!(short > 0 && long > 0, "VmHWM was read");
    assert!(
        long * 2 < short * 3,
        "6 days must cost about what 1 day does: {long} KB vs {short} KB"
    );
    assert_eq!(totals, 6, "a total row per day");
    assert_eq!(headers, 6, "a table per day");
}

/// `--days` has a documented limit (366, a year); beyond it, and at 0,
/// the refusal says why in both languages, with the usage exit code.
#[test]
fn plan_days_beyond_a_year_is_refused_in_both_languages() {
    let st = every_ten_seconds();
    for bad in ["367", "0", "100000", "-1", "seven"] {
        let out = cunxiang()
            .arg("--station")
            .arg(st.path())
            .args(["plan", "--format", "json", &format!("--days={bad}")])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "--days {bad}: {err}");
        assert!(out.stdout.is_empty(), "nothing planned for --days {bad}");
        assert!(
            err.contains("最多 366 天") && err.contains("1 to 366 days"),
            "--days {bad}: {err}"
        );
    }
    let daily = TempStation::new();
    daily.wav("a.wav", 2.0);
    daily.schedule(
        "a.toml",
        "[[broadcast]]\nname = \"早\"\nplay = [\"a.wav\"]\nat = [\"07:30\"]\n",
    );
    let out = cunxiang()
        .arg("--station")
        .arg(daily.path())
        .args([
            "plan",
            "--from",
            "2028-01-01",
            "--days",
            "366",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v.len(), 366, "a leap year, every day");
    let help = cunxiang().args(["plan", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("1 to 366"), "{help}");
}

// ---------------------------------------------------------------- dashboard

use chrono::{DateTime, Duration as TimeDelta, Utc};
use cunxiang::store::{OutageKind, Status, Store, Trigger};
use std::time::Duration;

/// The page must stay below this whatever the schedule.
const PAGE_LIMIT: usize = 200 * 1024;

/// A name of `n` characters: Chinese, with markup and quotes that must
/// come out escaped.
fn long_name(n: usize) -> String {
    "长<b>名&\"字".chars().cycle().take(n).collect()
}

/// The dashboard in both languages (zh, en) from the real daemon on
/// `st`, each checked under the limit.
fn pages(st: &TempStation, what: &str) -> (String, String) {
    let d = Daemon::start(st.path(), &["--no-watch", "--output", "null"]);
    let url = format!("http://{}/", d.address("var"));
    let page = get(&url);
    let en = get(&format!("{url}?lang=en"));
    assert!(d.stop(10).success());
    eprintln!("{what}: {} bytes (zh), {} bytes (en)", page.len(), en.len());
    for p in [&page, &en] {
        assert!(
            p.len() < PAGE_LIMIT,
            "the page is {} bytes, over {PAGE_LIMIT}",
            p.len()
        );
    }
    (page, en)
}

fn get(url: &str) -> String {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();
    agent
        .get(url)
        .call()
        .expect("the dashboard answers")
        .body_mut()
        .with_config()
        .limit(1 << 30)
        .read_to_string()
        .unwrap()
}

/// Seeds `n` rows of `name`, one every `every`, the last at `last`.
fn seed_rows(store: &Store, name: &str, last: DateTime<Utc>, every: TimeDelta, n: i64) {
    for k in 0..n {
        let at = last - every * (k as i32);
        let (status, started, reason) = match k % 97 {
            13 => (Status::Missed, None, Some("busy")),
            29 => (
                Status::Failed,
                Some(at),
                Some("content: a.wav: file not found"),
            ),
            _ => (Status::Played, Some(at), None),
        };
        store
            .insert_play(&cunxiang::store::NewPlay {
                broadcast: name,
                scheduled_at: at,
                started_at: started,
                ended_at: started.map(|s| s + TimeDelta::seconds(2)),
                status,
                reason,
                trigger: Trigger::Schedule,
                priority: "normal",
                files: &["a.wav".to_string()],
            })
            .unwrap();
    }
}

fn rows_in(page: &str, id: &str) -> usize {
    let a = page.find(&format!("id=\"{id}\"")).expect("section");
    let rest = &page[a..];
    rest[..rest.find("</table>").unwrap_or(rest.len())]
        .matches("<tr")
        .count()
}

/// Issue 18 item 18: with a broadcast every 20 s the page was 805 KB, and
/// a 10,000-character name made it 89 MB (reloaded every 15 s). The day
/// is summarised (counts per hour, the last rows), names are cut with an
/// ellipsis, and the page stays under 200 KB.
#[test]
fn dashboard_stays_small_with_a_broadcast_every_20_s_and_a_long_name() {
    let st = TempStation::new();
    st.wav("a.wav", 2.0);
    let long = long_name(10_000);
    let toml_name = long.replace('"', "\\\"");
    st.schedule(
        "a.toml",
        &format!(
            "[[broadcast]]\nname = \"每二十秒\"\nplay = [\"a.wav\"]\ncron = \"*/20 * * * * *\"\n\n\
             [[broadcast]]\nname = \"{toml_name}\"\nplay = [\"a.wav\"]\ncron = \"30 */2 * * * *\"\n"
        ),
    );
    let now = Utc::now();
    let tz = afternoon_zone(now);
    st.write("cunxiang.toml", format!("timezone = \"{}\"\n", tz.name()));
    let store = Store::open(&st.path().join("var")).unwrap();
    // A day of the 20-second broadcast, and the long one every two
    // minutes of the last hour.
    let whole = |t: DateTime<Utc>| t - TimeDelta::nanoseconds(t.timestamp_subsec_nanos() as i64);
    let last = whole(now) - TimeDelta::seconds(now.timestamp() % 20 + 20);
    seed_rows(
        &store,
        "每二十秒",
        last,
        TimeDelta::seconds(20),
        3 * 24 * 60,
    );
    seed_rows(
        &store,
        &long,
        last - TimeDelta::seconds(10),
        TimeDelta::minutes(2),
        30,
    );
    drop(store);

    let (page, _) = pages(&st, "dashboard");
    // The long name is cut with an ellipsis: its escaped start, then "…",
    // and never a hundred characters of it.
    let escaped = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let head: String = long.chars().take(20).collect();
    let hundred: String = long.chars().take(100).collect();
    assert!(
        page.contains(&escaped(&head)) && page.contains('…'),
        "the long name shows, cut"
    );
    assert!(
        !page.contains(&escaped(&hundred)),
        "no list shows 100 characters of a name"
    );
    let cut = page.find(&escaped(&head)).unwrap();
    assert!(
        page[cut..].chars().take(400).any(|c| c == '…'),
        "the name ends in an ellipsis"
    );
    // Markup in names stays text.
    assert!(!page.contains("<b>"), "names are escaped");
    // The day summarised: counts per hour, and the last rows only.
    assert!(page.contains("id=\"hours\""), "counts per hour");
    // 00:00–01:00 is wholly in the seeded day: 180 plays of the 20-second
    // broadcast, 210 firings planned (with the long one's 30).
    let hour: Vec<i64> = {
        let a = page.find("<tr><td>00:00</td>").expect("a row for 00:00");
        let row = &page[a..a + page[a..].find("</tr>").unwrap()];
        row.split("</td>")
            .filter_map(|c| c.rsplit('>').next()?.parse().ok())
            .collect()
    };
    assert_eq!(hour.len(), 1 + 7, "planned, then each status: {hour:?}");
    assert_eq!(hour[0], 210, "planned in the hour: {hour:?}");
    assert_eq!(
        hour[1..].iter().sum::<i64>(),
        180,
        "plays in the hour: {hour:?}"
    );
    let recent = rows_in(&page, "recent");
    assert!(
        (2..=51).contains(&recent),
        "the last rows, with a header: {recent}"
    );
}

/// Whatever else grows — hundreds of broadcasts, open faults and broken
/// files, long station names and reasons — every list is capped, says how
/// many it left out, and the page stays under 200 KB.
#[test]
fn dashboard_stays_small_whatever_grows() {
    let st = TempStation::new();
    st.wav("a.wav", 2.0);
    let mut toml = String::new();
    for i in 0..300 {
        let name = format!("{i:03}{}", long_name(56)).replace('"', "\\\"");
        toml.push_str(&format!(
            "[[broadcast]]\nname = \"{name}\"\nplay = [\"a.wav\"]\nat = [\"{:02}:{:02}\"]\n\n",
            6 + i / 60,
            i % 60
        ));
    }
    st.schedule("many.toml", &toml);
    for i in 0..40 {
        st.schedule(
            &format!("坏{i:02}{}.toml", "很长的文件名".repeat(8)),
            &format!(
                "[[broadcast]]\nname = \"{}\"\nplay = [\"a.wav\"]\nat = [\"25:00\"]\n",
                long_name(3000).replace('"', "\\\"")
            ),
        );
    }
    for i in 0..100 {
        st.wav(&format!("文件夹/{i:03}{}.wav", "很长".repeat(30)), 0.1);
    }
    st.write(
        "cunxiang.toml",
        format!("name = \"{}\"\n", long_name(5000).replace('"', "\\\"")),
    );
    let store = Store::open(&st.path().join("var")).unwrap();
    let now = Utc::now();
    for i in 0..300 {
        store
            .open_outage(
                OutageKind::Content,
                &format!("{i:03}{}", long_name(2000)),
                now - TimeDelta::minutes(i),
                &long_name(5000),
            )
            .unwrap();
    }
    let reason = long_name(10_000);
    for k in 0..200 {
        let at = now - TimeDelta::seconds(30 * k + 60);
        store
            .insert_play(&cunxiang::store::NewPlay {
                broadcast: &format!("{k:03}{}", long_name(56)),
                scheduled_at: at,
                started_at: Some(at),
                ended_at: Some(at + TimeDelta::seconds(1)),
                status: Status::Failed,
                reason: Some(&reason),
                trigger: Trigger::Schedule,
                priority: "normal",
                files: &["a.wav".to_string()],
            })
            .unwrap();
    }
    drop(store);

    let (page, en) = pages(&st, "dashboard, everything grown");
    // 300 content faults and 40 broken files: the first few, then how
    // many more and where to see them all.
    let more = |p: &str, word: &str| {
        p.match_indices(word)
            .any(|(i, _)| p[i + word.len()..].starts_with(|c: char| c.is_ascii_digit()))
    };
    assert!(more(&page, "还有 "), "the lists say how many more");
    assert!(more(&en, "and "), "the lists say how many more");
    assert!(
        rows_in(&page, "recent") <= 51,
        "the recent table holds the last rows"
    );
    assert!(!page.contains("<b>"), "names are escaped");
}
