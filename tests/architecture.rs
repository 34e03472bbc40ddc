//! The house rules, checked: no import circles between the modules of
//! `src/` (neither between the top-level folders nor between files), and
//! each folder imports only what `ARCHITECTURE.md` says it may.
//!
//! Read from the source text (`crate::`, `super::` and `self::` paths
//! outside comments), so it needs no build of its own and names the file
//! and the path that broke a rule.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Who may import whom, by top-level module of the library (`main.rs`, the
/// binary, may import anything). A module not named here may import
/// nothing of the crate. Kept in step with ARCHITECTURE.md.
const MAY_IMPORT: &[(&str, &[&str])] = &[
    ("i18n", &[]),
    ("logline", &[]),
    ("clock", &[]),
    ("config", &["i18n"]),
    ("plan", &["config", "i18n"]),
    ("sound", &["clock", "config", "plan", "i18n"]),
    ("store", &["plan", "config", "i18n"]),
    (
        "views",
        &["store", "plan", "config", "sound", "clock", "i18n"],
    ),
    (
        "daemon",
        &["views", "store", "plan", "config", "sound", "clock", "i18n"],
    ),
    (
        "web",
        &[
            "daemon", "views", "store", "plan", "config", "sound", "clock", "i18n",
        ],
    ),
    (
        "cli",
        &[
            "web", "daemon", "views", "store", "plan", "config", "sound", "clock", "i18n",
            "logline",
        ],
    ),
];

struct Module {
    file: PathBuf,
    /// Path segments from the crate root: `["daemon", "queue"]`.
    path: Vec<String>,
    text: String,
}

fn modules() -> Vec<Module> {
    sources(false)
}

/// Every `.rs` file of `src/`; the binary (`main.rs`) too when asked (it
/// is no module of the library, but the size rules hold for it).
fn sources(with_main: bool) -> Vec<Module> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            if p.extension().and_then(|e| e.to_str()) != Some("rs") {
                continue;
            }
            let rel = p.strip_prefix(&src).unwrap();
            let mut path: Vec<String> = rel
                .with_extension("")
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if path.last().map(String::as_str) == Some("mod") || path == ["lib"] {
                path.pop();
            }
            if path == ["main"] && !with_main {
                continue;
            }
            let text = std::fs::read_to_string(&p).unwrap();
            out.push(Module {
                file: rel.to_path_buf(),
                path,
                text,
            });
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// The source without comments (doc links name modules without using
/// them), string literals and inline test modules.
fn code(text: &str) -> String {
    // Inline unit tests (`#[cfg(test)] mod tests { use super::*; … }`, at
    // the end of a file by habit) are not the module's imports.
    let text = match text.find("#[cfg(test)]\nmod ") {
        Some(at) => &text[..at],
        None => text,
    };
    let mut out = String::with_capacity(text.len());
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
            i += 2;
            while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                i += 1;
            }
            i += 2;
        } else if b[i..].starts_with(b"pub(in ") {
            // A visibility names a module without importing it.
            while i < b.len() && b[i] != b')' {
                i += 1;
            }
            i += 1;
            out.push_str("pub ");
        } else if b[i] == b'"' && (i == 0 || b[i - 1] != b'\'') {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    out
}

/// Every path the module names that starts at `crate`, `super` or `self`,
/// with `use` groups (`crate::{a::B, c}`) expanded, made absolute.
fn paths(m: &Module) -> Vec<Vec<String>> {
    let code = code(&m.text);
    let mut out = Vec::new();
    let bytes: Vec<char> = code.chars().collect();
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    // Modules this file declares (`mod queue;`): a bare `queue::X` names
    // one of its own parts.
    let children: Vec<String> = code
        .lines()
        .filter_map(|l| {
            let l = l.trim_start();
            let l = l.strip_prefix("pub ").unwrap_or(l);
            l.strip_prefix("mod ")?
                .strip_suffix(';')
                .map(str::to_string)
        })
        .collect();
    let mut i = 0;
    while i < bytes.len() {
        let at_word = i == 0 || !(ident(bytes[i - 1]) || bytes[i - 1] == ':');
        if at_word {
            if let Some(c) = children.iter().find(|c| {
                let w: Vec<char> = format!("{c}::").chars().collect();
                bytes[i..].starts_with(&w)
            }) {
                let (found, end) = expand(&bytes, i, m.path.clone());
                out.extend(found);
                i = end.max(i + c.len());
                continue;
            }
        }
        let at_word = i == 0 || !(ident(bytes[i - 1]) || bytes[i - 1] == ':');
        if at_word {
            for root in ["crate::", "super::", "self::"] {
                let r: Vec<char> = root.chars().collect();
                if bytes[i..].starts_with(&r) {
                    let base: Vec<String> = match root {
                        "crate::" => vec![],
                        "self::" => m.path.clone(),
                        _ => {
                            // `super` of a file `a/b.rs` is `a`; of `a/mod.rs` too
                            // is the parent of `a`.
                            let mut p = m.path.clone();
                            p.pop();
                            p
                        }
                    };
                    let (found, end) = expand(&bytes, i + r.len(), base);
                    out.extend(found);
                    i = end;
                    break;
                }
            }
        }
        i += 1;
    }
    out
}

/// Reads `a::b::{c, d::e}` from `at`, prefixing `base`; returns the paths
/// and where reading stopped.
fn expand(b: &[char], mut at: usize, base: Vec<String>) -> (Vec<Vec<String>>, usize) {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut cur = base;
    loop {
        if b.get(at) == Some(&'{') {
            at += 1;
            let mut all = Vec::new();
            loop {
                while at < b.len() && (b[at].is_whitespace() || b[at] == ',') {
                    at += 1;
                }
                if at >= b.len() || b[at] == '}' {
                    return (all, at + 1);
                }
                let (found, end) = expand(b, at, cur.clone());
                all.extend(found);
                at = end;
                // skip `as name`
                while at < b.len() && b[at] != ',' && b[at] != '}' {
                    at += 1;
                }
            }
        }
        let start = at;
        while at < b.len() && ident(b[at]) {
            at += 1;
        }
        if at > start {
            let word: String = b[start..at].iter().collect();
            if word == "super" {
                cur.pop();
            } else if word != "self" {
                cur.push(word);
            }
        }
        if b[at..].starts_with(&[':', ':']) {
            at += 2;
            continue;
        }
        return (vec![cur], at);
    }
}

/// The module a path lands in: its longest prefix that is a module.
fn resolve(path: &[String], known: &BTreeSet<Vec<String>>) -> Vec<String> {
    (0..=path.len())
        .rev()
        .map(|n| path[..n].to_vec())
        .find(|p| known.contains(p))
        .unwrap_or_default()
}

type Graph = BTreeMap<Vec<String>, BTreeMap<Vec<String>, String>>;

fn graph() -> (Vec<Module>, Graph) {
    let mods = modules();
    let known: BTreeSet<Vec<String>> = mods.iter().map(|m| m.path.clone()).collect();
    let mut g: Graph = BTreeMap::new();
    for m in &mods {
        let edges = g.entry(m.path.clone()).or_default();
        for p in paths(m) {
            let to = resolve(&p, &known);
            // A part may use what its enclosing modules define (a flow in
            // `daemon/core/tick.rs` implements `core::Daemon`): a module
            // and its parts are one room. Circles between rooms count.
            let ancestor = to.len() < m.path.len() && m.path.starts_with(&to);
            if to != m.path && !to.is_empty() && !ancestor {
                edges
                    .entry(to)
                    .or_insert_with(|| format!("{} names {}", m.file.display(), p.join("::")));
            }
        }
    }
    (mods, g)
}

fn find_cycle(g: &BTreeMap<String, BTreeMap<String, String>>) -> Option<Vec<String>> {
    // Depth-first search with colours; returns the nodes of one cycle.
    fn visit(
        n: &str,
        g: &BTreeMap<String, BTreeMap<String, String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(n.to_string(), 1);
        stack.push(n.to_string());
        for to in g.get(n).into_iter().flat_map(|e| e.keys()) {
            match state.get(to.as_str()).copied().unwrap_or(0) {
                1 => {
                    let at = stack.iter().position(|s| s == to).unwrap();
                    let mut c = stack[at..].to_vec();
                    c.push(to.clone());
                    return Some(c);
                }
                0 => {
                    if let Some(c) = visit(to, g, state, stack) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(n.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in g.keys() {
        if state.get(n.as_str()).copied().unwrap_or(0) == 0 {
            let mut stack = Vec::new();
            if let Some(c) = visit(n, g, &mut state, &mut stack) {
                return Some(c);
            }
        }
    }
    None
}

fn explain(cycle: &[String], g: &BTreeMap<String, BTreeMap<String, String>>) -> String {
    cycle
        .windows(2)
        .map(|w| format!("  {} -> {}: {}", w[0], w[1], g[&w[0]][&w[1]]))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn no_import_circle_between_files() {
    let (_, g) = graph();
    let flat: BTreeMap<String, BTreeMap<String, String>> = g
        .iter()
        .map(|(k, v)| {
            (
                k.join("::"),
                v.iter()
                    .map(|(t, why)| (t.join("::"), why.clone()))
                    .collect(),
            )
        })
        .collect();
    if let Some(c) = find_cycle(&flat) {
        panic!("import circle between files:\n{}", explain(&c, &flat));
    }
}

#[test]
fn no_import_circle_between_folders() {
    let (_, g) = graph();
    let mut top: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for (from, edges) in &g {
        let Some(a) = from.first() else { continue };
        let e = top.entry(a.clone()).or_default();
        for (to, why) in edges {
            if let Some(b) = to.first() {
                if b != a {
                    e.entry(b.clone()).or_insert_with(|| why.clone());
                }
            }
        }
    }
    if let Some(c) = find_cycle(&top) {
        panic!("import circle between folders:\n{}", explain(&c, &top));
    }
}

#[test]
fn each_folder_imports_only_what_it_may() {
    let (_, g) = graph();
    let broken = forbidden(&g, MAY_IMPORT);
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

/// The imports of `g` that `rules` does not allow, one line each.
fn forbidden(g: &Graph, rules: &[(&str, &[&str])]) -> Vec<String> {
    let rules: BTreeMap<&str, &[&str]> = rules.iter().copied().collect();
    let mut broken = Vec::new();
    for (from, edges) in g {
        let Some(a) = from.first() else { continue };
        let allowed = rules.get(a.as_str()).copied().unwrap_or(&[]);
        for (to, why) in edges {
            let Some(b) = to.first() else { continue };
            if b != a && !allowed.contains(&b.as_str()) {
                broken.push(format!("{a} may not import {b}: {why}"));
            }
        }
    }
    broken
}

#[test]
fn the_rule_check_refuses_what_the_table_does_not_allow() {
    let path = |p: &str| p.split("::").map(str::to_string).collect::<Vec<_>>();
    let mut g: Graph = BTreeMap::new();
    let mut edge = |from: &str, to: &str| {
        g.entry(path(from))
            .or_default()
            .insert(path(to), format!("{from} names {to}"));
    };
    edge("web::http", "views::status");
    edge("web::dashboard", "cli::status");
    edge("daemon::core", "daemon::queue");
    let rules: &[(&str, &[&str])] = &[("web", &["views"]), ("daemon", &[])];
    assert_eq!(
        forbidden(&g, rules),
        ["web may not import cli: web::dashboard names cli::status"]
    );
}

#[test]
fn the_checker_sees_what_it_must() {
    // The reader itself: a group import, `super`, a part's bare path,
    // comments, strings and visibilities.
    let m = Module {
        file: "daemon/queue.rs".into(),
        path: vec!["daemon".into(), "queue".into()],
        text: "mod parts;\nuse crate::{store::Store, plan::{self, Rules as R}};\n\
               // crate::web::http is only mentioned\n\
               let s = \"crate::cli\"; use super::air::Air; x = crate::clock::now();\n\
               pub(in crate::web) y: parts::Part,"
            .into(),
    };
    let got: Vec<String> = paths(&m).iter().map(|p| p.join("::")).collect();
    assert_eq!(
        got,
        [
            "store::Store",
            "plan",
            "plan::Rules",
            "daemon::air::Air",
            "clock::now",
            "daemon::queue::parts::Part"
        ]
    );
}

/// Files the size limit allows to be longer, with why. Empty: every
/// file of `src/` is under [`MAX_FILE_LINES`].
const LONG_FILES: &[(&str, &str)] = &[];

/// About 700 lines: a file longer than this holds more than one concern.
const MAX_FILE_LINES: usize = 720;

/// About 80 lines: a longer function is split into named steps, except a
/// `match` table (one arm per message, per key) and a test's table.
const MAX_FN_LINES: usize = 80;

/// Functions the length rule allows to be longer, with why.
const LONG_FUNCTIONS: &[(&str, &str, &str)] = &[(
    "main.rs",
    "dispatch",
    "the match table from the command line to the library: one arm a command",
)];

#[test]
fn no_file_is_too_long() {
    let long: Vec<String> = sources(true)
        .iter()
        .map(|m| (m.file.display().to_string(), m.text.lines().count()))
        .filter(|(f, n)| *n > MAX_FILE_LINES && !LONG_FILES.iter().any(|l| l.0 == f))
        .map(|(f, n)| format!("src/{f}: {n} lines"))
        .collect();
    assert!(
        long.is_empty(),
        "over {MAX_FILE_LINES} lines:\n{}",
        long.join("\n")
    );
}

/// Every function of the file: (name, first line, length in lines, whether
/// its body is one `match`, whether it is a test).
fn functions(text: &str) -> Vec<(String, usize, usize, bool, bool)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let t = l.trim_start();
        let indent = l.len() - t.len();
        let rest = ["pub(crate) ", "pub(super) ", "pub "]
            .iter()
            .find_map(|p| t.strip_prefix(p))
            .unwrap_or(t);
        let rest = if rest.starts_with("pub(in ") {
            rest.split_once(") ").map_or(rest, |x| x.1)
        } else {
            rest
        };
        let rest = rest.strip_prefix("async ").unwrap_or(rest);
        let rest = rest.strip_prefix("const ").unwrap_or(rest);
        let Some(sig) = rest.strip_prefix("fn ") else {
            continue;
        };
        let name: String = sig
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let close = format!("{}}}", " ".repeat(indent));
        let Some(end) = (i + 1..lines.len()).find(|&j| lines[j] == close) else {
            continue;
        };
        let open = (i..end).find(|&j| lines[j].trim_end().ends_with('{'));
        let first = open
            .and_then(|o| lines[o + 1..end].iter().find(|l| !l.trim().is_empty()))
            .map(|l| l.trim_start())
            .unwrap_or("");
        let table = ["match ", "Ok(match ", "Some(match ", "use "]
            .iter()
            .any(|p| first.starts_with(p))
            && lines[end - 1].trim_start().starts_with('}');
        let test = i > 0 && lines[i - 1].contains("test]");
        out.push((name, i + 1, end - i + 1, table, test));
    }
    out
}

#[test]
fn no_function_is_too_long() {
    let mut long = Vec::new();
    for m in sources(true) {
        let file = m.file.display().to_string();
        for (name, line, n, table, test) in functions(&m.text) {
            let allowed = LONG_FUNCTIONS.iter().any(|l| l.0 == file && l.1 == name);
            if n > MAX_FN_LINES && !table && !test && !allowed {
                long.push(format!("src/{}:{line} {name}: {n} lines", m.file.display()));
            }
        }
    }
    assert!(
        long.is_empty(),
        "over {MAX_FN_LINES} lines:\n{}",
        long.join("\n")
    );
}

#[test]
fn the_length_reader_sees_tables_and_tests() {
    let text = "fn a() {\n    match x {\n        1 => 2,\n    }\n}\n\n#[test]\nfn b() {\n    let x = 1;\n}\n    pub(in crate::daemon) async fn c(\n        &self,\n    ) {\n        go();\n    }\n";
    let f = functions(text);
    assert_eq!(
        f,
        [
            ("a".to_string(), 1, 5, true, false),
            ("b".to_string(), 8, 3, false, true),
            ("c".to_string(), 11, 5, false, false)
        ]
    );
}

#[test]
fn the_circle_finder_finds_a_circle_and_only_a_circle() {
    let graph = |edges: &[(&str, &str)]| {
        let mut g: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for (a, b) in edges {
            g.entry(a.to_string())
                .or_default()
                .insert(b.to_string(), format!("{a} names {b}"));
            g.entry(b.to_string()).or_default();
        }
        g
    };
    // web -> cli -> daemon -> web: found, named edge by edge.
    let g = graph(&[
        ("web", "cli"),
        ("cli", "daemon"),
        ("daemon", "web"),
        ("daemon", "store"),
    ]);
    let c = find_cycle(&g).expect("a circle");
    assert_eq!(c.first(), c.last());
    assert_eq!(c.len(), 4, "{c:?}");
    assert!(explain(&c, &g).contains("daemon -> web: daemon names web"));
    // A diamond is no circle.
    let g = graph(&[
        ("cli", "web"),
        ("cli", "daemon"),
        ("web", "daemon"),
        ("daemon", "store"),
    ]);
    assert_eq!(find_cycle(&g), None);
}
