//! The short soak: `bench/soak.py --kills 8` on the binary under test. It
//! kill -9s the daemon at 8 random instants over a schedule firing every few
//! seconds, checks `PRAGMA integrity_check` after each kill, and after a
//! clean stop that every firing of the window is logged exactly once with a
//! final status and nothing was played twice. About 25 s (at most 40). The full run is
//! `python3 bench/soak.py` (100 kills, about 6 minutes).
#![cfg(target_os = "linux")]

use std::path::Path;
use std::process::Command;
use std::time::Instant;

#[test]
fn soak_kill_9_at_random_instants_accounts_for_every_firing() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bin = assert_cmd::cargo::cargo_bin("cunxiang");
    let t = Instant::now();
    let out = Command::new("python3")
        .arg(root.join("bench/soak.py"))
        .args([
            "--kills",
            "8",
            "--max-up",
            "3",
            "--max-down",
            "1.5",
            "--binary",
        ])
        .arg(&bin)
        .current_dir(root)
        .output()
        .expect("python3 must be installed to run bench/soak.py");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    println!("soak took {:.1} s", t.elapsed().as_secs_f64());
    // Its report is printed above: counts, each failure, the seed to rerun.
    assert!(
        out.status.success(),
        "bench/soak.py failed ({}); its report is above",
        out.status
    );
    assert!(stdout.contains("\nPASS"), "no PASS line:\n{stdout}");
}
