//! HAProxy's backend change to screen, on a running sandbox with HAProxy (not a test: it
//! asserts nothing; run by hand, see docs/benchmarks.md "HAProxy's backend change"):
//!
//! ```text
//! eval "$(scripts/cluster env)"
//! cargo bench --bench routing -- switchover --config "$PATROL_CONFIG" \
//!     --socket "$PATROL_HAPROXY_SOCKET" --haproxy "$PATROL_HAPROXY_URL,inter=1s" --rounds 20
//! ```
//!
//! Each round: a switchover with the venv's patronictl; from the moment patronictl returns,
//! when HAProxy's own stats first show `rw` routing to the new leader (the floor, read every
//! 20 ms), and when the real patrol binary on a 120x40 pseudo-terminal, with the routing view
//! open, first shows `rw ... → NEW ✓` (its screen read every 10 ms through vt100).
//! Without a subcommand (as `cargo test --all-targets` runs it) it does nothing.

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    let i = args.iter().position(|a| a == name)?;
    args.get(i + 1).cloned()
}

/// The server `rw` routes to now, from `show stat` on HAProxy's runtime socket (the stats
/// page answers chunked, which a raw read would have to decode).
fn haproxy_rw(socket: &str) -> Option<String> {
    let mut s = std::os::unix::net::UnixStream::connect(socket).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    s.write_all(b"show stat\n").ok()?;
    let mut body = Vec::new();
    s.read_to_end(&mut body).ok()?;
    let csv = String::from_utf8_lossy(&body);
    let parsed = patrol::haproxy::parse_csv(csv.as_bytes()).ok()?;
    let rw = parsed.proxies.iter().find(|p| p.name == "rw")?;
    let up: Vec<&str> = rw
        .servers
        .iter()
        .filter(|v| v.status.routes())
        .map(|v| v.name.as_str())
        .collect();
    (up.len() == 1).then(|| up[0].to_string())
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn summary(name: &str, v: &mut [f64]) {
    v.sort_by(|a, b| a.total_cmp(b));
    println!(
        "{name:<28} n={:<3} median {:>7.0} ms  p95 {:>7.0} ms  max {:>7.0} ms",
        v.len(),
        quantile(v, 0.5),
        quantile(v, 0.95),
        v.last().copied().unwrap_or(f64::NAN)
    );
}

fn main() {
    if std::env::args().nth(1).as_deref() != Some("switchover") {
        println!("routing bench: nothing to do without `switchover` (see its header)");
        return;
    }
    let (Some(config), Some(stats), Some(haproxy)) =
        (arg("--config"), arg("--socket"), arg("--haproxy"))
    else {
        eprintln!("routing bench: --config, --socket and --haproxy are required");
        std::process::exit(2);
    };
    let rounds: usize = arg("--rounds").and_then(|r| r.parse().ok()).unwrap_or(20);
    let patronictl = arg("--patronictl").unwrap_or_else(|| ".venv/bin/patronictl".into());
    let patrol = arg("--patrol").unwrap_or_else(|| "target/release/patrol".into());

    let pty = native_pty_system()
        .openpty(PtySize {
            rows: 40,
            cols: 120,
            pixel_width: 0,
            pixel_height: 0,
        })
        .expect("pty");
    let mut cmd = CommandBuilder::new(&patrol);
    cmd.args(["-c", &config, "--haproxy", &haproxy, "--read-only"]);
    cmd.env("TERM", "xterm-256color");
    let mut child = pty.slave.spawn_command(cmd).expect("spawn patrol");
    let mut reader = pty.master.try_clone_reader().expect("reader");
    let mut keys = pty.master.take_writer().expect("writer");
    let parser = Arc::new(Mutex::new(vt100::Parser::new(
        std::num::NonZeroU16::new(40).expect("40"),
        std::num::NonZeroU16::new(120).expect("120"),
        0,
    )));
    let p = parser.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            if let Ok(mut p) = p.lock() {
                p.process(&buf[..n]);
            }
        }
    });
    let screen = || {
        parser
            .lock()
            .map(|p| p.screen().contents())
            .unwrap_or_default()
    };
    std::thread::sleep(Duration::from_secs(3));
    let _ = keys.write_all(b"b");

    let (mut floor, mut shown, mut behind) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        // wait for a settled state: HAProxy and the screen agree on a leader
        let deadline = Instant::now() + Duration::from_secs(60);
        let leader = loop {
            if let Some(l) = haproxy_rw(&stats)
                && screen().contains(&format!("→ {l}  ✓"))
            {
                break Some(l);
            }
            if Instant::now() > deadline {
                break None;
            }
            std::thread::sleep(Duration::from_millis(200));
        };
        let Some(leader) = leader else {
            eprintln!(
                "round {round}: no settled state (HAProxy: {:?}); stopping; screen:\n{}",
                haproxy_rw(&stats),
                screen()
            );
            break;
        };
        // the replicas must be streaming again before a switchover is accepted
        std::thread::sleep(Duration::from_secs(3));
        let candidate = if leader == "pg1" { "pg2" } else { "pg1" };
        let out = std::process::Command::new(&patronictl)
            .args(["-c", &config, "switchover", "--leader", &leader])
            .args(["--candidate", candidate, "--force"])
            .output()
            .expect("patronictl");
        let t0 = Instant::now();
        if !out.status.success() {
            eprintln!(
                "round {round}: patronictl failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            continue;
        }
        let want = format!("→ {candidate}  ✓");
        let (mut tf, mut ts) = (None, None);
        let deadline = t0 + Duration::from_secs(60);
        let mut next_floor = t0;
        while (tf.is_none() || ts.is_none()) && Instant::now() < deadline {
            let now = Instant::now();
            if ts.is_none() && screen().contains(&want) {
                ts = Some(now - t0);
            }
            if tf.is_none() && now >= next_floor {
                if haproxy_rw(&stats).as_deref() == Some(candidate) {
                    tf = Some(now - t0);
                }
                next_floor = now + Duration::from_millis(20);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        match (tf, ts) {
            // already there when patronictl returned: nothing to time in this round
            (Some(f), Some(_)) if f < Duration::from_millis(1) => {
                eprintln!("round {round}: HAProxy had changed before patronictl returned")
            }
            (Some(f), Some(s)) => {
                let (f, s) = (f.as_secs_f64() * 1e3, s.as_secs_f64() * 1e3);
                eprintln!(
                    "round {round}: {leader}→{candidate}: HAProxy {f:.0} ms, patrol {s:.0} ms"
                );
                floor.push(f);
                shown.push(s);
                behind.push(s - f);
            }
            other => eprintln!("round {round}: not seen within 60 s: {other:?}"),
        }
    }
    let _ = keys.write_all(b"q");
    std::thread::sleep(Duration::from_millis(500));
    let _ = child.kill();
    let _ = child.wait();
    summary("HAProxy stats show it", &mut floor);
    summary("patrol's screen shows it", &mut shown);
    summary("screen behind HAProxy", &mut behind);
}
