//! The HTTP face against the real daemon (injected clock, capture output)
//! listening on `127.0.0.1:0`: every endpoint, the token rule, refused
//! paths, and an emergency insert cutting a routine play.

mod common;

use common::{http, http_json, request, sh, Body, Running, TempStation};
use cunxiang::clock::TestClock;
use cunxiang::store::{Status, Trigger};
use serde_json::json;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_answers_with_json() {
    let st = TempStation::new();
    st.wav("晨.wav", 3.0);
    st.wav("急.wav", 30.0);
    st.schedule(
        "a.toml",
        "[[broadcast]]\nname = \"晨间广播\"\nplay = [\"晨.wav\"]\nat = [\"08:00\"]\n",
    );
    let clock = TestClock::new(sh("2026-12-01 07:59:50"));
    let (d, base) = Running::start_api(st.path(), clock, "127.0.0.1:0", None).await;
    let url = |p: &str| format!("{base}{p}");

    // Status: live, what comes next, in the station's zone.
    let (code, v) = http_json("GET", &url("/api/status"), None, &[]).await;
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["state"], "running");
    assert_eq!(v["live"], true);
    assert_eq!(v["needs_repair"], false);
    assert_eq!(v["now_playing"], serde_json::Value::Null);
    assert_eq!(v["next"][0]["broadcast"], "晨间广播");
    assert_eq!(v["next"][0]["scheduled_at"], "2026-12-01T08:00:00+08:00");
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));

    d.run_for(Duration::from_secs(12)).await;
    d.wait("the 08:00 play", || {
        d.plays().iter().any(|p| p.status == Status::Played)
    })
    .await;

    // The as-run log with the CLI's filters.
    let (code, v) = http_json("GET", &url("/api/plays?since=all"), None, &[]).await;
    assert_eq!(code, 200);
    assert_eq!(v.as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v[0]["broadcast"], "晨间广播");
    assert_eq!(v[0]["status"], "played");
    assert_eq!(v[0]["trigger"], "schedule");
    let (_, v) = http_json("GET", &url("/api/plays?since=all&status=missed"), None, &[]).await;
    assert_eq!(v, json!([]));
    let (code, v) = http_json("GET", &url("/api/plays?since=yesterday-ish"), None, &[]).await;
    assert_eq!(code, 400);
    assert_eq!(v["error"], "bad_request");
    assert!(v["message"].as_str().unwrap().contains("--since"), "{v}");
    let (code, _) = http_json("GET", &url("/api/plays?status=bogus"), None, &[]).await;
    assert_eq!(code, 400);

    // The ledger and the report.
    let (code, v) = http_json("GET", &url("/api/outages"), None, &[]).await;
    assert_eq!((code, v), (200, json!([])));
    let (code, v) = http_json("GET", &url("/api/outages?open=true"), None, &[]).await;
    assert_eq!((code, v), (200, json!([])));
    let (code, v) = http_json("GET", &url("/api/report?from=2026-12-01&days=1"), None, &[]).await;
    assert_eq!(code, 200);
    assert_eq!(v[0]["date"], "2026-12-01");
    assert_eq!(v[0]["planned"], 1);
    assert_eq!(v[0]["played"], 1);
    let (code, _) = http_json("GET", &url("/api/report?from=12/01"), None, &[]).await;
    assert_eq!(code, 400);
    let (code, _) = http_json("GET", &url("/api/report?days=0"), None, &[]).await;
    assert_eq!(code, 400);
    // Far-out values are the client's mistake, not a crash (500).
    for path in [
        "/api/report?from=9999-01-01&days=366",
        "/api/plays?since=99999999999999d",
        "/api/outages?since=99999999999999d",
    ] {
        let (code, v) = http_json("GET", &url(path), None, &[]).await;
        assert_eq!(code, 400, "{path}: {v}");
    }

    // Metrics in the Prometheus text format. The row is final before the
    // live view moves on (the store first): wait for the view, bounded.
    let mut tries = 0;
    let (code, text) = loop {
        let (code, text) = http("GET", &url("/metrics"), None, &[]).await;
        tries += 1;
        if text.contains("cunxiang_playing 0") || tries > 100 {
            break (code, text);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(code, 200);
    assert!(text.contains("\ncunxiang_up 1\n"), "{text}");
    assert!(
        text.contains("cunxiang_plays{status=\"played\"} 1"),
        "{text}"
    );
    assert!(text.contains("cunxiang_playing 0"), "{text}");

    // Unknown paths: JSON errors too.
    let (code, v) = http_json("GET", &url("/nope"), None, &[]).await;
    assert_eq!((code, v["error"].as_str()), (404, Some("not_found")));

    // A manual play of a file: on air at once, logged `manual`; stop cuts it.
    let (code, v) = http_json(
        "POST",
        &url("/api/play"),
        Some(json!({"file": "急.wav"})),
        &[],
    )
    .await;
    assert_eq!(code, 202, "{v}");
    assert_eq!(v["state"], "playing");
    assert_eq!(v["broadcast"], "急.wav");
    assert_eq!(v["trigger"], "manual");
    d.run_for(Duration::from_secs(3)).await;
    let (_, v) = http_json("GET", &url("/api/status"), None, &[]).await;
    assert_eq!(v["now_playing"]["broadcast"], "急.wav", "{v}");
    assert_eq!(v["now_playing"]["trigger"], "manual");
    assert!(
        v["now_playing"]["duration_s"].as_f64().unwrap() > 30.0,
        "{v}"
    );
    assert!(
        v["now_playing"]["position_s"].as_f64().unwrap() > 0.0,
        "{v}"
    );
    assert_eq!(v["state_code"], 5, "broadcasting");
    let (code, v) = http_json("POST", &url("/api/stop"), Some(json!({})), &[]).await;
    assert_eq!((code, v), (200, json!({"stopped": "急.wav"})));
    d.wait("the stopped play logged", || {
        d.plays()
            .iter()
            .any(|p| p.broadcast == "急.wav" && p.status == Status::Partial)
    })
    .await;
    let row = d
        .plays()
        .into_iter()
        .find(|p| p.broadcast == "急.wav")
        .unwrap();
    assert_eq!(row.trigger, Trigger::Manual);
    assert_eq!(row.reason.as_deref(), Some("operator_stop"));
    let (_, v) = http_json("POST", &url("/api/stop"), Some(json!({})), &[]).await;
    assert_eq!(v, json!({"stopped": null}));
    // A POST without a JSON body is refused (a web page cannot send one
    // cross-site without asking first).
    let (code, v) = http_json("POST", &url("/api/stop"), None, &[]).await;
    assert_eq!(
        (code, v["error"].as_str()),
        (400, Some("bad_request")),
        "{v}"
    );
    let (code, v) = http_json("GET", &url("/api/stop"), None, &[]).await;
    assert_eq!(
        (code, v["error"].as_str()),
        (405, Some("method_not_allowed")),
        "{v}"
    );

    // A broadcast by name, with a repeat count of its own.
    let (code, v) = http_json(
        "POST",
        &url("/api/play"),
        Some(json!({"broadcast": "晨间广播", "repeat": 2})),
        &[],
    )
    .await;
    assert_eq!(code, 202, "{v}");
    d.wait("the manual repeat", || {
        d.plays().iter().any(|p| {
            p.broadcast == "晨间广播" && p.trigger == Trigger::Manual && p.status == Status::Played
        })
    })
    .await;
    let cap = d.captured();
    let manual: Vec<_> = cap.iter().filter(|c| c.file.ends_with("晨.wav")).collect();
    assert_eq!(manual.len(), 3, "once scheduled, twice by hand: {cap:?}");

    // Requests it refuses, each with a JSON error.
    for (body, code) in [
        (json!({"broadcast": "没有这个节目"}), 404),
        (json!({"name": "没有这个节目"}), 404),
        (json!({}), 400),
        (json!({"file": "急.wav", "name": "晨间广播"}), 400),
        (json!({"file": "急.wav", "priority": "urgent!"}), 400),
        (json!({"file": "急.wav", "repeat": 0}), 400),
        (json!({"file": "没上传.wav"}), 400),
        (json!({"file": "急.wav", "volume": 2}), 400),
    ] {
        let (c, v) = http_json("POST", &url("/api/play"), Some(body.clone()), &[]).await;
        assert_eq!(c, code, "{body} → {v}");
        assert!(
            v["message"].is_string() && v["message_zh"].is_string(),
            "{v}"
        );
    }
    let a = request(
        "POST",
        &url("/api/play"),
        Body::Form(vec![("file".into(), "急.wav".into())]),
        &[],
    )
    .await;
    assert_eq!(a.status, 400, "not JSON: {}", a.text);
    assert!(a.text.contains("\"error\""), "{}", a.text);

    // Reload reports the errors it found; the last good version stays.
    let (code, v) = http_json("POST", &url("/api/reload"), Some(json!({})), &[]).await;
    assert_eq!((code, v["ok"].as_bool()), (200, Some(true)), "{v}");
    st.schedule(
        "b.toml",
        "[[broadcast]]\nname = \"坏\"\nplay = [\"晨.wav\"]\nat = [\"25:00\"]\n",
    );
    let (_, v) = http_json("POST", &url("/api/reload?lang=en"), Some(json!({})), &[]).await;
    assert_eq!(v["ok"], false, "{v}");
    assert!(v["errors"][0].as_str().unwrap().contains("b.toml:4"), "{v}");
    let (_, v) = http_json("GET", &url("/api/status"), None, &[]).await;
    assert_eq!(v["schedule_errors"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["next"][0]["broadcast"], "晨间广播");
    let (_, text) = http("GET", &url("/metrics"), None, &[]).await;
    assert!(text.contains("cunxiang_schedule_errors 1"), "{text}");
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paths_outside_the_audio_folder_are_refused() {
    let st = TempStation::new();
    st.wav("ok.wav", 1.0);
    // A real, playable file just outside the audio folder, and a link to it.
    st.write("secret.wav", common::wav_bytes(8000, 1.0));
    #[cfg(unix)]
    std::os::unix::fs::symlink(
        st.path().join("secret.wav"),
        st.path().join("audio/link.wav"),
    )
    .unwrap();
    let clock = TestClock::new(sh("2026-12-01 10:00:00"));
    let (d, base) = Running::start_api(st.path(), clock, "127.0.0.1:0", None).await;
    let mut bad = vec![
        json!({"file": "../secret.wav"}),
        json!({"file": "sub/../../secret.wav"}),
        json!({"name": "../secret.wav"}),
        json!({"file": st.path().join("secret.wav").to_str().unwrap()}),
        json!({"file": "/etc/passwd"}),
        json!({"file": "..\\secret.wav"}),
    ];
    if cfg!(unix) {
        bad.push(json!({"file": "link.wav"}));
    }
    for body in bad {
        let (code, v) =
            http_json("POST", &format!("{base}/api/play"), Some(body.clone()), &[]).await;
        assert_eq!(code, 400, "{body} → {v}");
        assert_eq!(v["error"], "bad_request");
    }
    d.run_for(Duration::from_secs(2)).await;
    assert!(d.plays().is_empty(), "nothing was logged: {:?}", d.plays());
    assert!(d.captured().is_empty(), "nothing was played");
    // The same request for a file inside plays.
    let (code, _) = http_json(
        "POST",
        &format!("{base}/api/play"),
        Some(json!({"file": "./ok.wav"})),
        &[],
    )
    .await;
    assert_eq!(code, 202);
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn off_loopback_every_request_needs_the_token() {
    let st = TempStation::new();
    st.wav("ok.wav", 1.0);
    let clock = TestClock::new(sh("2026-12-01 10:00:00"));
    st.write("cunxiang.toml", "[control]\nread_token = \"look\"\n");
    let (d, base) = Running::start_api(st.path(), clock, "0.0.0.0:0", Some("s3cret")).await;
    let url = |p: &str| format!("{base}{p}");
    for path in [
        "/api/status",
        "/api/plays",
        "/api/outages",
        "/api/report",
        "/metrics",
    ] {
        let (code, v) = http_json("GET", &url(path), None, &[]).await;
        assert_eq!(code, 401, "{path}: {v}");
        assert_eq!(v["error"], "unauthorized");
        let (code, _) = http(
            "GET",
            &url(path),
            None,
            &[("Authorization", "Bearer wrong")],
        )
        .await;
        assert_eq!(code, 401, "{path} with a wrong token");
        let (code, _) = http(
            "GET",
            &url(path),
            None,
            &[("Authorization", "Bearer s3cret")],
        )
        .await;
        assert_eq!(code, 200, "{path} with the token");
        let (code, _) = http("GET", &url(path), None, &[("Authorization", "Bearer look")]).await;
        assert_eq!(code, 200, "{path} with the read-only token");
    }
    for path in ["/api/play", "/api/stop", "/api/reload"] {
        let (code, _) = http("POST", &url(path), Some(json!({"file": "ok.wav"})), &[]).await;
        assert_eq!(code, 401, "{path}");
        let (code, _) = http(
            "POST",
            &url(path),
            Some(json!({"file": "ok.wav"})),
            &[("Authorization", "Bearer look")],
        )
        .await;
        assert_eq!(code, 401, "{path}: the read-only token does not open it");
    }
    d.run_for(Duration::from_secs(1)).await;
    assert!(d.plays().is_empty(), "a refused play is not played");

    // The dashboard asks for the token; the login form sets a cookie that
    // then opens it.
    let a = request("GET", &url("/"), Body::None, &[]).await;
    assert_eq!(a.status, 401);
    assert!(a.text.contains("name=\"token\""), "{}", a.text);
    let a = request(
        "POST",
        &url("/login"),
        Body::Form(vec![("token".into(), "wrong".into())]),
        &[],
    )
    .await;
    assert_eq!(a.status, 401);
    let a = request(
        "POST",
        &url("/login"),
        Body::Form(vec![("token".into(), "s3cret".into())]),
        &[],
    )
    .await;
    assert_eq!(a.status, 303);
    let cookie = a.headers["set-cookie"]
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let a = request("GET", &url("/"), Body::None, &[("Cookie", &cookie)]).await;
    assert_eq!(a.status, 200);
    assert!(a.text.contains("id=\"repair-list\""));
    assert_eq!(
        a.headers["x-frame-options"], "DENY",
        "never inside another site's frame"
    );
    assert!(a.headers["content-security-policy"].contains("frame-ancestors 'none'"));
    let csrf = a
        .text
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();

    // The dashboard's insert form: refused without the token or without
    // the page's CSRF field, played with both.
    let form = |token: &str, csrf: &str| {
        Body::Form(vec![
            ("name".into(), "ok.wav".into()),
            ("priority".into(), "emergency".into()),
            ("token".into(), token.into()),
            ("csrf".into(), csrf.into()),
        ])
    };
    let a = request("POST", &url("/play"), form("nope", &csrf), &[]).await;
    assert_eq!(a.status, 303);
    assert!(
        a.headers["location"].contains("err=token"),
        "{:?}",
        a.headers
    );
    let a = request("POST", &url("/play"), form("look", &csrf), &[]).await;
    assert!(
        a.headers["location"].contains("err=token"),
        "read-only: {:?}",
        a.headers
    );
    let a = request("POST", &url("/play"), form("s3cret", "forged"), &[]).await;
    assert_eq!(a.status, 403, "no CSRF field, no play");
    let a = request("POST", &url("/play"), form("s3cret", &csrf), &[]).await;
    assert_eq!(a.status, 303);
    assert!(
        a.headers["location"].contains("ok=played"),
        "{:?}",
        a.headers
    );
    // The page says what happened, in a fixed sentence: a link cannot put
    // its own words on it.
    let a = request(
        "GET",
        &url(&a.headers["location"]),
        Body::None,
        &[("Cookie", &cookie)],
    )
    .await;
    assert!(a.text.contains("已插播「ok.wav」"), "{}", a.text);
    let a = request(
        "GET",
        &url("/?err=%E5%8F%A3%E4%BB%A4%E5%B7%B2%E6%9B%B4%E6%8D%A2"),
        Body::None,
        &[("Cookie", &cookie)],
    )
    .await;
    assert!(!a.text.contains("口令已更换"), "free text is not shown");
    d.wait("the form's play", || {
        d.plays()
            .iter()
            .any(|p| p.broadcast == "ok.wav" && p.trigger == Trigger::Manual)
    })
    .await;
    // A form posted from another web site is refused even with the cookie.
    let a = request(
        "POST",
        &url("/play"),
        form("", &csrf),
        &[("Cookie", &cookie), ("Origin", "http://evil.example")],
    )
    .await;
    assert_eq!(a.status, 403);
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_emergency_insert_cuts_a_routine_play_which_then_resumes() {
    let st = TempStation::new();
    st.wav("新闻.wav", 20.0);
    st.wav("警报.wav", 4.0);
    st.schedule(
        "a.toml",
        "[[broadcast]]\nname = \"日常新闻\"\nplay = [\"新闻.wav\"]\nat = [\"08:00\"]\nchime = false\n",
    );
    let clock = TestClock::new(sh("2026-12-01 07:59:58"));
    let (d, base) = Running::start_api(st.path(), clock, "127.0.0.1:0", None).await;
    d.run_for(Duration::from_secs(3)).await;
    d.wait("the routine play on air", || !d.captured().is_empty())
        .await;
    d.run_for(Duration::from_secs(2)).await;

    let (code, v) = http_json(
        "POST",
        &format!("{base}/api/play"),
        Some(json!({"file": "警报.wav", "priority": "emergency"})),
        &[],
    )
    .await;
    assert_eq!(code, 202, "{v}");
    assert_eq!(v["state"], "interrupting", "{v}");
    // While the emergency plays, the routine play is logged partial.
    d.wait("the emergency on air", || {
        d.captured().iter().any(|c| c.file.ends_with("警报.wav"))
    })
    .await;
    let routine = d
        .plays()
        .into_iter()
        .find(|p| p.broadcast == "日常新闻")
        .unwrap();
    assert_eq!(routine.status, Status::Partial);
    assert_eq!(routine.reason.as_deref(), Some("interrupted_by: 警报.wav"));

    d.wait("the routine play resumed to its end", || {
        d.plays()
            .iter()
            .any(|p| p.broadcast == "日常新闻" && p.status == Status::Played)
    })
    .await;
    let plays = d.plays();
    let em = plays.iter().find(|p| p.broadcast == "警报.wav").unwrap();
    assert_eq!(em.status, Status::Played);
    assert_eq!(em.trigger, Trigger::Manual);
    assert_eq!(em.priority, "emergency");
    let routine = plays.iter().find(|p| p.broadcast == "日常新闻").unwrap();
    assert_eq!(
        routine.reason.as_deref(),
        Some("interrupted_by: 警报.wav; resumed")
    );
    // On air: the routine file (cut), the chime and the alarm, the routine
    // file again from the cut item.
    let files: Vec<String> = d
        .captured()
        .iter()
        .map(|c| format!("{}:{}", c.kind, c.file.rsplit('/').next().unwrap()))
        .collect();
    assert_eq!(
        files,
        [
            "content:新闻.wav",
            "chime:(builtin chime)",
            "content:警报.wav",
            "content:新闻.wav"
        ],
        "{files:?}"
    );
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_play_past_its_window_stays_partial_and_a_queued_one_is_missed() {
    let st = TempStation::new();
    st.wav("新闻.wav", 20.0);
    st.wav("天气.wav", 2.0);
    st.wav("警报.wav", 12.0);
    st.schedule(
        "a.toml",
        "[[broadcast]]\nname = \"日常新闻\"\nplay = [\"新闻.wav\"]\nat = [\"08:00\"]\nchime = false\ncatch_up = \"5s\"\n\n\
         [[broadcast]]\nname = \"天气\"\nplay = [\"天气.wav\"]\nat = [\"08:00:04\"]\nchime = false\ncatch_up = \"5s\"\n",
    );
    let clock = TestClock::new(sh("2026-12-01 07:59:58"));
    let (d, base) = Running::start_api(st.path(), clock, "127.0.0.1:0", None).await;
    d.run_for(Duration::from_secs(3)).await;
    d.wait("the routine play on air", || !d.captured().is_empty())
        .await;
    let (code, _) = http_json(
        "POST",
        &format!("{base}/api/play"),
        Some(json!({"file": "警报.wav", "priority": "emergency"})),
        &[],
    )
    .await;
    assert_eq!(code, 202);
    d.run_for(Duration::from_secs(20)).await;
    d.wait("the emergency played and the weather decided", || {
        let p = d.plays();
        p.iter()
            .any(|p| p.broadcast == "警报.wav" && p.status == Status::Played)
            && p.iter()
                .any(|p| p.broadcast == "天气" && p.status != Status::Playing)
    })
    .await;
    let plays = d.plays();
    let routine = plays.iter().find(|p| p.broadcast == "日常新闻").unwrap();
    assert_eq!(routine.status, Status::Partial, "{plays:?}");
    assert_eq!(routine.reason.as_deref(), Some("interrupted_by: 警报.wav"));
    let weather = plays.iter().find(|p| p.broadcast == "天气").unwrap();
    assert_eq!(weather.status, Status::Missed, "{plays:?}");
    assert_eq!(weather.reason.as_deref(), Some("busy: 警报.wav"));
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_token_only_this_computer_may_ask() {
    let st = TempStation::new();
    st.wav("ok.wav", 1.0);
    let clock = TestClock::new(sh("2026-12-01 10:00:00"));
    let (d, base) = Running::start_api(st.path(), clock, "127.0.0.1:0", None).await;
    // A web page whose name was re-pointed at 127.0.0.1 (DNS rebinding)
    // sends its own name as Host: refused, for reading and for playing.
    let evil = [("Host", "evil.example:7878")];
    let (code, v) = http_json("GET", &format!("{base}/api/status"), None, &evil).await;
    assert_eq!((code, v["error"].as_str()), (403, Some("bad_host")), "{v}");
    let (code, _) = http(
        "POST",
        &format!("{base}/api/play"),
        Some(json!({"file": "ok.wav", "priority": "emergency"})),
        &evil,
    )
    .await;
    assert_eq!(code, 403);
    for host in ["localhost:7878", "127.0.0.1"] {
        let (code, _) = http(
            "GET",
            &format!("{base}/api/status"),
            None,
            &[("Host", host)],
        )
        .await;
        assert_eq!(code, 200, "{host}");
    }
    d.run_for(Duration::from_secs(1)).await;
    assert!(d.plays().is_empty());
    d.stop().await;

    // The daemon itself never serves beyond loopback without a token, even
    // when handed such a listener.
    let st = TempStation::new();
    let clock = TestClock::new(sh("2026-12-01 10:00:00"));
    let (d, base) = Running::start_api(st.path(), clock, "0.0.0.0:0", None).await;
    let port = base.rsplit(':').next().unwrap().to_string();
    assert!(
        std::net::TcpStream::connect(format!("127.0.0.1:{port}")).is_err(),
        "nothing listens"
    );
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_manual_play_is_missed_when_its_window_passes() {
    let st = TempStation::new();
    st.write("cunxiang.toml", "catch_up = \"3s\"\n");
    st.wav("新闻.wav", 20.0);
    st.wav("寻物.wav", 2.0);
    st.schedule(
        "a.toml",
        "[[broadcast]]\nname = \"日常新闻\"\nplay = [\"新闻.wav\"]\nat = [\"08:00\"]\nchime = false\npriority = \"important\"\n",
    );
    let clock = TestClock::new(sh("2026-12-01 07:59:58"));
    let (d, base) = Running::start_api(st.path(), clock, "127.0.0.1:0", None).await;
    d.run_for(Duration::from_secs(3)).await;
    d.wait("the routine play on air", || !d.captured().is_empty())
        .await;
    let (code, v) = http_json(
        "POST",
        &format!("{base}/api/play"),
        Some(json!({"file": "寻物.wav"})),
        &[],
    )
    .await;
    assert_eq!((code, v["state"].as_str()), (202, Some("queued")), "{v}");
    let (_, s) = http_json("GET", &format!("{base}/api/status"), None, &[]).await;
    assert_eq!(s["queued"][0]["broadcast"], "寻物.wav", "{s}");
    d.run_for(Duration::from_secs(6)).await;
    d.wait("the queued manual play decided", || {
        d.plays().iter().any(|p| p.broadcast == "寻物.wav")
    })
    .await;
    let row = d
        .plays()
        .into_iter()
        .find(|p| p.broadcast == "寻物.wav")
        .unwrap();
    assert_eq!(row.status, Status::Missed);
    assert_eq!(row.trigger, Trigger::Manual);
    assert_eq!(row.reason.as_deref(), Some("busy: 日常新闻"));
    d.stop().await;
}
