//! Relays (转播) through the real binary in real time: a local stream
//! server (`bench/relay_server.py`, paced MP3) is told to drop, stall,
//! send silence, switch format or refuse, and each fault must leave the
//! as-run row (seconds relayed and lost, reconnects), one `source` outage
//! that closes when the source is back, and a slot that ends on time.
#![cfg(target_os = "linux")]

mod common;

use chrono::{DateTime, Utc};
use common::binary::*;
use common::{cunxiang, TempStation};
use serde_json::Value;
use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

/// The stream server, shared by the tests of this binary (each test uses
/// its own query string, so each has its own stream state).
struct Server {
    port: u16,
    _child: Child,
    _dir: tempfile::TempDir,
}

fn server() -> u16 {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/relay_server.py");
            let mut child = Command::new("python3")
                .arg(script)
                .args(["--port", "0", "--die-with-parent", "--dir"])
                .arg(dir.path())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .expect("python3 bench/relay_server.py");
            let mut line = String::new();
            std::io::BufReader::new(child.stdout.take().unwrap())
                .read_line(&mut line)
                .unwrap();
            let port = line
                .trim()
                .strip_prefix("PORT ")
                .unwrap_or_else(|| panic!("relay_server said {line:?}"))
                .parse()
                .unwrap();
            Server {
                port,
                _child: child,
                _dir: dir,
            }
        })
        .port
}

fn url(path: &str) -> String {
    format!("http://127.0.0.1:{}{path}", server())
}

/// The `[relay]` settings of every case: losses are seen in 2 s.
const RELAY: &str =
    "[relay]\nno_data_after = \"2s\"\nsilence_after = \"2s\"\nreconnect_max = \"2s\"\n";

/// What one relay left: its row, the ledger, and when it was due.
struct Relayed {
    row: Value,
    outages: Vec<Value>,
    at: DateTime<Utc>,
    slot: f64,
    log: String,
    /// Today's `report --format json` row.
    report: Value,
}

impl Relayed {
    fn f(&self, key: &str) -> f64 {
        self.row[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key} in {}", self.row))
    }

    fn source_outages(&self) -> Vec<&Value> {
        self.outages
            .iter()
            .filter(|o| o["kind"] == "source")
            .collect()
    }

    /// The slot ended on time: the row's end is the firing's instant plus
    /// the slot, within a second.
    fn ended_on_time(&self) {
        let end = instant(&self.row["ended_at"]);
        let late = (end - self.at).num_milliseconds() as f64 / 1000.0 - self.slot;
        assert!(
            late.abs() < 1.0,
            "ended {late:+.2} s off the slot: {}",
            self.row
        );
    }

    /// Relayed and lost add up to the slot (no chime in these cases).
    fn adds_up(&self) {
        let sum = self.f("relayed_s") + self.f("lost_s");
        assert!(
            (sum - self.slot).abs() < 1.0,
            "relayed + lost = {sum:.2} s of a {} s slot: {}",
            self.slot,
            self.row
        );
    }

    /// The source lost once for `why` and back: one closed outage, at
    /// least one reconnect, `lost` seconds lost in `range`, relayed and
    /// lost adding up to a slot that ended on time.
    fn lost_and_back(&self, source: &str, why: &str, range: std::ops::Range<f64>) -> &Value {
        let o = self.one_closed_outage(source, why);
        assert!(
            self.row["reconnects"].as_u64().unwrap() >= 1,
            "{}",
            self.row
        );
        let lost = self.f("lost_s");
        assert!(range.contains(&lost), "lost {lost} s: {}", self.row);
        self.adds_up();
        self.ended_on_time();
        o
    }

    /// Exactly one `source` outage for `source`, its detail saying
    /// `why`, closed.
    fn one_closed_outage(&self, source: &str, why: &str) -> &Value {
        let o = self.source_outages();
        assert_eq!(
            o.len(),
            1,
            "one source outage: {:?}\n{}",
            self.outages,
            self.log
        );
        let o = o[0];
        assert_eq!(o["subject"], source);
        let detail = o["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(why), "detail {detail:?} should say {why:?}");
        assert!(!o["ended_at"].is_null(), "the outage closes: {o}");
        o
    }
}

/// Runs one relay of `slot` seconds from `source` through the binary and
/// returns what it left. `schedule` is added to its entry, `wavs` are
/// made under `audio/`, `during` runs while it is on air.
fn relay(
    source: &str,
    slot: u64,
    schedule: &str,
    wavs: &[&str],
    during: impl FnOnce(&Path),
) -> Relayed {
    relay_in(source, slot, schedule, wavs, &[], during)
}

/// [`relay`] with the daemon's environment changed (`HOME` for an ALSA
/// configuration; the sound server's variables are unset).
fn relay_in(
    source: &str,
    slot: u64,
    schedule: &str,
    wavs: &[&str],
    env: &[(&str, &str)],
    during: impl FnOnce(&Path),
) -> Relayed {
    let st = TempStation::new();
    for w in wavs {
        st.wav(w, 1.0);
    }
    st.write("cunxiang.toml", RELAY);
    let (at, hms) = soon(4);
    st.schedule(
        "r.toml",
        &format!(
            "[[broadcast]]\nname = \"转播\"\nrelay = \"{source}\"\nat = [\"{hms}\"]\nduration = \"{slot}s\"\n{schedule}"
        ),
    );
    let child = spawn(st.path(), "null", env, &["XDG_RUNTIME_DIR", "PULSE_SERVER"]);
    poll("the relay on air", 15, st.path(), |r| {
        r.iter().any(|p| p["broadcast"] == "转播")
    });
    during(st.path());
    // A cut relay's row is `partial` until it resumes: look after its slot.
    let end = at + chrono::Duration::seconds(slot as i64);
    if let Ok(wait) = (end - Utc::now()).to_std() {
        std::thread::sleep(wait);
    }
    let rows = poll("the relay's end", 15, st.path(), |r| {
        r.iter()
            .any(|p| p["broadcast"] == "转播" && p["status"] != "playing")
    });
    signal(&child, "TERM");
    assert!(wait_exit(child, 10).success());
    let row = rows.into_iter().find(|p| p["broadcast"] == "转播").unwrap();
    Relayed {
        row,
        outages: outages_json(st.path()),
        at,
        slot: slot as f64,
        log: std::fs::read_to_string(st.path().join("daemon.log")).unwrap_or_default(),
        report: report_today(st.path()),
    }
}

/// The day report's row for today (the station's zone).
fn report_today(station: &Path) -> Value {
    let out = cunxiang()
        .arg("--station")
        .arg(station)
        .args(["report", "--days", "1", "--format", "json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    v.get(0).cloned().unwrap_or(Value::Null)
}

#[test]
fn a_clean_relay_goes_out_whole_and_ends_with_its_slot() {
    let src = url("/ok.mp3?t=clean");
    let r = relay(&src, 10, "", &[], |_| {});
    assert_eq!(r.row["status"], "played", "{}", r.row);
    assert_eq!(r.row["files"], serde_json::json!([src]));
    assert_eq!(r.row["reconnects"], 0);
    assert!(r.f("lost_s") < 1.5, "{}", r.row);
    assert!(r.source_outages().is_empty(), "{:?}", r.outages);
    r.adds_up();
    r.ended_on_time();
    // The day report counts relay minutes.
    let minutes = r.report["relay_minutes"].as_f64().unwrap_or_default();
    assert!(
        (minutes * 60.0 - r.f("relayed_s")).abs() < 1.0,
        "report {} vs row {}",
        r.report,
        r.row
    );
}

#[test]
fn a_dropped_connection_reconnects_within_the_slot() {
    let src = url("/drop.mp3?after=4&t=drop");
    let r = relay(&src, 12, "", &[], |_| {});
    let o = r.one_closed_outage(&src, "connection");
    // Lost at the drop, 4 s in; back about a second later.
    let opened = instant(&o["started_at"]);
    let lost_after = (opened - r.at).num_milliseconds();
    assert!(
        (3_500..6_500).contains(&lost_after),
        "lost {lost_after} ms in"
    );
    assert_eq!(r.row["reconnects"], 1, "{}", r.row);
    assert_eq!(r.row["outage_id"], o["id"], "the row points at its outage");
    assert!(r.f("relayed_s") > 9.0, "{}", r.row);
    r.adds_up();
    r.ended_on_time();
}

#[test]
fn a_refused_source_is_retried_with_backoff_until_it_answers() {
    // Three 503s: retries after 1, 2 and 2 s (reconnect_max), back ~5 s in.
    let src = url("/refuse.mp3?times=3&t=refuse");
    let r = relay(&src, 14, "", &[], |_| {});
    let o = r.one_closed_outage(&src, "503");
    let back = (instant(&o["ended_at"]) - r.at).num_milliseconds();
    assert!((4_000..9_000).contains(&back), "back {back} ms in");
    assert_eq!(r.row["reconnects"], 3, "{}", r.row);
    assert!(r.f("lost_s") >= 4.5, "{}", r.row);
    assert_eq!(r.row["status"], "partial", "more than 5 s lost: {}", r.row);
    r.adds_up();
    r.ended_on_time();
}

#[test]
fn a_stream_that_stalls_is_lost_after_no_data_after() {
    let src = url("/stall.mp3?after=4&for=60&t=stall");
    let r = relay(&src, 12, "", &[], |_| {});
    let o = r.lost_and_back(&src, "no data for 2 s", 0.8..6.0);
    // The loss began with the last byte (4 s in), 2 s before it was seen.
    let opened = (instant(&o["started_at"]) - r.at).num_milliseconds();
    assert!((3_000..5_500).contains(&opened), "lost {opened} ms in");
    let reason = r.row["reason"].as_str().unwrap_or_default();
    assert!(
        reason.starts_with("source: "),
        "the row says what was lost: {}",
        r.row
    );
}

#[test]
fn digital_silence_is_a_loss_until_sound_returns() {
    // Silence from 4 s to 10 s after the first connection; lost after 2 s
    // of it (counted from its start), back when the tone returns.
    let src = url("/silence.mp3?after=4&for=6&t=silence");
    let r = relay(&src, 16, "", &[], |_| {});
    let o = r.one_closed_outage(&src, "digital silence");
    // The loss began with the silence (4 s in), not when it was judged.
    let opened = (instant(&o["started_at"]) - r.at).num_milliseconds();
    assert!((3_000..6_500).contains(&opened), "lost {opened} ms in");
    let closed = (instant(&o["ended_at"]) - r.at).num_milliseconds();
    assert!((9_000..14_000).contains(&closed), "back {closed} ms in");
    let lost = r.f("lost_s");
    assert!((4.0..9.0).contains(&lost), "lost {lost} s: {}", r.row);
    assert!(r.row["reconnects"].as_u64().unwrap() >= 1, "{}", r.row);
    r.adds_up();
    r.ended_on_time();
}

#[test]
fn a_format_change_mid_stream_reconnects_at_the_new_format() {
    let src = url("/switch.mp3?after=4&t=switch");
    let r = relay(&src, 12, "", &[], |_| {});
    r.one_closed_outage(&src, "format");
    assert!(r.row["reconnects"].as_u64().unwrap() >= 1, "{}", r.row);
    assert!(r.f("relayed_s") > 8.0, "{}", r.row);
    r.adds_up();
    r.ended_on_time();
}

#[test]
fn a_source_down_for_the_whole_slot_fails_and_its_outage_closes_with_the_slot() {
    let src = nobody_listens();
    let r = relay(&src, 8, "", &[], |_| {});
    assert_eq!(r.row["status"], "failed", "{}", r.row);
    assert_eq!(r.f("relayed_s"), 0.0);
    assert!(r.row["reconnects"].as_u64().unwrap() >= 2, "{}", r.row);
    let o = r.one_closed_outage(&src, "cannot connect");
    let closed = instant(&o["ended_at"]);
    assert!(
        (closed - r.at).num_milliseconds() >= 7_000,
        "closed with the slot, not before: {o}"
    );
    r.adds_up();
    r.ended_on_time();
}

/// The running daemon's dashboard address (waits until it listens).
fn control_addr(station: &Path) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let a = cunxiang::store::Store::open_existing(&station.join("var"))
            .ok()
            .and_then(|s| s.meta(cunxiang::store::keys::CONTROL_ADDR).ok().flatten());
        if let Some(a) = a {
            return a;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the daemon never listened"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// A stream address on a port nobody listens on.
fn nobody_listens() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("http://127.0.0.1:{port}/county.mp3")
}

/// `cunxiang status --json` while the daemon runs.
fn status_json(station: &Path) -> Value {
    let out = cunxiang()
        .arg("--station")
        .arg(station)
        .args(["status", "--json"])
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

#[test]
fn the_fallback_plays_while_the_source_is_lost_and_status_says_so() {
    let src = url("/refuse.mp3?times=1000&t=fallback");
    let mut seen = Value::Null;
    let mut page = String::new();
    let mut metrics = String::new();
    let r = relay(
        &src,
        8,
        "fallback = [\"中断提示.wav\"]\n",
        &["中断提示.wav"],
        |station| {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(8);
            while std::time::Instant::now() < deadline {
                let s = status_json(station);
                let relay = &s["now_playing"]["relay"];
                if relay["fallback"] == true {
                    seen = relay.clone();
                    // The dashboard shows the same.
                    let addr = control_addr(station);
                    let get = |path: &str| {
                        ureq::get(format!("http://{addr}{path}"))
                            .call()
                            .unwrap()
                            .body_mut()
                            .read_to_string()
                            .unwrap()
                    };
                    page = get("/?lang=zh");
                    metrics = get("/metrics");
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
        },
    );
    assert_eq!(seen["state"], "lost", "status during the loss: {seen}");
    assert!(page.contains("信号中断，正在重连"), "{page}");
    assert!(page.contains("正在播放中断提示"), "{page}");
    assert!(
        metrics.contains(&format!("cunxiang_relay_connected{{source=\"{src}\"}} 0")),
        "{metrics}"
    );
    assert_eq!(seen["source"], src.as_str());
    assert!(
        seen["why"].as_str().unwrap_or_default().contains("503"),
        "{seen}"
    );
    assert_eq!(r.row["status"], "failed", "{}", r.row);
    r.ended_on_time();
}

#[test]
fn an_emergency_cuts_a_relay_which_resumes_at_the_live_point_and_ends_on_time() {
    let src = url("/ok.mp3?t=emergency");
    let r = relay(&src, 16, "", &["警报.wav"], |station| {
        std::thread::sleep(std::time::Duration::from_secs(3));
        let out = cunxiang()
            .arg("--station")
            .arg(station)
            .args(["play", "警报.wav", "--priority", "emergency"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    });
    let reason = r.row["reason"].as_str().unwrap_or_default();
    assert!(
        reason.starts_with("interrupted_by: 警报.wav; resumed"),
        "the cut is logged: {}",
        r.row
    );
    // The source itself was never lost: played, no source outage.
    assert_eq!(r.row["status"], "played", "{}", r.row);
    assert!(r.source_outages().is_empty(), "{:?}", r.outages);
    // The cut (chime + 1 s file) is lost air.
    let lost = r.f("lost_s");
    assert!((2.0..5.0).contains(&lost), "lost {lost} s: {}", r.row);
    r.adds_up();
    r.ended_on_time();
}

/// The line-in through the real capture path (cpal on ALSA), its sound
/// from an ALSA `type file` device's `infile`: a tone is relayed whole;
/// zeros are digital silence, a `source` outage.
#[test]
fn the_line_in_is_relayed_through_the_real_capture_path() {
    let home = line_in_home();
    let h = home.path().to_str().unwrap().to_string();
    let mut rows = Vec::new();
    for infile in ["tone.raw", "zero.raw"] {
        line_in_from(home.path(), infile);
        rows.push(relay_in("line-in", 8, "", &[], &[("HOME", &h)], |_| {}));
    }
    let (tone, zero) = (&rows[0], &rows[1]);
    assert_eq!(tone.row["status"], "played", "{}\n{}", tone.row, tone.log);
    assert_eq!(tone.row["files"], serde_json::json!(["line-in"]));
    assert!(tone.source_outages().is_empty(), "{:?}", tone.outages);
    assert!(tone.f("relayed_s") > 6.0, "{}", tone.row);
    tone.ended_on_time();
    zero.one_closed_outage("line-in", "digital silence");
    assert_ne!(zero.row["status"], "played", "{}", zero.row);
    assert!(zero.f("lost_s") > 6.0, "{}", zero.row);
    zero.ended_on_time();
}

#[test]
fn a_relay_killed_while_its_source_is_lost_leaves_no_source_outage_open_after_the_restart() {
    let src = nobody_listens();
    let st = TempStation::new();
    st.write("cunxiang.toml", RELAY);
    let (_, hms) = soon(3);
    st.schedule(
        "r.toml",
        &format!("[[broadcast]]\nname = \"转播\"\nrelay = \"{src}\"\nat = [\"{hms}\"]\nduration = \"10m\"\n"),
    );
    let child = spawn(st.path(), "null", &[], &[]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !outages_json(st.path())
        .iter()
        .any(|o| o["kind"] == "source" && o["ended_at"].is_null())
    {
        assert!(
            std::time::Instant::now() < deadline,
            "no source outage opened"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    signal(&child, "KILL");
    let _ = wait_exit(child, 10);
    let child = spawn(st.path(), "null", &[], &[]);
    let rows = poll("the restart", 20, st.path(), |r| {
        r.iter().any(|p| p["status"] == "interrupted")
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let source = loop {
        let o = outages_json(st.path());
        if let Some(s) = o
            .iter()
            .find(|o| o["kind"] == "source" && !o["ended_at"].is_null())
        {
            break s.clone();
        }
        assert!(std::time::Instant::now() < deadline, "still open: {o:?}");
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    signal(&child, "TERM");
    assert!(wait_exit(child, 10).success());
    assert_eq!(source["subject"], src.as_str());
    assert_eq!(rows[0]["status"], "interrupted", "{rows:?}");
}

/// A relay started now from the CLI (`play --relay URL --for`) and from
/// the dashboard's 立即转播 form: each is a manual row that relays its
/// source and ends after its time.
#[test]
fn a_relay_now_from_the_cli_and_from_the_dashboard_form() {
    let st = TempStation::new();
    st.write("cunxiang.toml", RELAY);
    let child = spawn(st.path(), "null", &[], &[]);
    let addr = control_addr(st.path());
    let cli_src = url("/ok.mp3?t=cli");
    let out = cunxiang()
        .arg("--station")
        .arg(st.path())
        .args(["--lang", "en", "play", "--relay", &cli_src, "--for", "5s"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("on air"));
    poll("the CLI's relay", 20, st.path(), |r| {
        r.iter()
            .any(|p| p["files"][0] == cli_src.as_str() && p["status"] == "played")
    });
    // The form, as the page sends it (its CSRF field, same origin).
    let page = ureq::get(format!("http://{addr}/"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    assert!(
        page.contains("id=\"relay-now\""),
        "the 立即转播 form is on the page"
    );
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let form_src = url("/ok.mp3?t=form");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .build()
        .into();
    let answer = agent
        .post(format!("http://{addr}/play"))
        .header("Origin", format!("http://{addr}"))
        .send_form([
            ("relay", form_src.as_str()),
            ("for", "5s"),
            ("priority", "important"),
            ("csrf", csrf.as_str()),
            ("lang", "zh"),
        ])
        .unwrap();
    assert_eq!(answer.status(), 303);
    let to = answer.headers()["location"].to_str().unwrap().to_string();
    assert!(to.contains("ok="), "{to}");
    let rows = poll("the form's relay", 20, st.path(), |r| {
        r.iter()
            .any(|p| p["files"][0] == form_src.as_str() && p["status"] == "played")
    });
    signal(&child, "TERM");
    assert!(wait_exit(child, 10).success());
    for src in [&cli_src, &form_src] {
        let row = rows.iter().find(|p| p["files"][0] == src.as_str()).unwrap();
        assert_eq!(row["trigger"], "manual", "{row}");
        let took = (instant(&row["ended_at"]) - instant(&row["scheduled_at"])).num_milliseconds();
        assert!(
            (4_500..6_000).contains(&took),
            "ends after its time: {took} ms {row}"
        );
        assert!(row["relayed_s"].as_f64().unwrap() > 1.0, "{row}");
    }
    let form_row = rows
        .iter()
        .find(|p| p["files"][0] == form_src.as_str())
        .unwrap();
    assert_eq!(form_row["priority"], "important");
}

#[test]
fn a_stream_that_trickles_is_lost_like_one_that_stalls() {
    // 10 bytes a second from 4 s in: never silent for 2 s, far too slow.
    let src = url("/trickle.mp3?after=4&for=60&t=trickle");
    let r = relay(&src, 12, "", &[], |_| {});
    r.lost_and_back(&src, "too slow", 0.5..6.0);
}

#[test]
fn bytes_that_never_become_sound_are_a_loss_and_the_reader_ends_with_the_slot() {
    // 16 kB/s of bytes with no MP3 frame in them: the decoder gives up,
    // or, at the latest, connect (5 s) and no_data_after (2 s) pass
    // without sound.
    let src = url("/garbage.mp3?t=garbage");
    let r = relay(&src, 10, "", &[], |_| {});
    let o = r.source_outages();
    assert_eq!(o.len(), 1, "{:?}", r.outages);
    let detail = o[0]["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("no sound") || detail.contains("cannot be decoded"),
        "{detail}"
    );
    let opened = (instant(&o[0]["started_at"]) - r.at).num_milliseconds();
    assert!(opened < 9_500, "lost {opened} ms in");
    assert_eq!(r.row["status"], "failed", "{}", r.row);
    r.ended_on_time();
    // The reader let go of the server when the slot ended.
    std::thread::sleep(std::time::Duration::from_secs(1));
    let stats: Value = ureq::get(url("/stats"))
        .call()
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap();
    let conns = stats["/garbage.mp3?t=garbage"].as_array().unwrap();
    assert!(conns.iter().all(|c| !c["closed"].is_null()), "{conns:?}");
}

#[test]
fn a_stream_slower_than_real_time_is_lost_not_played_as_gaps() {
    let src = url("/ok.mp3?rate=0.5&t=slow");
    let r = relay(&src, 14, "", &[], |_| {});
    let o = r.source_outages();
    assert!(!o.is_empty(), "{:?}", r.outages);
    assert!(
        o[0]["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("slower than real time"),
        "{:?}",
        o[0]
    );
    assert_ne!(r.row["status"], "played", "{}", r.row);
    r.adds_up();
    r.ended_on_time();
}

/// `check --sources` tries each relayed source once, now: one that
/// streams says its format, one nobody serves is down (exit 1); plain
/// `check` touches no network (exit 0, no sources).
#[test]
fn check_sources_tries_each_source_once() {
    let st = TempStation::new();
    let (good, dead) = (url("/ok.mp3?t=check"), nobody_listens());
    st.schedule(
        "r.toml",
        &format!(
            "[[broadcast]]\nname = \"好\"\nrelay = \"{good}\"\nat = [\"10:00\"]\nduration = \"5m\"\n\n[[broadcast]]\nname = \"坏\"\nrelay = \"{dead}\"\nat = [\"11:00\"]\nduration = \"5m\"\n"
        ),
    );
    let run = |args: &[&str]| {
        cunxiang()
            .arg("--station")
            .arg(st.path())
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["check", "--sources", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "a source is down");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let by = |s: &str| {
        v["sources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["source"] == s)
            .cloned()
            .unwrap()
    };
    assert_eq!(by(&good)["ok"], true);
    assert!(by(&good)["detail"]
        .as_str()
        .unwrap()
        .contains("44100 Hz, 2 ch"));
    assert_eq!(by(&dead)["ok"], false);
    assert_eq!(by(&dead)["broadcasts"], serde_json::json!(["坏"]));
    let plain = run(&["check", "--format", "json"]);
    assert_eq!(plain.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&plain.stdout).unwrap();
    assert!(v.get("sources").is_none());
}
