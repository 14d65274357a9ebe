//! patrol's read commands against `patronictl` on the same real cluster (etcd + Patroni +
//! PostgreSQL on 127.0.0.1): byte for byte where patronictl's output is deterministic.

mod support;

use std::io::Read;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use support::closed_pipe::{assert_quiet_end, run_into_closed_pipe};
use support::{TestCluster, eventually};

fn patrol(c: &TestCluster, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_patrol"))
        .arg("-c")
        .arg(c.config_path())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run patrol")
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Both commands' stdout, equal within `timeout` (the two read etcd at slightly different
/// moments; patronictl's lag comes from the member keys, written once per loop_wait).
fn same(c: &TestCluster, args: &[&str], timeout: Duration) -> String {
    let start = Instant::now();
    loop {
        let ours = patrol(c, args);
        let theirs = c.patronictl(args);
        assert!(ours.status.success(), "patrol {args:?}: {ours:?}");
        assert!(theirs.status.success(), "patronictl {args:?}: {theirs:?}");
        let last = (text(&ours), text(&theirs));
        if last.0 == last.1 {
            return last.0;
        }
        if start.elapsed() > timeout {
            panic!(
                "patrol {args:?} differs from patronictl:\n--- patrol\n{}--- patronictl\n{}",
                last.0, last.1
            );
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn read_commands_print_what_patronictl_prints() {
    let c = TestCluster::start(3);
    let leader = c.wait_healthy(Duration::from_secs(60));

    // topology: the tree of the list table, byte for byte
    let topo = same(&c, &["topology"], Duration::from_secs(20));
    assert!(topo.contains(&format!("| {leader} ")), "{topo}");
    assert_eq!(topo.matches("| + pg").count(), 2, "{topo}");

    // show-config: PyYAML's exact bytes
    let conf = same(&c, &["show-config"], Duration::from_secs(5));
    assert!(conf.contains("ttl: 20\n"), "{conf}");

    // dsn: each way of choosing a member
    for args in [
        vec!["dsn"],
        vec!["dsn", "-r", "replica"],
        vec!["dsn", "-r", "any"],
        vec!["dsn", "-r", "primary"],
        vec!["dsn", "--role", "leader"],
        vec!["dsn", "-m", "pg3"],
        vec!["dsn", "demo", "--member", "pg2"],
    ] {
        let out = same(&c, &args, Duration::from_secs(5));
        assert!(out.starts_with("host=127.0.0.1 port="), "{args:?}: {out}");
    }
    // no standby leader here: both say so and fail
    let ours = patrol(&c, &["dsn", "-r", "standby-leader"]);
    let theirs = c.patronictl(&["dsn", "-r", "standby-leader"]);
    assert!(!ours.status.success() && !theirs.status.success());
    assert!(String::from_utf8_lossy(&ours.stderr).contains("Can not find a suitable member"));
    assert!(
        patrol(&c, &["dsn", "-r", "replica", "-m", "pg2"])
            .status
            .code()
            == Some(1)
    );

    // version: the member lines equal, after our own version line
    for args in [
        vec!["version", "demo"],
        vec!["version", "demo", "pg2", "pg3"],
    ] {
        let ours = text(&patrol(&c, &args));
        let theirs = text(&c.patronictl(&args));
        assert!(ours.starts_with("patrol version "), "{ours}");
        let tail = |s: &str| s.lines().skip(1).map(str::to_string).collect::<Vec<_>>();
        assert_eq!(tail(&ours), tail(&theirs), "{args:?}");
        assert!(ours.contains("Patroni 4.1.5 PostgreSQL 15."), "{ours}");
    }
    let bare = text(&patrol(&c, &["version"]));
    assert_eq!(bare.lines().count(), 1, "{bare}");

    // history: a switchover makes a row; every format the same bytes
    let target = c
        .member_names()
        .into_iter()
        .find(|m| *m != leader)
        .expect("a replica");
    let out = c.patronictl(&[
        "switchover",
        "--leader",
        &leader,
        "--candidate",
        &target,
        "--force",
    ]);
    assert!(out.status.success(), "switchover: {out:?}");
    eventually(Duration::from_secs(60), "the new leader healthy", || {
        (c.is_healthy() && c.leader().as_deref() == Some(target.as_str())).then_some(())
    });
    for f in ["pretty", "tsv", "json", "yaml"] {
        let out = same(&c, &["history", "-f", f], Duration::from_secs(10));
        assert!(out.contains(&target), "history -f {f}: {out}");
    }
    same(&c, &["topology"], Duration::from_secs(20));

    // list -t: the timestamp line (local time, to the second), then the list
    let out = text(&patrol(&c, &["list", "-t", "-f", "json"]));
    let (ts, rest) = out.split_once('\n').expect("two parts");
    assert_eq!(ts.len(), 19, "{ts:?}");
    assert!(
        ts.chars().enumerate().all(|(i, ch)| match i {
            4 | 7 => ch == '-',
            10 => ch == ' ',
            13 | 16 => ch == ':',
            _ => ch.is_ascii_digit(),
        }),
        "{ts:?}"
    );
    let rows: serde_json::Value = serde_json::from_str(rest.trim()).expect("JSON after the line");
    assert_eq!(rows.as_array().map(Vec::len), Some(3));

    // a pending restart with several reasons (one too long for the table) and a scheduled
    // switchover: the extra column, the multi-line cells and the `from:` / `to:` lines
    let out = c.patronictl(&[
        "edit-config",
        "--force",
        "-s",
        "postgresql.parameters.max_worker_processes=9",
        "-s",
        "postgresql.parameters.shared_preload_libraries='pg_stat_statements,auto_explain'",
    ]);
    assert!(out.status.success(), "edit-config: {out:?}");
    let out = c.patronictl(&[
        "switchover",
        "--leader",
        &target,
        "--candidate",
        &leader,
        "--scheduled",
        "2030-01-01T00:00+00:00",
        "--force",
    ]);
    assert!(out.status.success(), "scheduled switchover: {out:?}");
    eventually(
        Duration::from_secs(30),
        "every member pending a restart",
        || {
            let t = text(&c.patronictl(&["list", "-f", "json"]));
            (t.matches("\"Pending restart\": \"*\"").count() == 3).then_some(())
        },
    );
    let pretty = same(&c, &["list"], Duration::from_secs(20));
    assert!(pretty.contains("| Pending restart reason "), "{pretty}");
    assert!(
        pretty.contains("shared_preload_libraries: [hidden - too long]"),
        "{pretty}"
    );
    assert!(
        pretty.contains(&format!("\n                    from: {target}\n")),
        "{pretty}"
    );
    assert!(
        pretty.contains(&format!("\n                      to: {leader}")),
        "{pretty}"
    );
    for args in [
        vec!["list", "-e"],
        vec!["list", "-f", "json"],
        vec!["list", "-e", "-f", "json"],
        vec!["list", "-f", "yaml"],
        vec!["list", "-e", "-f", "yaml"],
        vec!["topology"],
    ] {
        same(&c, &args, Duration::from_secs(20));
    }
    // tsv: the same but for the reasons, on one line per member (see output::render)
    let theirs = text(&c.patronictl(&["list", "-e", "-f", "tsv"]));
    let ours = text(&patrol(&c, &["list", "-e", "-f", "tsv"]));
    assert_eq!(ours.lines().count(), 4, "{ours}");
    assert!(
        ours.contains("max_worker_processes: 8->9, shared_preload_libraries: ->pg_stat_statements,auto_explain"),
        "{ours}"
    );
    assert_eq!(theirs.lines().next(), ours.lines().next(), "the header");
    let out = c.patronictl(&["flush", "demo", "switchover", "--force"]);
    assert!(out.status.success(), "flush: {out:?}");

    // a reader that has gone (`patrol list | head -1` after head exits): a quiet end, for
    // every command that prints, the watching ones included
    for args in [
        vec!["list"],
        vec!["list", "-e", "-f", "yaml"],
        vec!["list", "-W"],
        vec!["topology", "-W"],
        vec!["history"],
        vec!["show-config"],
        vec!["dsn"],
        vec!["version", "demo"],
    ] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_patrol"));
        cmd.arg("-c").arg(c.config_path()).args(&args);
        let end = run_into_closed_pipe(&mut cmd);
        assert_quiet_end(&format!("patrol {}", args.join(" ")), &end);
    }
}

/// A child killed and reaped when the test ends, also when it fails half-way (a panic
/// once left `list -W` running for an hour).
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Outputs seen so far on the watch's stdout (each starts with the table's title).
fn outputs(buf: &str) -> usize {
    buf.matches("+ Cluster: demo").count()
}

/// `-W` prints on a change, not on a timer: no output is the same as the one before it (a
/// WAL position moving on a quiet cluster is a change, and is printed).
fn assert_each_output_differs(buf: &str) {
    let tables: Vec<&str> = buf
        .split("+ Cluster: demo")
        .skip(1)
        .map(|t| t.trim_start_matches(|c| c != '\n'))
        .collect();
    for w in tables.windows(2) {
        assert_ne!(w[0], w[1], "printed again with nothing changed:\n{buf}");
    }
}

#[test]
fn list_watch_prints_again_on_a_change_and_not_while_nothing_changes() {
    let c = TestCluster::start(3);
    c.wait_healthy(Duration::from_secs(60));
    let mut child = Killed(
        Command::new(env!("CARGO_BIN_EXE_patrol"))
            .arg("-c")
            .arg(c.config_path())
            .args(["list", "-W"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn patrol list -W"),
    );
    let mut stdout = child.0.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        let mut b = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut b) {
            if n == 0
                || tx
                    .send(String::from_utf8_lossy(&b[..n]).into_owned())
                    .is_err()
            {
                break;
            }
        }
    });
    let mut buf = String::new();
    let pump = |buf: &mut String| {
        while let Ok(s) = rx.try_recv() {
            buf.push_str(&s);
        }
    };
    eventually(Duration::from_secs(20), "the first output", || {
        pump(&mut buf);
        (outputs(&buf) >= 1).then_some(())
    });
    // a quiet cluster over 8 s: patronictl would have printed 4 more times; patrol prints
    // only what changed. That can be more than once: one WAL record (a checkpoint, a
    // running-xacts snapshot) reaches each replica's row in that replica's own poll, one
    // change each (CI once saw pg3's then pg2's). What must never happen is a table equal
    // to the one before it, or a reprint every interval.
    std::thread::sleep(Duration::from_secs(8));
    pump(&mut buf);
    assert_each_output_differs(&buf);
    assert!(outputs(&buf) <= 3, "reprinted on a timer:\n{buf}");
    assert!(!buf.contains("Maintenance mode"), "{buf}");
    let before_pause = outputs(&buf);

    // a change: printed again within a bounded wait
    let out = c.patronictl(&["pause", "--wait"]);
    assert!(out.status.success(), "pause: {out:?}");
    eventually(Duration::from_secs(15), "an output after the pause", || {
        pump(&mut buf);
        (outputs(&buf) > before_pause && buf.contains(" Maintenance mode: on")).then_some(())
    });
    // and then quiet again
    let after_pause = outputs(&buf);
    std::thread::sleep(Duration::from_secs(5));
    pump(&mut buf);
    // (a WAL record reaching the replicas one by one, as above)
    assert!(outputs(&buf) <= after_pause + 2, "after the pause:\n{buf}");
    assert_each_output_differs(&buf);

    // Ctrl-C ends it cleanly
    let st = Command::new("kill")
        .args(["-INT", &child.0.id().to_string()])
        .status()
        .expect("kill -INT");
    assert!(st.success());
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.0.try_wait().expect("try_wait") {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "patrol list -W still running 10 s after SIGINT"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "exit after SIGINT: {status:?}");
    let _ = reader.join();
    let out = c.patronictl(&["resume", "--wait"]);
    assert!(out.status.success(), "resume: {out:?}");
}
