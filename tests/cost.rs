//! Cost (issue 18, items 18 and 19), through the real binary: what a
//! schedule can make the station spend. The dashboard stays a small page
//! however busy the day and however long the names; `plan` writes its
//! firings as it goes, so its memory does not grow with `--days`.
#![cfg(target_os = "linux")]

mod common;

use common::{cunxiang, TempStation};
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
    /// Peak resident memory of the process (KB), from the kernel's
    /// accounting at exit (`wait4`'s `ru_maxrss`).
    peak_kb: i64,
    /// Peak resident memory (KB) when the first bytes of output arrived.
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

/// Runs `plan --days N --format json` on `st`, reading its output as it
/// comes and validating it as one JSON array without holding it.
fn plan_json(st: &TempStation, days: u32) -> PlanRun {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("cunxiang"))
        .arg("--station")
        .arg(st.path())
        .args(["plan", "--from", "2026-12-01", "--format", "json"])
        .args(["--days", &days.to_string()])
        .env("LANG", "C.UTF-8")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut out = std::io::BufReader::with_capacity(1 << 16, child.stdout.take().unwrap());
    assert!(!out.fill_buf().unwrap().is_empty(), "no output at all");
    // A zombie (exited, not yet waited for) has no VmHWM line.
    let state = proc_field(pid, "State:").unwrap_or_default();
    let first_while_running = !state.starts_with('Z');
    let peak_at_first_kb = proc_field(pid, "VmHWM:")
        .and_then(|v| v.trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0);
    let items: Vec<serde::de::IgnoredAny> =
        serde_json::from_reader(&mut out).expect("the output is one JSON array");
    drop(out);
    // wait4 reaps the child and says its own peak (RUSAGE_CHILDREN would
    // mix in every other test's children).
    let mut status = 0;
    // SAFETY: a plain syscall on our own child, with valid out-pointers;
    // `child` is not waited for again afterwards.
    let mut usage: nix::libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { nix::libc::wait4(pid as i32, &mut status, 0, &mut usage) };
    assert_eq!(r, pid as i32, "wait4");
    assert!(
        nix::libc::WIFEXITED(status) && nix::libc::WEXITSTATUS(status) == 0,
        "plan --days {days} failed: status {status}"
    );
    std::mem::forget(child);
    PlanRun {
        peak_kb: usage.ru_maxrss,
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
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("cunxiang"))
            .arg("--station")
            .arg(st.path())
            .args(["--lang", "en", "plan", "--from", "2026-12-01"])
            .args(["--days", &days.to_string()])
            .env("LANG", "C.UTF-8")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let pid = child.id();
        let out = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut totals = 0;
        let mut headers = 0;
        for l in out.lines() {
            let l = l.unwrap();
            totals += usize::from(l.contains("day total: 8640 firings"));
            headers += usize::from(l.contains("scheduled"));
        }
        let mut status = 0;
        // SAFETY: as in `plan_json`.
        let mut usage: nix::libc::rusage = unsafe { std::mem::zeroed() };
        let r = unsafe { nix::libc::wait4(pid as i32, &mut status, 0, &mut usage) };
        assert_eq!(r, pid as i32, "wait4");
        std::mem::forget(child);
        (usage.ru_maxrss, totals, headers)
    };
    let ((short, ..), (long, totals, headers)) = (peak(1), peak(6));
    eprintln!("plan (table) --days 1: peak {short} KB; --days 6: peak {long} KB");
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
