//! Every file patrol reads whole is read with a bound: the real binary given `/dev/zero` as
//! its config, its own config or its theme exits at once with an error naming the file and
//! the bound, and its memory stays small (an unbounded read grows by GBs in seconds).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Kills the child if the test fails before it has been waited for.
struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Run patrol with `args` (no terminal: stdin/stdout/stderr are pipes / null), wait at most
/// 10 s, and return its exit code and stderr.
fn run(args: &[&str]) -> (Option<i32>, String) {
    let home = tempfile::tempdir().expect("tempdir");
    let child = Command::new(env!("CARGO_BIN_EXE_patrol"))
        .args(args)
        // no config of the developer's leaks in
        .env_clear()
        .env("HOME", home.path())
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn patrol");
    let mut child = Kill(child);
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.0.try_wait().expect("try_wait") {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "patrol {args:?} still runs after 10 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    if let Some(mut e) = child.0.stderr.take() {
        use std::io::Read;
        let _ = e.read_to_string(&mut err);
    }
    (status.code(), err)
}

/// The largest resident set of any child this test process has waited for, in KiB.
fn children_max_rss_kib() -> i64 {
    // SAFETY: getrusage fills the struct we pass and touches nothing else
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut u) };
    assert_eq!(rc, 0, "getrusage");
    u.ru_maxrss
}

/// A cluster given on the command line, so no patronictl.yaml is needed to get as far as
/// patrol's own config and the theme.
const NO_FILE: [&str; 4] = ["-d", "etcd3://127.0.0.1:9/service", "--cluster", "x"];

#[test]
fn dev_zero_as_any_file_is_refused_quickly_with_bounded_memory() {
    let cases: [(Vec<&str>, &str); 3] = [
        (vec!["-c", "/dev/zero"], "/dev/zero"),
        (
            [&NO_FILE[..], &["--patrol-config", "/dev/zero"]].concat(),
            "/dev/zero",
        ),
        (
            [&NO_FILE[..], &["--theme", "/dev/zero"]].concat(),
            "theme /dev/zero",
        ),
    ];
    for (args, names) in cases {
        let (code, err) = run(&args);
        // an error exit, not a signal (an OOM kill would be SIGKILL)
        assert!(
            matches!(code, Some(c) if c != 0),
            "{args:?}: exit {code:?}: {err}"
        );
        assert!(
            err.contains(names) && err.contains("is larger than"),
            "{args:?}: the error names the file and the bound: {err}"
        );
    }
    // an unbounded read reaches GBs before the 10 s are up; the bounded one a few MiB
    let rss = children_max_rss_kib();
    assert!(rss < 100 * 1024, "a patrol run peaked at {rss} KiB");
}
