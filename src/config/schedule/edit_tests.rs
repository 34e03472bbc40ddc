use super::*;

/// A file with comments everywhere: above, inside and between tables,
/// inline after values, at the end; odd spacing and quoting.
const FILE: &str = r#"# 村委会节目单
# 每天三次

[[broadcast]]   # 第一条
name = "致广大市民朋友的一封信"  # 名字
play = ["一封信.mp3"]
at = [
  "07:30",   # 早
  "18:30",
]
repeat   =  3
# 表里的注释

# 第二条的说明
[[broadcast]]
name = '每日公告'
play = ["公告/{date}.mp3"]
at = ["08:00"]
enabled = true # 开着
days = ["mon"]

[[broadcast]]
name = "晚间音乐"
play = ["music.mp3"]
at = ["20:00"]
# 结尾注释
"#;

fn clean(text: &str) -> usize {
    parse("t.toml", text)
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .count()
}

/// Each edit and the exact text it must give.
#[test]
fn edits_change_only_their_line() {
    let cases: &[(&str, usize, &str, bool, &str, &str)] = &[
        (
            "pause a table without the key: a new line after its last value",
            0,
            "致广大市民朋友的一封信",
            false,
            "repeat   =  3\n",
            "repeat   =  3\nenabled = false\n",
        ),
        (
            "pause over an existing key: its comment stays",
            1,
            "每日公告",
            false,
            "enabled = true # 开着\n",
            "enabled = false # 开着\n",
        ),
        (
            "enable an existing key",
            1,
            "每日公告",
            true,
            "enabled = true # 开着\n",
            "enabled = true # 开着\n",
        ),
        (
            "pause the last table, before the closing comment",
            2,
            "晚间音乐",
            false,
            "at = [\"20:00\"]\n# 结尾注释",
            "at = [\"20:00\"]\nenabled = false\n# 结尾注释",
        ),
    ];
    for (what, index, name, on, old, new) in cases {
        let out = set_enabled(FILE, *index, Some(name), *on).expect(what);
        assert_eq!(out, FILE.replacen(old, new, 1), "{what}");
        assert_eq!(clean(&out), 0, "{what}");
        let e = entries(&out).unwrap();
        assert_eq!(e[*index].1, *on, "{what}");
    }
}

#[test]
fn pause_then_enable_keeps_everything_else() {
    let paused = set_enabled(FILE, 0, None, false).unwrap();
    let parsed = parse("t.toml", &paused);
    assert!(!parsed.broadcasts[0].enabled);
    let back = set_enabled(&paused, 0, None, true).unwrap();
    assert_eq!(
        back,
        FILE.replacen("repeat   =  3\n", "repeat   =  3\nenabled = true\n", 1)
    );
    assert!(parse("t.toml", &back).broadcasts[0].enabled);
    // Enabling a table without the key changes nothing.
    assert_eq!(set_enabled(FILE, 2, None, true).unwrap(), FILE);
}

#[test]
fn windows_line_endings_and_no_final_newline() {
    let text = "[[broadcast]]\r\nname = \"a\"\r\nplay = [\"a.mp3\"]\r\nat = [\"07:00\"]";
    let out = set_enabled(text, 0, None, false).unwrap();
    assert_eq!(out, format!("{text}\r\nenabled = false\r\n"));
    assert!(!parse("t.toml", &out).broadcasts[0].enabled);
}

#[test]
fn refusals_leave_the_text_alone() {
    assert_eq!(
        set_enabled(FILE, 3, None, false),
        Err(EditError::NoSuchEntry { index: 3 })
    );
    assert!(matches!(
        set_enabled(FILE, 0, Some("晚间音乐"), false),
        Err(EditError::NameMismatch { index: 0, .. })
    ));
    let broken = "[[broadcast]]\nname = \"a\nplay = 1\n";
    assert!(matches!(
        set_enabled(broken, 0, None, false),
        Err(EditError::Syntax { line: 2 })
    ));
    let inline = "broadcast = [{ name = \"a\", play = [\"a.mp3\"], at = [\"07:00\"] }]\n";
    assert_eq!(
        set_enabled(inline, 0, None, false),
        Err(EditError::NotTables)
    );
    // A wrongly typed `enabled` is the file's own error, not a new one.
    let odd =
        "[[broadcast]]\nname = \"a\"\nplay = [\"a.mp3\"]\nat = [\"07:00\"]\nenabled = \"no\"\n";
    assert!(set_enabled(odd, 0, None, false).is_ok());
}

#[test]
fn a_file_with_schedule_errors_is_still_edited() {
    // The second entry has a bad time: the file is off air, but pausing
    // the first is safe and adds no error.
    let text = "[[broadcast]]\nname = \"a\"\nplay = [\"a.mp3\"]\nat = [\"07:00\"]\n\n[[broadcast]]\nname = \"b\"\nplay = [\"b.mp3\"]\nat = [\"25:00\"]\n";
    let out = set_enabled(text, 0, Some("a"), false).unwrap();
    assert_eq!(clean(&out), clean(text));
    assert!(out.contains("at = [\"07:00\"]\nenabled = false\n\n[[broadcast]]"));
}

fn new(name: &str) -> NewBroadcast {
    NewBroadcast {
        name: name.into(),
        play: vec!["通知/防汛 通知.mp3".into()],
        at: vec!["07:30".into(), "18:00".into()],
        days: Some(vec!["weekdays".into()]),
        priority: Some(Priority::Important),
    }
}

#[test]
fn add_appends_and_parses() {
    let out = add_broadcast(FILE, &new("防汛\"通知\"")).unwrap();
    assert!(out.starts_with(FILE), "the old text stays as it was");
    assert_eq!(
        &out[FILE.len()..],
        "\n[[broadcast]]\nname = '防汛\"通知\"'\nplay = [\"通知/防汛 通知.mp3\"]\nat = [\"07:30\", \"18:00\"]\ndays = [\"weekdays\"]\npriority = \"important\"\n"
    );
    let p = parse("t.toml", &out);
    assert!(p.is_valid(), "{:?}", p.diagnostics);
    let b = p.broadcasts.last().unwrap();
    assert_eq!(b.name, "防汛\"通知\"");
    assert_eq!(b.priority, Priority::Important);
    // Into an empty (new) file, and one without a final newline.
    let out = add_broadcast("", &new("x")).unwrap();
    assert!(out.starts_with("[[broadcast]]\n"));
    assert!(parse("t.toml", &out).is_valid());
    let out = add_broadcast("# 只有注释", &new("x")).unwrap();
    assert!(out.starts_with("# 只有注释\n\n[[broadcast]]\n"));
}

#[test]
fn add_refuses_bad_fields() {
    let mut b = new("晚间音乐");
    assert_eq!(
        add_broadcast(FILE, &b),
        Err(EditError::DuplicateName {
            name: "晚间音乐".into()
        })
    );
    b.name = " ".into();
    assert_eq!(add_broadcast(FILE, &b), Err(EditError::EmptyName));
    b.name = "新".into();
    b.at = vec!["25:00".into()];
    assert!(matches!(
        add_broadcast(FILE, &b),
        Err(EditError::BadTime { .. })
    ));
    b.at = vec![];
    assert_eq!(add_broadcast(FILE, &b), Err(EditError::NoTimes));
    b.at = vec!["07:00".into()];
    b.play = vec!["../x.mp3".into()];
    assert!(matches!(
        add_broadcast(FILE, &b),
        Err(EditError::BadPlay { .. })
    ));
    b.play = vec!["a.mp3".into()];
    b.days = Some(vec!["someday".into()]);
    assert!(matches!(
        add_broadcast(FILE, &b),
        Err(EditError::BadDay { .. })
    ));
}

#[test]
fn versions_differ_when_the_text_does() {
    assert_eq!(version(FILE), version(FILE));
    assert_ne!(version(FILE), version(&FILE.replace("07:30", "07:31")));
}
