//! The operator's page edits schedule files, through the real binary:
//! pause and enable a broadcast (comments kept, the running daemon
//! reloads), a stale page and a file outside the schedules folder are
//! refused, a new broadcast is appended and goes on air, a broken file's
//! error shows with its file:line.
#![cfg(target_os = "linux")]

mod common;

use common::{Daemon, TempStation};
use std::time::{Duration, Instant};

/// A local time `mins` from now (Asia/Shanghai, the default zone).
fn hm(mins: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::minutes(mins))
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%H:%M")
        .to_string()
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into()
}

fn get(url: &str) -> String {
    agent()
        .get(url)
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap()
}

/// Posts a form; the redirect's location.
fn post(url: &str, form: &[(&str, &str)]) -> String {
    let r = agent().post(url).send_form(form.iter().copied()).unwrap();
    assert_eq!(r.status(), 303, "{url} {form:?}");
    r.headers()["location"].to_str().unwrap().to_string()
}

/// The value of the first `name="field" value="…"` after `from` in a page.
fn value_after(html: &str, from: &str, field: &str) -> String {
    let rest = &html[html
        .find(from)
        .unwrap_or_else(|| panic!("{from} not in page"))..];
    let key = format!("name=\"{field}\" value=\"");
    let v = &rest[rest.find(&key).unwrap() + key.len()..];
    v[..v.find('"').unwrap()].to_string()
}

/// The names of the next firings the running daemon has on air.
fn next_names(base: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(&get(&format!("{base}/api/status"))).unwrap();
    v["next"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["broadcast"].as_str().unwrap().to_string())
        .collect()
}

fn wait(d: &Daemon, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !cond() {
        assert!(
            Instant::now() < deadline,
            "timed out: {what}\n{}",
            d.stderr()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn the_page_pauses_enables_and_adds_broadcasts_in_the_files() {
    let st = TempStation::new();
    st.wav("news.wav", 1.0);
    let main = format!(
        "# 本村节目单\n\n[[broadcast]]  # 早上\nname = \"晨间新闻\"   # 名字\nplay = [\"news.wav\"]\nat = [\"{}\"]\n# 表内注释\n\n# 第二条\n[[broadcast]]\nname = \"音乐\"\nplay = [\"news.wav\"]\nat = [\"{}\"]\n",
        hm(120),
        hm(125)
    );
    let path = st.schedule("main.toml", &main);
    st.schedule(
        "broken.toml",
        "# 坏的\n[[broadcast]]\nname = \"坏\"\nat = [\"25:00\"]\nplay = [\"news.wav\"]\n",
    );
    let d = Daemon::start(st.path(), &["--output", "null"]);
    let base = format!("http://{}", d.address("var"));
    wait(&d, "the broadcast on air", || {
        next_names(&base).contains(&"晨间新闻".to_string())
    });

    // The page: the broken file's error with file:line, the rows, forms.
    let page = get(&format!("{base}/manage"));
    assert!(page.contains("schedules/broken.toml:4"), "{page}");
    assert!(page.contains("id=\"week\"") && page.contains("class=\"day today\""));
    assert!(page.contains("data-name=\"晨间新闻\""));
    let row = "data-name=\"晨间新闻\"";
    let csrf = value_after(&page, "", "csrf");
    let version = value_after(&page, row, "version");
    let index = value_after(&page, row, "index");
    assert_eq!(index, "0");
    let toggle = |on: &str, version: &str, file: &str| {
        post(
            &format!("{base}/schedule/enabled"),
            &[
                ("file", file),
                ("index", "0"),
                ("name", "晨间新闻"),
                ("enabled", on),
                ("version", version),
                ("csrf", &csrf),
                ("lang", "zh"),
            ],
        )
    };

    // Pause: the file has `enabled = false`, every comment where it was,
    // and the daemon takes it off air.
    let loc = toggle("false", &version, "schedules/main.toml");
    assert!(
        loc.starts_with("/manage?") && loc.contains("ok=paused"),
        "{loc}"
    );
    let paused = std::fs::read_to_string(&path).unwrap();
    let at = format!("at = [\"{}\"]\n# 表内注释", hm(120));
    let at = if main.contains(&at) {
        at
    } else {
        panic!("minute turned; rerun")
    };
    assert_eq!(
        paused,
        main.replacen(&at, &at.replace("\n#", "\nenabled = false\n#"), 1)
    );
    assert!(get(&format!("{base}{loc}")).contains("已暂停「晨间新闻」"));
    wait(&d, "the paused broadcast off air", || {
        !next_names(&base).contains(&"晨间新闻".to_string())
    });

    // The page as it was is stale now: refused, the file unchanged.
    let loc = toggle("true", &version, "schedules/main.toml");
    assert!(loc.contains("err=stale"), "{loc}");
    assert!(get(&format!("{base}{loc}")).contains("请刷新页面再试"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), paused);

    // Outside the schedules folder: refused, nothing written.
    for file in [
        "../cunxiang.toml",
        "schedules/../cunxiang.toml",
        "cunxiang.toml",
    ] {
        let loc = toggle("false", &version, file);
        assert!(loc.contains("err=nofile"), "{file}: {loc}");
    }
    assert!(!st.path().join("cunxiang.toml").exists());

    // Enable again from a fresh page.
    let page = get(&format!("{base}/manage"));
    assert!(page.contains("已暂停"));
    let version = value_after(&page, row, "version");
    let loc = toggle("true", &version, "schedules/main.toml");
    assert!(loc.contains("ok=enabled"), "{loc}");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        paused.replace("enabled = false", "enabled = true")
    );
    wait(&d, "the enabled broadcast back on air", || {
        next_names(&base).contains(&"晨间新闻".to_string())
    });

    // Add: appended to the file, on air after the reload.
    let times = format!("{}，{}", hm(130), hm(135));
    let add = |file: &str, name: &str, play: &str, at: &str| {
        post(
            &format!("{base}/schedule/add"),
            &[
                ("file", file),
                ("new_file", "新通知.toml"),
                ("name", name),
                ("play", play),
                ("at", at),
                ("days", "每天"),
                ("priority", "emergency"),
                ("csrf", &csrf),
                ("lang", "en"),
            ],
        )
    };
    let loc = add("schedules/main.toml", "午间通知", "news.wav", &times);
    assert!(loc.contains("ok=added"), "{loc}");
    let added = std::fs::read_to_string(&path).unwrap();
    assert!(added.starts_with(&paused.replace("enabled = false", "enabled = true")));
    assert!(added.ends_with(&format!(
        "\n[[broadcast]]\nname = \"午间通知\"\nplay = [\"news.wav\"]\nat = [\"{}\", \"{}\"]\npriority = \"emergency\"\n",
        hm(130),
        hm(135)
    )));
    wait(&d, "the added broadcast on air", || {
        next_names(&base).contains(&"午间通知".to_string())
    });

    // Refusals say which field is wrong, in the page's language.
    let loc = add("schedules/main.toml", "x", "nope.wav", &times);
    assert!(loc.contains("err=noaudio"), "{loc}");
    assert!(get(&format!("{base}{loc}"))
        .contains("There is no &quot;nope.wav&quot; in the audio folder"));
    assert!(add("schedules/main.toml", "x", "news.wav", "7:5").contains("err=badtime"));
    assert!(add("schedules/main.toml", "午间通知", "news.wav", "07:00").contains("err=dupname"));
    assert!(add("../x.toml", "x", "news.wav", "07:00").contains("err=nofile"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), added);

    // A new file in the schedules folder.
    let loc = add("", "晚间通知", "news.wav", &hm(140));
    assert!(loc.contains("ok=added"), "{loc}");
    let new = std::fs::read_to_string(st.path().join("schedules/新通知.toml")).unwrap();
    assert!(
        new.starts_with("[[broadcast]]\nname = \"晚间通知\""),
        "{new}"
    );
    wait(&d, "the new file's broadcast on air", || {
        next_names(&base).contains(&"晚间通知".to_string())
    });
    d.stop(20);
}
