//! The relay's logic on a test clock, without a network: the on-air side
//! (slot end, accounting, gathering, fallback, cut and resume) fed by
//! hand, and the reader's judging (silence, conversion, the live buffer).

use super::air::RelayAir;
use super::http::StreamEnd;
use super::pump::{pump, push};
use super::*;
use crate::clock::TestClock;

const RATE: u32 = 8_000;
const T0: i64 = 1_800_000_000;

fn t(secs: f64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(T0 * 1000 + (secs * 1000.0) as i64).unwrap()
}

/// A feed of a slot `slot` seconds from the clock's start, mono 8 kHz,
/// with its events collected.
fn feed(slot: f64) -> (RelayFeed, TestClock, Arc<Mutex<Vec<RelayEvent>>>) {
    let clock = TestClock::new(t(0.0));
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    let f = RelayFeed::idle(
        RelaySource::Http("http://test/".into()),
        t(slot),
        RelaySettings::default(),
        Arc::new(clock.clone()),
        Box::new(move |e| seen.lock().unwrap().push(e)),
    );
    assert_eq!(f.shared().format_or((1, RATE)), (1, RATE));
    (f, clock, events)
}

/// `secs` of constant `v` into the live buffer, in 50 ms chunks.
fn fill(f: &RelayFeed, secs: f64, v: f32) {
    let n = (secs * RATE as f64) as usize;
    for _ in 0..n / 400 {
        push(f.shared(), vec![v; 400], RATE as u64);
    }
}

/// Constant `v` as a fallback file.
fn constant(v: f32) -> air::OpenFallback {
    Box::new(move |_| {
        Some(Box::new(rodio::buffer::SamplesBuffer::new(
            std::num::NonZero::new(1).unwrap(),
            std::num::NonZero::new(RATE).unwrap(),
            vec![v; 800],
        )) as air::Sound)
    })
}

fn air(f: &RelayFeed) -> RelayAir {
    RelayAir::open(f, 1, constant(0.125))
}

#[test]
fn the_air_ends_at_the_end_of_the_slot_exactly() {
    let (f, clock, _) = feed(2.0);
    fill(&f, 3.0, 0.5);
    clock.advance(Duration::from_millis(500));
    let n = air(&f).count();
    assert_eq!(
        n,
        (1.5 * RATE as f64) as usize,
        "1.5 s left of the slot, to the sample"
    );
    clock.set(t(2.0));
    let st = f.stats(t(2.0));
    assert_eq!(st.relayed, Duration::from_millis(1500));
    assert_eq!(st.lost, Duration::ZERO);
}

#[test]
fn a_lost_source_plays_the_fallback_and_the_source_again_when_back() {
    let (f, _, events) = feed(10.0);
    f.shared().set_lost("the connection broke");
    f.shared().set_lost("still");
    let mut a = RelayAir::open(&f, 1, constant(0.25));
    let first: Vec<f32> = a.by_ref().take(RATE as usize).collect();
    assert!(first.iter().all(|x| *x == 0.25), "the fallback, looped");
    assert!(f.view().fallback);
    f.shared().set_connected();
    fill(&f, 1.0, 0.5);
    let next: Vec<f32> = a.by_ref().take(RATE as usize).collect();
    let fallback_left = next.iter().take_while(|x| **x == 0.25).count();
    assert!(fallback_left <= 160, "back within 20 ms: {fallback_left}");
    assert!(next[fallback_left..].iter().all(|x| *x == 0.5));
    drop(a);
    assert!(!f.view().fallback);
    let ev = events.lock().unwrap();
    assert_eq!(ev.len(), 2, "one loss, one return: {ev:?}");
    assert!(matches!(&ev[0], RelayEvent::Lost { why, .. } if why == "the connection broke"));
    assert!(matches!(&ev[1], RelayEvent::Back { .. }));
}

#[test]
fn after_an_underrun_sound_is_gathered_before_it_flows_again() {
    let (f, _, _) = feed(10.0);
    fill(&f, 0.3, 0.5);
    let mut a = air(&f);
    let some: Vec<f32> = a.by_ref().take(800).collect();
    assert!(
        some.iter().all(|x| *x == 0.0),
        "less than the prebuffer: silence, not lost"
    );
    assert_eq!(
        f.shared().buffer().samples,
        2400,
        "nothing taken while gathering"
    );
    fill(&f, 0.4, 0.5);
    let more: Vec<f32> = a.by_ref().take(2 * 800).collect();
    assert!(more.contains(&0.5), "flows once 0.6 s is there");
}

#[test]
fn the_live_buffer_keeps_only_the_newest_sound() {
    let (f, _, _) = feed(10.0);
    for i in 0..200 {
        push(f.shared(), vec![i as f32; 400], RATE as u64);
    }
    let b = f.shared().buffer();
    assert_eq!(b.samples, 4 * RATE as usize, "4 s at most");
    assert_eq!(b.chunks.front().unwrap()[0], 120.0, "the oldest dropped");
    assert_eq!(b.chunks.back().unwrap()[0], 199.0);
}

#[test]
fn a_cut_is_lost_air_and_the_relay_resumes_at_the_live_point() {
    let (f, clock, _) = feed(10.0);
    fill(&f, 1.0, 0.5);
    let a = air(&f);
    let n = a.take(RATE as usize).count();
    assert_eq!(n, RATE as usize);
    clock.set(t(1.0));
    f.cut(t(1.0));
    fill(&f, 4.0, 0.75);
    clock.set(t(3.0));
    let resumed = air(&f);
    let kept = f.shared().buffer().samples;
    assert!(
        kept <= (0.6 * RATE as f64) as usize + 400,
        "the backlog dropped: {kept}"
    );
    let first: Vec<f32> = resumed.take(10).collect();
    assert!(first.iter().all(|x| *x == 0.75), "the newest sound");
    let st = f.stats(t(3.5));
    // Cut from 1 s to 3 s: 2 s of the 2.5 s lost.
    assert_eq!(st.cut, Duration::from_secs(2));
    // 1 s before the cut, 10 samples after it.
    assert_eq!(st.relayed, Duration::from_micros(1_001_250));
    assert_eq!(st.lost, Duration::from_millis(3500) - st.relayed);
}

#[test]
fn silence_past_silence_after_ends_the_session_and_counts_as_lost() {
    let (f, _, _) = feed(1000.0);
    let s = f.shared().clone();
    let end = pump(&s, (1, RATE), || Ok(vec![0.0; 800]));
    let Some(StreamEnd::Silence(why, _)) = end else {
        panic!("{end:?}")
    };
    assert!(why.starts_with("digital silence"), "{why}");
    // 15 s of silence (the default silence_after) went out as "relayed"
    // and is taken back as lost.
    assert_eq!(s.silent.load(Ordering::SeqCst), 15 * RATE as u64);
}

#[test]
fn another_format_is_converted_to_the_feeds() {
    let (f, _, _) = feed(1000.0);
    let s = f.shared().clone();
    let mut left = 20;
    let end = pump(&s, (2, 16_000), move || {
        left -= 1;
        if left == 0 {
            return Err(StreamEnd::Link("closed".into()));
        }
        Ok(vec![0.5; 3200])
    });
    assert_eq!(end, Some(StreamEnd::Link("closed".into())));
    let b = s.buffer();
    assert!(
        b.chunks.iter().all(|c| c.len() == 400),
        "50 ms mono 8 kHz chunks"
    );
    // 19 blocks of 0.1 s at 16 kHz stereo = 1.9 s: about 1.9 s at 8 kHz mono.
    assert!((14_800..=15_200).contains(&b.samples), "{}", b.samples);
}
