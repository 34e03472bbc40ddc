//! The engine against the real espeak-ng: the voice reads Chinese, a notice
//! is spoken audibly and plausibly long, the cache, and every refusal.
//! Tests that need espeak-ng fail (not skip) when it is missing.

use super::*;
use crate::i18n::Lang;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// A 40-character notice, as an operator would paste it.
const NOTICE: &str = "各位村民请注意：今晚8点至10点全村停水，请各户提前储水。咨询电话12345。";

/// A notice of 100 Chinese characters (and 12 punctuation marks), for the
/// benchmark.
const NOTICE_100: &str = "各位村民请注意，因县自来水厂主管道检修，本村将于明天上午八点至下午五点全村停水。请各家各户提前储备生活用水，关好水龙头，防止来水时跑水漏水。停水期间如有困难，请及时与村委会联系。感谢大家的理解和支持！特此通知，村民委员会。";

fn need_espeak() {
    let ok = Command::new("espeak-ng").arg("--version").output().is_ok();
    assert!(
        ok,
        "espeak-ng is not installed: apt-get install espeak-ng (./dev test installs it)"
    );
}

fn phonemes(voice: &str, text: &str) -> String {
    need_espeak();
    let out = Command::new("espeak-ng")
        .args(["-v", voice, "-x", "-q", text])
        .output()
        .expect("espeak-ng runs");
    assert!(out.status.success(), "espeak-ng -v {voice}: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_default_voice_reads_chinese_in_mandarin_not_as_latin() {
    let text = "今晚停水，请各户提前储水。";
    let default = phonemes(&Voice::default().voice, text);
    assert!(
        !default.contains("(en)"),
        "default voice switches to English: {default}"
    );
    assert!(
        default.contains("55") || default.contains("35"),
        "no Mandarin tones: {default}"
    );
    // The test can tell the voices apart: plain `cmn` reads them as English.
    let plain = phonemes("cmn", text);
    assert!(
        plain.contains("(en)"),
        "plain cmn should read Latin: {plain}"
    );
}

#[test]
fn engine_ready_knows_a_missing_program_and_a_missing_voice() {
    need_espeak();
    assert_eq!(engine_ready(&Voice::default()), Ok(()));
    let no_voice = Voice {
        voice: "xx-no-such-voice".into(),
        ..Voice::default()
    };
    assert_eq!(
        engine_ready(&no_voice),
        Err(SpeechError::VoiceMissing {
            voice: "xx-no-such-voice".into()
        })
    );
    let gone = Voice {
        engine: "/nonexistent/espeak-ng".into(),
        ..Voice::default()
    };
    let missing = SpeechError::EngineMissing {
        program: "/nonexistent/espeak-ng".into(),
    };
    assert_eq!(engine_ready(&gone), Err(missing.clone()));
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(render(&gone, NOTICE, dir.path()), Err(missing.clone()));
    let zh = missing.to_msg().render(Lang::Zh);
    assert!(
        zh.contains("apt-get install espeak-ng") && zh.contains("朗读程序"),
        "{zh}"
    );
    let en = missing.to_msg().render(Lang::En);
    assert!(en.contains("apt-get install espeak-ng"), "{en}");
}

#[test]
fn empty_and_overlong_notices_are_refused_before_the_engine_runs() {
    let dir = tempfile::tempdir().unwrap();
    // A missing engine proves nothing ran.
    let gone = Voice {
        engine: "/nonexistent/espeak-ng".into(),
        ..Voice::default()
    };
    assert_eq!(
        render(&gone, " \n\t　", dir.path()),
        Err(SpeechError::Empty)
    );
    let long = "停".repeat(5000);
    assert_eq!(
        render(&gone, &long, dir.path()),
        Err(SpeechError::TooLong {
            chars: 5000,
            max: MAX_NOTICE_CHARS
        })
    );
    let ok_length = "停".repeat(MAX_NOTICE_CHARS);
    assert!(matches!(
        render(&gone, &ok_length, dir.path()),
        Err(SpeechError::EngineMissing { .. })
    ));
    let zh = SpeechError::TooLong {
        chars: 5000,
        max: 1000,
    }
    .to_msg()
    .render(Lang::Zh);
    assert!(zh.contains("5000") && zh.contains("1000"), "{zh}");
}

#[test]
fn a_notice_is_spoken_audibly_and_about_as_long_as_it_reads() {
    need_espeak();
    let dir = tempfile::tempdir().unwrap();
    let r = render(&Voice::default(), NOTICE, dir.path()).expect("renders");
    assert!(!r.cached);
    assert!(r.path.starts_with(dir.path()) && r.path.exists());
    // espeak-ng 1.51 at the default speed (150) measured 0.33 s a
    // character, punctuation pauses included.
    let chars = NOTICE.chars().count() as f64;
    let per_char = r.duration.as_secs_f64() / chars;
    assert!(
        (0.15..=0.5).contains(&per_char),
        "{:.2}s for {chars} characters ({per_char:.3} s each)",
        r.duration.as_secs_f64()
    );
    let (samples, rate) = decode(&r.path);
    let decoded = samples.len() as f64 / f64::from(rate.max(1));
    assert!(
        (decoded - r.duration.as_secs_f64()).abs() < 0.1,
        "{decoded} vs {:?}",
        r.duration
    );
    let dbfs = rms_dbfs(&samples);
    assert!(dbfs > -40.0, "nearly silent: {dbfs:.1} dBFS");
    // Nothing but the notice is left in the folder: no temporary file.
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(names.len(), 1, "{names:?}");
}

#[test]
fn the_same_notice_comes_from_the_cache_and_another_speed_does_not() {
    need_espeak();
    let dir = tempfile::tempdir().unwrap();
    let v = Voice::default();
    let first = render(&v, NOTICE, dir.path()).expect("renders");
    let again = render(&v, &format!("  {NOTICE}\n"), dir.path()).expect("renders");
    assert!(again.cached && again.path == first.path && again.duration == first.duration);
    let faster = Voice {
        rate: 200,
        ..v.clone()
    };
    let fast = render(&faster, NOTICE, dir.path()).expect("renders");
    assert!(!fast.cached && fast.path != first.path);
    assert!(
        fast.duration < first.duration,
        "{:?} vs {:?}",
        fast.duration,
        first.duration
    );
    // A broken cached file is spoken again, not played.
    std::fs::write(&first.path, b"not a wav").unwrap();
    let mended = render(&v, NOTICE, dir.path()).expect("renders");
    assert!(!mended.cached && mended.duration == first.duration);
}

#[test]
fn volume_scales_the_sound() {
    need_espeak();
    let dir = tempfile::tempdir().unwrap();
    let loud = render(&Voice::default(), "请注意", dir.path()).unwrap();
    let quiet = Voice {
        volume: 0.25,
        ..Voice::default()
    };
    let soft = render(&quiet, "请注意", dir.path()).unwrap();
    let (a, b) = (
        rms_dbfs(&decode(&loud.path).0),
        rms_dbfs(&decode(&soft.path).0),
    );
    assert!(a - b > 6.0, "loud {a:.1} dBFS, quiet {b:.1} dBFS");
}

#[test]
fn the_operator_is_told_how_to_install_the_engine() {
    let m = SpeechError::EngineMissing {
        program: "espeak-ng".into(),
    }
    .to_msg();
    insta::assert_snapshot!(m.render(Lang::Zh), @"没有找到朗读程序 espeak-ng：请安装 apt-get install espeak-ng（Windows 上请安装 eSpeak NG 并确认程序路径）");
    insta::assert_snapshot!(m.render(Lang::En), @"the text-to-speech program espeak-ng is missing: apt-get install espeak-ng (on Windows, install eSpeak NG and check the program's path)");
}

/// A stand-in for espeak-ng: answers `--version`, runs `body` otherwise.
#[cfg(unix)]
fn fake_engine(dir: &Path, body: &str) -> Voice {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("fake-espeak");
    let script = format!(
        "#!/bin/sh\ncat >/dev/null\nif [ \"$1\" = --version ]; then echo 'fake 1.0'; exit 0; fi\n{body}\n"
    );
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    Voice {
        engine: path,
        ..Voice::default()
    }
}

#[cfg(unix)]
#[test]
fn a_failing_engine_or_a_broken_file_is_an_error_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let failing = fake_engine(dir.path(), "echo 'oops: broken' >&2; exit 3");
    match render(&failing, NOTICE, &cache) {
        Err(SpeechError::Failed { status, stderr }) => {
            assert!(
                status.contains('3') && stderr == "oops: broken",
                "{status} {stderr}"
            );
        }
        other => panic!("{other:?}"),
    }
    let garbage = fake_engine(
        dir.path(),
        r#"while [ $# -gt 0 ]; do [ "$1" = -w ] && echo 'not a wav' > "$2"; shift; done"#,
    );
    assert!(matches!(
        render(&garbage, NOTICE, &cache),
        Err(SpeechError::BadOutput(_))
    ));
    let left: Vec<_> = std::fs::read_dir(&cache).unwrap().collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");
    let zh = SpeechError::Failed {
        status: "exit status: 3".into(),
        stderr: "oops".into(),
    }
    .to_msg()
    .render(Lang::Zh);
    assert!(zh.contains("oops") && zh.contains("再试"), "{zh}");
}

/// Median of 5 uncached renders of a 100-character notice, and the
/// real-time factor. `cargo test --release --lib -- --ignored bench_render --nocapture`
#[test]
#[ignore]
fn bench_render_100_chars() {
    need_espeak();
    let hanzi = NOTICE_100
        .chars()
        .filter(|c| ('\u{4E00}'..='\u{9FFF}').contains(c));
    assert_eq!(hanzi.count(), 100);
    let mut times = Vec::new();
    let mut audio = 0.0;
    for _ in 0..5 {
        let dir = tempfile::tempdir().unwrap();
        let t = Instant::now();
        let r = render(&Voice::default(), NOTICE_100, dir.path()).expect("renders");
        times.push(t.elapsed().as_secs_f64());
        assert!(!r.cached);
        audio = r.duration.as_secs_f64();
    }
    times.sort_by(f64::total_cmp);
    let median = times[2];
    println!(
        "bench_render_100_chars: median {median:.3} s of 5 (min {:.3}, max {:.3}), audio {audio:.2} s, RTF {:.4}",
        times[0],
        times[4],
        median / audio
    );
}

/// Every sample of a file, as f32, and its rate.
fn decode(path: &Path) -> (Vec<f32>, u32) {
    use symphonia::core::audio::SampleBuffer;
    use symphonia::core::codecs::DecoderOptions;
    use symphonia::core::io::MediaSourceStream;
    let file = std::fs::File::open(path).unwrap();
    let mss = MediaSourceStream::new(Box::new(file), Default::default());
    let probed = symphonia::default::get_probe()
        .format(
            &Default::default(),
            mss,
            &Default::default(),
            &Default::default(),
        )
        .unwrap();
    let mut format = probed.format;
    let track = format.default_track().unwrap().clone();
    let mut dec = symphonia::default::get_codecs()
        .make(&track.codec_params, &DecoderOptions::default())
        .unwrap();
    let mut out = Vec::new();
    while let Ok(packet) = format.next_packet() {
        let buf = dec.decode(&packet).unwrap();
        let mut s = SampleBuffer::<f32>::new(buf.capacity() as u64, *buf.spec());
        s.copy_interleaved_ref(buf);
        out.extend_from_slice(s.samples());
    }
    (out, track.codec_params.sample_rate.unwrap_or(0))
}

fn rms_dbfs(samples: &[f32]) -> f64 {
    let sum: f64 = samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    let rms = (sum / samples.len().max(1) as f64).sqrt();
    20.0 * rms.max(1e-9).log10()
}
