//! The operator's page through the real binary in Debian's headless
//! Chromium, as a village operator uses it: upload a file and find it in
//! the library, play it now and see it in 最近播出, type a notice and have
//! it read aloud, pause a broadcast and see its schedule file change with
//! its comments intact. Saves screenshots of the page's parts under
//! `target/` (`operator-*.png`) for README.
#![cfg(target_os = "linux")]

#[path = "common/cdp.rs"]
mod cdp;
mod common;

use cdp::Browser;
use common::{Daemon, TempStation};
use serde_json::json;
use std::path::PathBuf;

const SCHEDULE: &str = "# 早间节目：村委会每天早上的新闻（这行注释要留着）\n\
[[broadcast]]\n\
name = \"晨间新闻\"   # 行内注释也要留着\n\
play = [\"晨间新闻.wav\"]\n\
at = [\"06:30\"]\n\
\n\
# 晚间通知\n\
[[broadcast]]\n\
name = \"晚间通知\"\n\
play = [\"晨间新闻.wav\"]\n\
at = [\"19:00\"]\n";

fn shot(b: &mut Browser, name: &str, width: u32, height: u32, mobile: bool) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("..");
    b.screenshot(&dir.join(name), width, height, mobile, true);
}

/// The visible text of `selector`'s first match ("" when none).
fn text(b: &mut Browser, selector: &str) -> String {
    b.eval(&format!(
        "(function(){{var e=document.querySelector({});return e?e.innerText:''}})()",
        json!(selector)
    ))
    .as_str()
    .unwrap_or_default()
    .to_string()
}

/// Reloads the status page until its recent plays show `name` played.
fn wait_played(b: &mut Browser, base: &str, name: &str) {
    let check = format!(
        "Array.from(document.querySelectorAll('#recent tr')).some(function(r){{return r.innerText.indexOf({})>=0 && r.querySelector('.s-played')}})",
        json!(name)
    );
    for _ in 0..60 {
        b.goto(&format!("{base}/"));
        if b.eval(&check) == serde_json::Value::Bool(true) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    panic!(
        "{name} never shown played in 最近播出:\n{}",
        text(b, "#recent")
    );
}

#[test]
fn an_operator_uploads_plays_says_and_pauses_from_the_page() {
    let st = TempStation::new();
    st.wav("晨间新闻.wav", 1.0);
    st.schedule("news.toml", SCHEDULE);
    let d = Daemon::start(st.path(), &["--output", "null"]);
    let base = format!("http://{}", d.address("var"));
    let mut b = Browser::launch();

    // The page, on a laptop and on a phone: nothing sticks out sideways.
    b.goto(&format!("{base}/manage"));
    shot(&mut b, "operator.png", 1366, 768, false);
    b.call(
        "Emulation.setDeviceMetricsOverride",
        json!({ "width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": true }),
    );
    assert!(b.overflow_x() <= 0, "the page is wider than a phone");
    b.call("Emulation.clearDeviceMetricsOverride", json!({}));
    shot(&mut b, "operator-phone.png", 390, 844, true);

    // Upload a recording made elsewhere: it lands under audio/ with its
    // Chinese name, and the library lists it with its length.
    let upload = tempfile::tempdir().unwrap();
    let file = upload.path().join("村委会通知.wav");
    std::fs::write(&file, common::wav_bytes(22_050, 2.0)).unwrap();
    b.set_file("form#upload input[type=file]", &file);
    b.leave_with("document.querySelector('form#upload button[type=submit]').click()");
    let flash = text(&mut b, "#flash");
    assert!(
        flash.contains("村委会通知.wav"),
        "{flash}\n{}\n{}",
        b.eval("location.href"),
        text(&mut b, "body")
    );
    assert!(st.path().join("audio/村委会通知.wav").is_file());
    let row = "tr.audio[data-name=\"村委会通知.wav\"]";
    let listed = text(&mut b, row);
    assert!(
        listed.contains("0:02"),
        "its length in the library: {listed}"
    );
    shot(&mut b, "operator-upload.png", 1366, 768, false);

    // Search as you type: the other file's row hides.
    b.eval("var s=document.querySelector('#library-search');s.value='村委';s.dispatchEvent(new Event('input'))");
    let hidden = b.eval(
        "document.querySelector('tr.audio[data-name=\"晨间新闻.wav\"]').offsetParent === null",
    );
    assert_eq!(hidden, json!(true), "the search leaves other files shown");
    assert_eq!(
        b.eval(&format!(
            "document.querySelector({}).offsetParent !== null",
            json!(row)
        )),
        json!(true)
    );

    // Play it now from the library: it airs and shows in 最近播出.
    b.leave_with(&format!(
        "document.querySelector({}).click()",
        json!(format!("{row} button.play-now"))
    ));
    wait_played(&mut b, &base, "村委会通知.wav");

    // A typed notice, read aloud and aired.
    b.goto(&format!("{base}/manage"));
    b.eval("document.querySelector('form#say textarea[name=say]').value='今晚8点停水，请各户提前储水。'");
    b.eval("document.querySelector('form#say input[name=repeat]').value='1'");
    b.leave_with("document.querySelector('form#say button[type=submit]').click()");
    let flash = text(&mut b, "#flash");
    assert!(flash.contains("文字广播"), "{flash}");
    shot(&mut b, "operator-notice.png", 1366, 768, false);
    wait_played(&mut b, &base, "文字广播：今晚8点停水");
    let rendered = std::fs::read_dir(st.path().join("var/speech"))
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "wav"))
                .count()
        })
        .unwrap_or(0);
    assert!(
        rendered >= 1,
        "the notice was rendered into the data folder"
    );

    // Pause a broadcast: its file says so, comments intact, and the page
    // shows it paused.
    b.goto(&format!("{base}/manage"));
    let toggle = "tr.broadcast[data-name=\"晨间新闻\"] button.toggle";
    assert!(text(&mut b, toggle).contains("暂停"));
    b.leave_with(&format!(
        "document.querySelector({}).click()",
        json!(toggle)
    ));
    let after = std::fs::read_to_string(st.path().join("schedules/news.toml")).unwrap();
    assert!(after.contains("enabled = false"), "{after}");
    for line in SCHEDULE.lines().filter(|l| l.contains('#')) {
        assert!(after.contains(line), "comment line lost: {line}\n{after}");
    }
    assert!(text(&mut b, "tr.broadcast[data-name=\"晨间新闻\"]").contains("已暂停"));
    shot(&mut b, "operator-schedules.png", 1366, 768, false);
    d.stop(20);
}
