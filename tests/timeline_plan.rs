//! `timeline::plan` driven with numbers alone: at rate 1000 a sample is a millisecond.

use dubber::timeline::{FitMode, Mode, Placement, PlanError, Policy, Warning, plan};
use dubber::{Chunk, Window};
use proptest::prelude::*;

fn chunk(id: usize, text: &str, windows: &[(u64, u64)]) -> Chunk {
    Chunk {
        id,
        text: text.into(),
        windows: windows.iter().map(|&(s, e)| Window::new(s, e)).collect(),
        segments: vec![id],
    }
}

/// Plans at 1000 Hz (samples are milliseconds).
fn ms_plan(chunks: &[Chunk], natural: &[u64], video_ms: u64, policy: &Policy) -> Vec<Placement> {
    plan(chunks, natural, video_ms, 1000, policy)
        .unwrap()
        .placements
}

fn has(p: &Placement, pred: impl Fn(&Warning) -> bool) -> bool {
    p.warnings.iter().any(pred)
}

#[test]
fn a_line_that_fits_starts_on_its_window_at_natural_speed() {
    let p = ms_plan(
        &[chunk(0, "a", &[(1000, 3000)])],
        &[1500],
        10_000,
        &Policy::default(),
    );
    assert_eq!(
        (
            p[0].start,
            p[0].played,
            p[0].speed,
            p[0].shift,
            p[0].borrowed
        ),
        (1000, 1500, 1.0, 0, 0)
    );
    assert!(p[0].warnings.is_empty());
}

#[test]
fn a_long_line_borrows_the_pause_before_speeding_up() {
    let chunks = [
        chunk(0, "a", &[(1000, 2000)]),
        chunk(1, "b", &[(4000, 5000)]),
    ];
    let p = ms_plan(&chunks, &[2500, 500], 10_000, &Policy::default());
    assert_eq!(
        (p[0].start, p[0].played, p[0].speed, p[0].borrowed),
        (1000, 2500, 1.0, 1500)
    );
    assert_eq!(p[1].start, 4000);

    // Less pause: borrow all of it but the 80 ms gap, then speed up just enough.
    let chunks = [
        chunk(0, "a", &[(1000, 2000)]),
        chunk(1, "b", &[(3000, 4000)]),
    ];
    let p = ms_plan(&chunks, &[2300, 500], 10_000, &Policy::default());
    assert_eq!((p[0].start, p[0].played, p[0].borrowed), (1000, 1920, 920));
    assert!((p[0].speed - 2300.0 / 1920.0).abs() < 1e-12);
    assert_eq!(p[1].start, 3000);
    assert!(p.iter().all(|p| p.warnings.is_empty()));
}

#[test]
fn overflow_at_max_speed_pushes_the_next_line_and_a_pause_absorbs_it() {
    let chunks = [
        chunk(0, "a", &[(0, 1000)]),
        chunk(1, "b", &[(1100, 2000)]),
        chunk(2, "c", &[(5000, 6000)]),
    ];
    let p = ms_plan(&chunks, &[2000, 800, 500], 10_000, &Policy::default());
    // a: needs 2000 in 1020 ms; capped at 1.25× = 1600 ms, ending 580 ms into b's time (with gap).
    assert_eq!((p[0].start, p[0].played, p[0].speed), (0, 1600, 1.25));
    assert!(has(
        &p[0],
        |w| matches!(w, Warning::Overflow { seconds } if (*seconds - 0.58).abs() < 1e-9)
    ));
    // b: starts after a plus the gap, at natural speed since the pause after it is long.
    assert_eq!((p[1].start, p[1].played, p[1].shift), (1680, 800, 580));
    assert!(has(&p[1], |w| matches!(w, Warning::Shifted { .. })));
    // c: back on time.
    assert_eq!((p[2].start, p[2].shift), (5000, 0));
    assert!(p[2].warnings.is_empty());
    let whole = plan(&chunks, &[2000, 800, 500], 10_000, 1000, &Policy::default()).unwrap();
    assert_eq!(
        whole.speech_intervals(),
        vec![(0, 1600), (1680, 2480), (5000, 5500)]
    );
}

#[test]
fn drift_beyond_the_bound_is_reported() {
    let chunks = [
        chunk(0, "a", &[(0, 1000)]),
        chunk(1, "b", &[(1000, 2000)]),
        chunk(2, "c", &[(2000, 3000)]),
    ];
    let policy = Policy {
        max_drift_ms: 500,
        ..Policy::default()
    };
    let p = ms_plan(&chunks, &[2000, 2000, 1000], 10_000, &policy);
    // a ends at 1600; b starts 1680 (shift 680 > 500) and, capped too, ends 3280; c starts 3360.
    assert_eq!(p[1].start, 1680);
    assert!(has(&p[1], |w| matches!(w, Warning::DriftExceeded { .. })));
    assert_eq!(p[2].start, 3360);
    assert!(p.windows(2).all(|w| w[0].end() <= w[1].start));
}

#[test]
fn empty_chunks_are_silence_and_shift_nothing() {
    let chunks = [
        chunk(0, "a", &[(0, 1000)]),
        chunk(1, "  ", &[(1000, 2000)]),
        chunk(2, "b", &[(2000, 3000)]),
    ];
    let p = ms_plan(&chunks, &[1800, 700, 900], 10_000, &Policy::default());
    // a may run over the empty chunk's window, up to b minus the gap.
    assert_eq!((p[0].start, p[0].played, p[0].speed), (0, 1800, 1.0));
    assert_eq!((p[1].played, p[1].natural), (0, 0));
    assert!(has(&p[1], |w| matches!(w, Warning::ClipIgnored { .. })));
    assert_eq!((p[2].start, p[2].shift), (2000, 0));
}

#[test]
fn sentence_mode_uses_the_whole_span_of_a_chunk() {
    // Two windows with a gap: the utterance is never chopped at the gap.
    let chunks = [
        chunk(0, "a b", &[(0, 1000), (1500, 2500)]),
        chunk(1, "c", &[(6000, 7000)]),
    ];
    let p = ms_plan(&chunks, &[2400, 500], 10_000, &Policy::default());
    assert_eq!(
        (p[0].start, p[0].played, p[0].speed, p[0].borrowed),
        (0, 2400, 1.0, 0)
    );
}

#[test]
fn strict_timing_fits_the_window_pad_or_speedup_and_stretch_both() {
    let strict = Policy {
        mode: Mode::Segment,
        strict_timing: true,
        ..Policy::default()
    };
    let one = [chunk(0, "a", &[(0, 1000)]), chunk(1, "b", &[(3000, 4000)])];
    // Too long: sped up to end with its window, although the pause after it is free.
    let p = ms_plan(&one, &[1200, 500], 10_000, &strict);
    assert_eq!((p[0].played, p[0].speed), (1000, 1.2));
    // Within the 30 ms tolerance: untouched.
    assert_eq!(ms_plan(&one, &[1020, 500], 10_000, &strict)[0].played, 1020);
    // Short: padded with silence.
    assert_eq!(ms_plan(&one, &[700, 500], 10_000, &strict)[0].played, 700);
    // Stretch-both slows it down to fill the window, but not below min speed 0.9.
    let both = Policy {
        fit_mode: FitMode::StretchBoth,
        ..strict.clone()
    };
    let p = ms_plan(&one, &[950, 500], 10_000, &both);
    assert_eq!((p[0].played, p[0].speed), (1000, 0.95));
    let p = ms_plan(&one, &[700, 500], 10_000, &both);
    // 700 / 0.9 = 777.8: 778 samples would be slower than 0.9×, so 777.
    assert_eq!(p[0].played, 777);
    assert!(p[0].speed >= 0.9);
    // Too long even at 1.25×: borrows the pause after the window and says so.
    let p = ms_plan(&one, &[1500, 500], 10_000, &strict);
    assert_eq!((p[0].played, p[0].speed), (1200, 1.25));
    assert!(has(&p[0], |w| matches!(w, Warning::BeyondWindow { .. })));
}

#[test]
fn block_mode_starts_a_new_block_at_a_scene_cut() {
    let chunks = [chunk(0, "a", &[(0, 1000)]), chunk(1, "b", &[(1100, 2000)])];
    // Together (a pause of 100 ms), a and b form one block at one speed; b's clip is too long for
    // the video's end at 2 s, so both speed up. With a scene cut between them, a plays at its own
    // gentle pace (block mode may slow a line to fill its window) and b alone speeds up.
    let natural = [900, 1100];
    let joined = ms_plan(&chunks, &natural, 2000, &Policy::with_mode(Mode::Block));
    assert!(joined[0].speed > 1.0, "{joined:?}");
    let cut = Policy {
        scene_cuts_ms: vec![1050],
        ..Policy::with_mode(Mode::Block)
    };
    let split = ms_plan(&chunks, &natural, 2000, &cut);
    assert!(split[0].speed <= 1.0, "{split:?}");
    assert_eq!(split[1].start, 1100);
    assert!(split[1].speed > 1.0 && split[1].end() <= 2000, "{split:?}");
}

#[test]
fn block_mode_speaks_a_block_at_one_speed_with_breath_pads() {
    let policy = Policy::with_mode(Mode::Block);
    let chunks = [
        chunk(0, "a", &[(0, 1000)]),
        chunk(1, "b", &[(1100, 2000)]),
        chunk(2, "c", &[(2100, 3000)]),
        chunk(3, "d", &[(4500, 5000)]),
    ];
    // a, b, c form a block (pauses < 1 s); d, 1.5 s later, starts another. At natural speed with
    // 200 ms pads the block would end at 4500, past d - gap = 4420.
    let p = ms_plan(&chunks, &[1500, 1300, 1300, 400], 10_000, &policy);
    let speeds: Vec<f64> = p[..3].iter().map(|p| p.speed).collect();
    assert!(
        speeds
            .iter()
            .all(|s| (s - speeds[0]).abs() < 2e-3 && *s > 1.0 && *s <= 1.25),
        "{speeds:?}"
    );
    assert!(p[1].start >= p[0].end() + 200 && p[2].start >= p[1].end() + 200);
    assert!(p[2].end() <= 4420 && p[2].end() > 4400, "{}", p[2].end());
    assert_eq!(p[3].start, 4500);

    // A block with room to spare is slowed down to fill its span, not below min speed.
    let p = ms_plan(&chunks[..1], &[960], 10_000, &policy);
    assert_eq!(p[0].played, 1000);
}

#[test]
fn lines_past_the_video_end_are_pulled_earlier_never_cut_if_they_fit() {
    let chunks = [
        chunk(0, "a", &[(7000, 8000)]),
        chunk(1, "b", &[(9000, 9500)]),
    ];
    let p = ms_plan(&chunks, &[1000, 1500], 10_000, &Policy::default());
    assert_eq!((p[1].played, p[1].speed), (1200, 1.25));
    assert_eq!((p[1].start, p[1].shift, p[1].cut), (8800, -200, 0));
    assert!(has(&p[1], |w| matches!(w, Warning::PulledEarly { .. })));
    assert_eq!(p[1].end(), 10_000);
    assert!(p[0].end() + 80 <= p[1].start);

    // Speech longer than the video even at 1.25×: the end is cut, and the report says so.
    let p = ms_plan(
        &[chunk(0, "a", &[(0, 500)])],
        &[2000],
        1000,
        &Policy::default(),
    );
    assert_eq!((p[0].start, p[0].played, p[0].cut), (0, 1600, 600));
    assert!(has(&p[0], |w| matches!(w, Warning::CutAtVideoEnd { .. })));
}

#[test]
fn bad_input_is_an_error() {
    let c = [chunk(7, "a", &[])];
    assert_eq!(
        plan(&c, &[10], 100, 1000, &Policy::default()),
        Err(PlanError::NoWindows { index: 0, id: 7 })
    );
    assert!(matches!(
        plan(&c, &[], 100, 1000, &Policy::default()),
        Err(PlanError::LengthMismatch { .. })
    ));
    let bad = Policy {
        max_speed: 0.8,
        ..Policy::default()
    };
    assert!(matches!(
        plan(&[], &[], 100, 1000, &bad),
        Err(PlanError::InvalidPolicy(_))
    ));
}

/// Random chunk lists: windows with random pauses (sometimes overlapping the previous chunk),
/// some chunks empty, clip lengths from nothing to twice the span.
fn scenario() -> impl Strategy<Value = (Vec<Chunk>, Vec<u64>, u64, Policy)> {
    let one = (
        0u64..3000,                                             // pause before
        prop::collection::vec((100u64..4000, 0u64..800), 1..4), // windows: length, inner gap
        0u32..100,                                              // empty / overlapping chance
        0.0f64..2.2,                                            // clip length / span
    );
    (
        prop::collection::vec(one, 1..40),
        0u64..60_000,
        0usize..3,
        any::<bool>(),
        any::<bool>(),
        1.0f64..1.6,
    )
        .prop_map(|(items, tail, mode, strict, both, max_speed)| {
            let mut t = 0u64;
            let mut chunks = Vec::new();
            let mut natural = Vec::new();
            for (id, (pause, windows, dice, factor)) in items.into_iter().enumerate() {
                t = if dice < 10 {
                    t.saturating_sub(pause / 4)
                } else {
                    t + pause
                };
                let mut ws = Vec::new();
                for (len, gap) in windows {
                    ws.push(Window::new(t, t + len));
                    t += len + gap;
                }
                let span = ws.last().unwrap().end_ms - ws[0].start_ms;
                let text = if dice >= 85 { "" } else { "words" };
                chunks.push(Chunk {
                    id,
                    text: text.into(),
                    windows: ws,
                    segments: vec![id],
                });
                natural.push((span as f64 * factor * 24.0) as u64);
            }
            let policy = Policy {
                mode: [Mode::Segment, Mode::Sentence, Mode::Block][mode],
                strict_timing: strict,
                fit_mode: if both {
                    FitMode::StretchBoth
                } else {
                    FitMode::PadOrSpeedup
                },
                max_speed,
                ..Policy::default()
            };
            (chunks, natural, (t + tail) * 24, policy)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn nothing_is_truncated_nothing_overlaps_and_max_speed_holds((chunks, natural, track, policy) in scenario()) {
        let plan = plan(&chunks, &natural, track, 24_000, &policy).unwrap();
        let p = &plan.placements;
        prop_assert_eq!(p.len(), chunks.len());
        let mut sum_natural = 0u64;
        let mut sum_stretched = 0f64;
        for (pl, c) in p.iter().zip(&chunks) {
            prop_assert_eq!(pl.id, c.id);
            if c.is_empty() {
                prop_assert_eq!(pl.played, 0);
                continue;
            }
            sum_natural += natural[pl.index];
            sum_stretched += pl.played as f64 * pl.speed;
            if pl.played > 0 {
                prop_assert!(pl.speed <= policy.max_speed + 1e-12, "speed {} > {}", pl.speed, policy.max_speed);
                prop_assert!(pl.speed >= policy.min_speed - 1e-12, "speed {}", pl.speed);
                prop_assert!((pl.played as f64 * pl.speed - pl.natural as f64).abs() < 1e-6);
            }
            prop_assert!(pl.end() <= plan.track_len);
            let pulled = pl.warnings.iter().any(|w| matches!(w, Warning::PulledEarly { .. }));
            prop_assert!(pl.shift >= 0 || pulled, "starts before its window without a reason");
        }
        // Sum of played × speed equals the sum of natural lengths: no clip loses a sample.
        prop_assert!((sum_stretched - sum_natural as f64).abs() <= 1e-9 * sum_natural.max(1) as f64);
        let mut spoken: Vec<&Placement> = p.iter().filter(|p| p.end() > p.start).collect();
        spoken.sort_by_key(|p| p.start);
        for w in spoken.windows(2) {
            prop_assert!(w[0].end() <= w[1].start, "overlap: {:?} then {:?}", w[0], w[1]);
        }
        // With a video long enough for every clip at natural speed after the last window, nothing
        // is cut at the end.
        let last_end = chunks.iter().map(|c| c.end_ms() * 24).max().unwrap_or(0);
        if plan.track_len >= last_end + natural.iter().sum::<u64>() + 24 * 1000 * chunks.len() as u64 {
            prop_assert!(p.iter().all(|p| p.cut == 0));
        }
    }
}
