//! Render and update cost per frame / per event, in process (criterion + ratatui TestBackend).
//!
//! `cargo bench --bench render` measures; `scripts/bench` runs it and reads the estimates
//! from `target/criterion/`. Without `--bench` (as `cargo test --all-targets` runs it) it
//! draws each state once and exits: a smoke test, no timing.

mod synth;

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::Criterion;
use patrol::app::{App, Msg};
use patrol::dcs::{DcsEvent, RawKv};
use patrol::theme::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

struct Case {
    id: &'static str,
    app: App,
    w: u16,
    h: u16,
}

fn cases(now: Instant, big: &App) -> Vec<Case> {
    vec![
        Case {
            id: "members_3_120x40",
            app: synth::one_cluster_app(3, now),
            w: 120,
            h: 40,
        },
        Case {
            id: "members_1000_120x40",
            app: big.clone(),
            w: 120,
            h: 40,
        },
        Case {
            id: "members_1000_80x24",
            app: big.clone(),
            w: 80,
            h: 24,
        },
        Case {
            id: "namespace_200x5_120x40",
            app: synth::namespace_app(200, 5, now),
            w: 120,
            h: 40,
        },
    ]
}

/// A member key rewrite of member `i` in cluster `scope` (what Patroni does on a change).
fn put(scope: &str, i: usize, xlog: u64) -> Msg {
    // the same api_url as in the snapshot: a rewrite, not a member moving
    let api = format!("http://127.0.0.1:{}", 8000 + (i - 1) % 1000);
    Msg::Dcs(
        Instant::now(),
        DcsEvent::Put(RawKv {
            key: format!("/service/{scope}/members/{}", synth::member_name(i)),
            value: synth::member_json(5400 + (i % 1000) as u16, false, xlog, Some(&api), "running")
                .into_bytes(),
            lease: 0,
        }),
    )
}

fn smoke() {
    let theme = Theme::load(None, false).expect("built-in theme");
    let now = Instant::now();
    let big = synth::one_cluster_app(1000, now);
    for c in cases(now, &big) {
        let mut t = Terminal::new(TestBackend::new(c.w, c.h)).expect("backend");
        t.draw(|f| patrol::ui::render(f, &c.app, &theme))
            .expect("draw");
        let first = (0..c.w)
            .map(|x| t.backend().buffer()[(x, 0)].symbol().to_string())
            .collect::<String>();
        assert!(first.contains("patrol"), "{}: {first}", c.id);
    }
    println!("render bench: smoke ok (run `cargo bench --bench render` to measure)");
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        smoke();
        return;
    }
    let theme = Theme::load(None, false).expect("built-in theme");
    let mut cr = Criterion::default()
        .sample_size(40)
        .warm_up_time(Duration::from_millis(700))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();

    // One full frame: rows derived from the state, layout, widgets, and ratatui's diff
    // against the previous buffer (as `Terminal::draw` does in the TUI).
    let now = Instant::now();
    // built once: at 1000 members each REST answer's `update` costs milliseconds
    let big = synth::one_cluster_app(1000, now);
    {
        let mut g = cr.benchmark_group("render");
        for c in cases(now, &big) {
            let mut t = Terminal::new(TestBackend::new(c.w, c.h)).expect("backend");
            g.bench_function(c.id, |b| {
                b.iter(|| {
                    t.draw(|f| patrol::ui::render(f, black_box(&c.app), &theme))
                        .expect("draw");
                })
            });
        }
        g.finish();
    }

    // One DCS event applied by `App::update` (parse the member JSON, store it).
    {
        let mut g = cr.benchmark_group("update");
        let mut big = big.clone();
        let mut n = 0u64;
        g.bench_function("member_put_1000_members", |b| {
            b.iter(|| {
                n += 1;
                black_box(big.update(put("big", 2 + (n as usize % 999), synth::TOP_LSN - n)));
            })
        });
        // one member's `GET /patroni` answer arriving (1000 pollers: 1000 of these a second)
        let mut big2 = big.clone();
        g.bench_function("rest_answer_1000_members", |b| {
            b.iter(|| {
                n += 1;
                let i = 2 + (n as usize % 999);
                let mut s = synth::rest_status(i);
                s.xlog.replayed_location = s.xlog.replayed_location.map(|l| l - n % 4096);
                black_box(big2.update(Msg::Rest {
                    member: synth::member_name(i),
                    at: Instant::now(),
                    result: Ok(Box::new(s)),
                }));
            })
        });
        let mut ns = synth::namespace_app(200, 5, now);
        g.bench_function("member_put_namespace_200x5", |b| {
            b.iter(|| {
                n += 1;
                let scope = synth::scope_name(n as usize % 200);
                black_box(ns.update(put(&scope, 2 + (n as usize % 4), synth::TOP_LSN - n)));
            })
        });
        g.finish();
    }

    // The member rows alone (computed on every draw, and on every clock tick).
    {
        let mut g = cr.benchmark_group("rows");
        g.bench_function("rows_1000_members", |b| b.iter(|| black_box(big.rows())));
        g.finish();
    }
    cr.final_summary();
}
