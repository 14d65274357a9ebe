//! Every command that needs no cluster, printing into a pipe whose reader has gone
//! (`patrol man | head -1`): a quiet end, never a panic or an error. The commands that read a
//! cluster are checked the same way in `e2e_readcmds`.

mod support;

use std::process::Command;

use support::closed_pipe::{assert_quiet_end, run_into_closed_pipe};

#[test]
fn commands_without_a_cluster_end_quietly_when_the_reader_has_gone() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let conf = dir.path().join("config.toml");
    let cases: Vec<Vec<String>> = vec![
        vec!["man".into()],
        vec!["completions".into(), "bash".into()],
        vec!["completions".into(), "zsh".into()],
        vec!["completions".into(), "fish".into()],
        vec!["themes".into()],
        vec!["--help".into()],
        vec!["list".into(), "--help".into()],
        vec!["--version".into()],
        vec![
            "--patrol-config".into(),
            conf.display().to_string(),
            "config".into(),
            "init".into(),
        ],
    ];
    for args in cases {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_patrol"));
        cmd.args(&args).env("HOME", dir.path());
        let end = run_into_closed_pipe(&mut cmd);
        assert_quiet_end(&format!("patrol {}", args.join(" ")), &end);
    }
}
