//! Run a command whose stdout is a pipe nobody reads any more (`patrol man | head -1` after
//! head has gone): it must end quietly, as `cat` does, not with a panic or an error.

use std::os::unix::process::ExitStatusExt;
use std::process::{Command, ExitStatus, Stdio};

/// Run `cmd` with stdout a pipe whose reading end is closed before it starts; its exit status
/// and its stderr. A command still running after 30 s (a `list -W` that did not notice) is
/// killed and the test fails.
pub fn run_into_closed_pipe(cmd: &mut Command) -> (ExitStatus, String) {
    use std::io::Read;
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the command");
    let mut stderr = child.stderr.take().expect("stderr");
    let err = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stderr.read_to_end(&mut s);
        String::from_utf8_lossy(&s).into_owned()
    });
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().expect("try_wait") {
            break st;
        }
        if start.elapsed() > std::time::Duration::from_secs(30) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} still running 30 s after its reader had gone");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    (status, err.join().unwrap_or_default())
}

/// Ended as a reader that stopped early expects: killed by SIGPIPE (the shell's 141, like
/// `cat`) or a plain success when it had nothing left to print, and nothing on stderr.
pub fn assert_quiet_end(what: &str, (status, stderr): &(ExitStatus, String)) {
    assert!(
        status.signal() == Some(libc::SIGPIPE) || status.success(),
        "{what}: ended with {status:?} into a closed pipe; stderr:\n{stderr}"
    );
    assert!(stderr.is_empty(), "{what}: wrote to stderr:\n{stderr}");
}
