//! Typed notices (文字广播) through the real binary with production
//! logging: a scheduled `say` read aloud on time by espeak-ng and logged
//! played; without the engine, `check` names the entry's file:line and
//! `run` fails the firing against a `content` outage; empty and too long
//! notices are refused with a clear message and nothing is rendered.
#![cfg(target_os = "linux")]

mod common;

use common::binary::*;
use common::{cunxiang, Daemon, TempStation};
use serde_json::json;

const NOTICE: &str = "今晚8点停水，请各户提前储水。";

fn notice_schedule(hms: &str) -> String {
    format!(
        "# 停水通知，由村委会发\n[[broadcast]]\nname = \"停水通知\"\nsay = \"{NOTICE}\"\nat = [\"{hms}\"]\nchime = false\npriority = \"important\"\n"
    )
}

fn rendered(st: &TempStation) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(st.path().join("var/speech"))
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "wav"))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_scheduled_notice_is_read_aloud_on_time() {
    let st = TempStation::new();
    let (t, hms) = soon(4);
    st.schedule("notice.toml", &notice_schedule(&hms));
    let check = cunxiang()
        .arg("--station")
        .arg(st.path())
        .arg("check")
        .output()
        .unwrap();
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    let cap = st.path().join("cap.jsonl");
    let d = Daemon::start(
        st.path(),
        &["--output", &format!("capture:{}", cap.display())],
    );
    let rows = poll("the notice played", 40, st.path(), |r| {
        r.first().is_some_and(|p| p["status"] == "played")
    });
    assert_eq!(rows[0]["broadcast"], "停水通知");
    assert_eq!(instant(&rows[0]["scheduled_at"]), t);
    let played: Vec<serde_json::Value> = std::fs::read_to_string(&cap)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(played.len(), 1, "no chime, one reading: {played:?}");
    assert_eq!(played[0]["kind"], "content");
    let ms = played[0]["duration_ms"].as_u64().unwrap();
    assert!(
        (1500..12_000).contains(&ms),
        "{} characters read in {ms} ms",
        NOTICE.chars().count()
    );
    let files = rendered(&st);
    assert_eq!(
        files.len(),
        1,
        "rendered once into the data folder: {files:?}"
    );
    assert!(
        d.log_file("var").contains("停水通知"),
        "the log file names it"
    );
    d.stop(20);
}

#[test]
fn without_the_engine_check_names_the_entry_and_run_opens_a_content_outage() {
    let st = TempStation::new();
    let (_, hms) = soon(4);
    st.write(
        "cunxiang.toml",
        "[speech]\nengine = \"/nonexistent/espeak-ng\"\n",
    );
    st.schedule("notice.toml", &notice_schedule(&hms));
    let check = cunxiang()
        .arg("--station")
        .arg(st.path())
        .arg("check")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&check.stdout).to_string()
        + &String::from_utf8_lossy(&check.stderr);
    assert_eq!(check.status.code(), Some(2), "{said}");
    assert!(
        said.contains("notice.toml:2"),
        "file:line of the entry: {said}"
    );
    assert!(said.contains("espeak-ng"), "{said}");

    let d = Daemon::start(st.path(), &["--output", "null"]);
    let rows = poll("the notice failed", 40, st.path(), |r| {
        r.first().is_some_and(|p| p["status"] == "failed")
    });
    assert!(
        rows[0]["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("say:停水通知"),
        "{rows:?}"
    );
    let open: Vec<_> = outages_json(st.path())
        .into_iter()
        .filter(|o| o["kind"] == "content" && o["ended_at"].is_null())
        .collect();
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0]["subject"], "say:停水通知");
    d.stop(20);
}

#[test]
fn empty_and_too_long_notices_are_refused_and_nothing_is_rendered() {
    let st = TempStation::new();
    st.wav("a.wav", 1.0);
    st.schedule(
        "a.toml",
        "[[broadcast]]\nname = \"a\"\nplay = [\"a.wav\"]\nat = [\"03:00\"]\n",
    );
    let d = Daemon::start(st.path(), &["--output", "null"]);
    let base = format!("http://{}", d.address("var"));
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    for (text, zh) in [("   ".to_string(), "空"), ("停".repeat(5000), "太长")] {
        let mut r = agent
            .post(&format!("{base}/api/play"))
            .send_json(json!({ "say": text }))
            .unwrap();
        assert_eq!(r.status(), 400);
        let body: serde_json::Value = r.body_mut().read_json().unwrap();
        let words = body.to_string();
        assert!(words.contains(zh), "{words}");
    }
    // The CLI says so too, with a non-zero exit.
    let out = cunxiang()
        .arg("--station")
        .arg(st.path())
        .args(["say", ""])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("空"));
    assert!(rendered(&st).is_empty(), "nothing rendered");
    assert!(log_json(st.path()).is_empty(), "nothing logged");
    d.stop(20);
}
