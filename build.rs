//! Puts the commit patrol is built from into `patrol --version` (PATROL_COMMIT).

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
}

fn main() {
    println!("cargo:rerun-if-env-changed=PATROL_COMMIT");
    // a build from a source tarball or a package names its commit itself
    let commit = std::env::var("PATROL_COMMIT")
        .ok()
        .filter(|s| !s.is_empty())
        // (not marked dirty: build.rs reruns when HEAD moves, not when a file changes)
        .or_else(|| git(&["rev-parse", "--short=10", "HEAD"]))
        .unwrap_or_else(|| "unknown commit".into());
    println!("cargo:rustc-env=PATROL_COMMIT={commit}");
    // rebuild when HEAD moves (a commit, a checkout)
    if let Some(head) = git(&["rev-parse", "--git-path", "HEAD"]) {
        println!("cargo:rerun-if-changed={head}");
    }
    if let Some(r) = git(&["symbolic-ref", "-q", "HEAD"])
        && let Some(p) = git(&["rev-parse", "--git-path", &r])
    {
        println!("cargo:rerun-if-changed={p}");
    }
}
