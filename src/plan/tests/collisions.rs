//! Table tests of the single-output simulation: waiting, cutting and
//! missing when firings collide.

use super::*;

#[test]
fn simulate_overlap_rules() {
    use Priority::*;
    let t0 = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
    let secs = |s: i64| t0 + TimeDelta::seconds(s);
    // A (0..100) then B at 50 waits until 100, within its 60 s window.
    let f = vec![firing("A", 0, Normal, 600), firing("B", 50, Normal, 60)];
    let o = simulate(
        &f,
        &[
            Some(Duration::from_secs(100)),
            Some(Duration::from_secs(10)),
        ],
    );
    assert_eq!(o[1].start, Some(secs(100)));
    assert_eq!(o[1].waited_for.as_ref().map(|x| x.index), Some(0));
    assert!(o[1].missed_because.is_none());

    // B's window is only 30 s: missed because of A.
    let f = vec![firing("A", 0, Normal, 600), firing("B", 50, Normal, 30)];
    let o = simulate(
        &f,
        &[
            Some(Duration::from_secs(100)),
            Some(Duration::from_secs(10)),
        ],
    );
    assert_eq!(o[1].start, None);
    assert_eq!(o[1].missed_because.as_ref().map(|x| x.index), Some(0));

    // Emergency interrupts routine at once.
    let f = vec![firing("A", 0, Normal, 600), firing("E", 50, Emergency, 0)];
    let o = simulate(
        &f,
        &[
            Some(Duration::from_secs(100)),
            Some(Duration::from_secs(10)),
        ],
    );
    assert_eq!(o[1].start, Some(secs(50)));
    assert_eq!(o[1].interrupts.as_ref().map(|x| x.index), Some(0));
    assert_eq!(o[0].interrupted_by.as_ref().map(|x| x.index), Some(1));

    // Equal priority never interrupts; lower waits; when the output frees,
    // the most urgent waiting one goes first.
    let f = vec![
        firing("A", 0, Important, 600),
        firing("N", 10, Normal, 600),
        firing("I", 20, Important, 600),
    ];
    let o = simulate(
        &f,
        &[
            Some(Duration::from_secs(100)),
            Some(Duration::from_secs(10)),
            Some(Duration::from_secs(10)),
        ],
    );
    assert_eq!(
        o[2].start,
        Some(secs(100)),
        "important before the earlier normal"
    );
    assert_eq!(o[1].start, Some(secs(110)));
    assert!(o.iter().all(|x| x.interrupts.is_none()));

    // Skipped firings take no air time.
    let mut s = firing("S", 0, Normal, 600);
    s.skip = Some(Skip::QuietHours);
    let f = vec![s, firing("B", 5, Normal, 0)];
    let o = simulate(
        &f,
        &[
            Some(Duration::from_secs(100)),
            Some(Duration::from_secs(10)),
        ],
    );
    assert_eq!(o[0].start, None);
    assert_eq!(o[1].start, Some(secs(5)));
    assert!(!o[1].collides());

    // Back-to-back is not a collision.
    let f = vec![firing("A", 0, Normal, 0), firing("B", 100, Normal, 0)];
    let o = simulate(
        &f,
        &[
            Some(Duration::from_secs(100)),
            Some(Duration::from_secs(10)),
        ],
    );
    assert!(!o[1].collides());
}
