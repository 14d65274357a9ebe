//! TLS and authentication end to end, each test on its own real cluster started by
//! `scripts/cluster` with `PATROL_TLS=1` (etcd on https with `--client-cert-auth`, every
//! Patroni REST API on https with `verify_client: required`, certificates made by openssl
//! in the cluster's directory) and/or `PATROL_ETCD_AUTH=1` (etcd users, `auth enable`).

mod support;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use patrol::app::members::RestHealth;
use patrol::app::ops::Settle;
use patrol::app::{App, DcsHealth};
use patrol::config::{self, ConfigSource};
use patrol::runtime::Headless;
use ratatui::crossterm::event::KeyCode;
use serde_json::Value;
use support::drive::{describe, last_op, press, rt, select, settings};
use support::{ClusterOptions, ETCD_PASSWORD, REST_PASSWORD, TestCluster, eventually, healthy};

fn patrol(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_patrol"))
        .args(args)
        .output()
        .expect("run patrol")
}

/// Cluster, member, role, state and timeline of each row, as `list -f json` prints them.
fn rows_of(v: &Value) -> Vec<(String, String, String, String, String)> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|r| {
            let s = |k: &str| r.get(k).map(|v| v.to_string()).unwrap_or_default();
            (s("Cluster"), s("Member"), s("Role"), s("State"), s("TL"))
        })
        .collect()
}

/// A CA the cluster never heard of, made with openssl like the harness's.
fn wrong_ca(dir: &Path) -> PathBuf {
    let (key, crt) = (dir.join("wrong-ca.key"), dir.join("wrong-ca.crt"));
    let out = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
        .args(["ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&crt)
        .args(["-subj", "/CN=not the cluster's CA"])
        .args(["-addext", "basicConstraints=critical,CA:TRUE"])
        .output()
        .expect("run openssl");
    assert!(out.status.success(), "openssl: {out:?}");
    crt
}

/// The cluster's patronictl.yaml with `from` replaced by `to` (exactly once), saved as `name`.
fn config_with(c: &TestCluster, name: &str, from: &str, to: &str) -> PathBuf {
    let text = std::fs::read_to_string(c.config_path()).expect("config");
    assert_eq!(text.matches(from).count(), 1, "{from:?} once in:\n{text}");
    let p = c.dir().join(name);
    std::fs::write(&p, text.replace(from, to)).expect("write config");
    p
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o777
}

/// The key files are private to whoever reads them: the members' to the user Patroni runs
/// as (postgres when the tests run as root), patrol's and etcd's to us.
fn keys_are_private(c: &TestCluster) {
    let me = unsafe { libc::geteuid() };
    let postgres = if me == 0 {
        let out = Command::new("id")
            .args(["-u", "postgres"])
            .output()
            .expect("id");
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse::<u32>()
            .expect("postgres uid")
    } else {
        me
    };
    for k in ["client.key", "etcd.key", "ca.key"] {
        let p = c.tls_dir().join(k);
        assert_eq!(mode(&p), 0o600, "{}", p.display());
        assert_eq!(std::fs::metadata(&p).expect("stat").uid(), me);
    }
    for m in c.member_names() {
        let p = c.dir().join(&m).join("tls/server.key");
        assert_eq!(mode(&p), 0o600, "{}", p.display());
        assert_eq!(
            std::fs::metadata(&p).expect("stat").uid(),
            postgres,
            "{} belongs to the user Patroni runs as",
            p.display()
        );
    }
}

async fn start(cfg: &Path, audit: Option<PathBuf>) -> Headless {
    let mut h = Headless::start(
        &settings(cfg),
        Duration::from_millis(500),
        Duration::from_secs(2),
    )
    .expect("start");
    h.configure(audit, false);
    let ok = h.until(Duration::from_secs(40), healthy).await;
    assert!(ok, "healthy over TLS:\n{}", describe(&h.app));
    h
}

/// (1) etcd over TLS with client certificates and user/password auth, every REST API over
/// https with `verify_client: required` and basic auth: every member live (state and lag
/// from REST), etcd's own status, `list -f json` as patronictl prints it, REST-only mode's
/// `/cluster`, and a restart of a replica that goes through and settles.
#[test]
fn tls_and_auth_everywhere() {
    let c = TestCluster::start_with(ClusterOptions {
        members: 3,
        tls: true,
        etcd_auth: true,
        ..Default::default()
    });
    keys_are_private(&c);
    // the cluster really demands what patrol must present: no client certificate, no REST;
    // no password, no etcd
    let bare = Command::new("curl")
        .arg("-sS")
        .arg("--cacert")
        .arg(c.tls_dir().join("ca.crt"))
        .arg(format!("{}/patroni", c.rest_url("pg1")))
        .output()
        .expect("curl");
    assert!(
        !bare.status.success(),
        "REST answered without a client certificate"
    );
    let cfg_text = std::fs::read_to_string(c.config_path()).expect("config");
    assert!(
        cfg_text.contains(&format!("password: {ETCD_PASSWORD}")),
        "{cfg_text}"
    );
    let no_auth = config_with(
        &c,
        "no-auth.yaml",
        &format!("  password: {ETCD_PASSWORD}\n"),
        "",
    );
    let out = patrol(&["-c", &no_auth.to_string_lossy(), "list"]);
    assert!(
        !out.status.success(),
        "etcd answered without a password: {out:?}"
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let audit = dir.path().join("audit.jsonl");
    rt().block_on(async {
        let mut h = start(c.config_path(), Some(audit.clone())).await;
        match &h.app.model.dcs {
            DcsHealth::Live { endpoint, .. } => assert_eq!(endpoint, &c.etcd_url()),
            other => panic!("etcd not live: {other:?}"),
        }
        // the state and lag columns come from REST
        for r in h.app.rows() {
            assert_eq!(r.rest, RestHealth::Live, "{}", describe(&h.app));
        }
        // etcd's status (the etcd view) over the same TLS and credentials
        let ok = h
            .until(Duration::from_secs(15), |a: &App| {
                a.model.etcd_status.iter().any(|s| s.result.is_ok())
            })
            .await;
        assert!(ok, "etcd status: {:?}", h.app.model.etcd_status);

        // a restart of a replica: POST /restart over https with the client certificate and
        // basic auth, settled from etcd
        let replica = h
            .app
            .rows()
            .iter()
            .find(|r| !r.role.is_leader())
            .map(|r| r.name.clone())
            .expect("a replica");
        select(&mut h, &replica);
        press(&mut h, KeyCode::Char('r'));
        press(&mut h, KeyCode::Enter);
        press(&mut h, KeyCode::Char('y'));
        let s = last_op(&mut h, Duration::from_secs(60)).await;
        assert!(
            matches!(&s, Settle::Done(m) if m.contains("streams again")),
            "{s:?}\n{}",
            describe(&h.app)
        );
    });
    let audit_text = std::fs::read_to_string(&audit).expect("audit written");
    assert!(audit_text.contains("\"restart\""), "{audit_text}");
    for s in [REST_PASSWORD, ETCD_PASSWORD] {
        assert!(!audit_text.contains(s), "the audit log holds {s:?}");
    }

    // `patrol list -f json`: the rows and keys patronictl prints
    let cfg = c.config_path().to_string_lossy().to_string();
    let out = patrol(&["-c", &cfg, "list", "-f", "json"]);
    assert!(out.status.success(), "patrol list: {out:?}");
    let ours: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let theirs = c.patronictl_json_list();
    assert_eq!(
        rows_of(&ours),
        rows_of(&theirs),
        "patrol: {ours}\npatronictl: {theirs}"
    );
    let keys = |v: &Value| -> Vec<Vec<String>> {
        v.as_array()
            .expect("array")
            .iter()
            .map(|r| r.as_object().expect("object").keys().cloned().collect())
            .collect()
    };
    assert_eq!(
        keys(&ours),
        keys(&theirs),
        "patrol: {ours}\npatronictl: {theirs}"
    );

    // REST-only: /cluster, /config, /history over https with the client certificate
    let api = c.rest_url("pg2");
    let out = patrol(&[
        "-c",
        &cfg,
        "--rest-only",
        "--api",
        &api,
        "list",
        "-f",
        "json",
    ]);
    assert!(out.status.success(), "patrol list --rest-only: {out:?}");
    let rest: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(rows_of(&rest), rows_of(&theirs), "REST-only: {rest}");
}

/// (2) A CA that did not sign the members' certificates: the screen names each member and
/// the reason with the file to look at, nothing panics, and `-k` (only it) makes REST work.
/// The same CA for etcd: the header says so, naming `etcd3.cacert`.
#[test]
fn a_wrong_ca_is_named_on_screen_and_k_skips_verification() {
    let c = TestCluster::start_with(ClusterOptions {
        members: 3,
        tls: true,
        etcd_auth: false,
        ..Default::default()
    });
    let wrong = wrong_ca(c.dir());
    let right = c.tls_dir().join("ca.crt");
    let ctl_ca = format!("  cacert: {}\n  certfile:", right.display());
    let cfg = config_with(
        &c,
        "wrong-rest-ca.yaml",
        &ctl_ca,
        &format!("  cacert: {}\n  certfile:", wrong.display()),
    );
    let cfg_s = cfg.to_string_lossy().to_string();

    // the real binary: the reason on screen, per member
    let (mut child, mut keys, screen) = support::pty::spawn(&["-c", &cfg_s], &[], 170, 40);
    let expect = format!(
        "REST TLS: certificate signed by an unknown authority (ctl.cacert {})",
        wrong.display()
    );
    let t = screen.wait_until("the TLS reason on screen", Duration::from_secs(30), |t| {
        t.contains(&expect) && t.contains("pg1, pg2, pg3")
    });
    assert!(
        t.contains("streaming") || t.contains("running"),
        "etcd still shows the members:\n{t}"
    );
    assert!(
        child.try_wait().ok().flatten().is_none(),
        "patrol is still running:\n{t}"
    );
    use std::io::Write;
    keys.write_all(b"q").expect("q");
    let st = eventually(Duration::from_secs(10), "patrol exits", || {
        child.try_wait().ok().flatten()
    });
    assert!(st.success(), "{st:?}");
    let raw = String::from_utf8_lossy(&screen.raw()).to_string();
    assert!(!raw.contains("panicked"), "{raw}");

    // in-process, the same reason on each member's row
    rt().block_on(async {
        let s = config::load(&ConfigSource {
            file: Some(cfg.clone()),
            ..Default::default()
        })
        .expect("config loads");
        let mut h = Headless::start(&s, Duration::from_millis(500), Duration::from_secs(2))
            .expect("start");
        let ok = h
            .until(Duration::from_secs(30), |a: &App| {
                let rows = a.rows();
                rows.len() == 3
                    && rows.iter().all(|r| {
                        matches!(&r.rest, RestHealth::Unreachable { error, .. }
                            if error.starts_with("TLS: certificate signed by an unknown authority (ctl.cacert"))
                    })
            })
            .await;
        assert!(ok, "every member's REST error says why:\n{}", describe(&h.app));

        // -k: verification skipped (the client certificate is still presented: REST works)
        let s = config::load(&ConfigSource {
            file: Some(cfg.clone()),
            insecure: true,
            ..Default::default()
        })
        .expect("config loads");
        let mut h = Headless::start(&s, Duration::from_millis(500), Duration::from_secs(2))
            .expect("start");
        let ok = h.until(Duration::from_secs(30), healthy).await;
        assert!(ok, "healthy with -k:\n{}", describe(&h.app));
    });

    // -k on the command line: the binary's REST works, the reason is gone
    let (mut child, mut keys, screen) = support::pty::spawn(&["-k", "-c", &cfg_s], &[], 170, 40);
    screen.wait_until("REST ok with -k", Duration::from_secs(30), |t| {
        !t.contains("REST TLS")
            && t.lines()
                .filter(|l| l.contains("127.0.0.1") && l.contains(" ok "))
                .count()
                == 3
    });
    keys.write_all(b"q").expect("q");
    let st = eventually(Duration::from_secs(10), "patrol exits", || {
        child.try_wait().ok().flatten()
    });
    assert!(st.success(), "{st:?}");

    // the wrong CA for etcd: the header names etcd3.cacert; -k does not touch etcd
    let etcd_ca = format!("  cacert: {}\n  cert:", right.display());
    let cfg = config_with(
        &c,
        "wrong-etcd-ca.yaml",
        &etcd_ca,
        &format!("  cacert: {}\n  cert:", wrong.display()),
    );
    let (mut child, mut keys, screen) =
        support::pty::spawn(&["-k", "-c", &cfg.to_string_lossy()], &[], 170, 40);
    let expect = format!(
        "TLS: certificate signed by an unknown authority (etcd3.cacert {})",
        wrong.display()
    );
    screen.wait_until(
        "etcd's TLS reason in the header",
        Duration::from_secs(30),
        |t| t.contains("DOWN") && t.contains(&expect),
    );
    keys.write_all(b"q").expect("q");
    let st = eventually(Duration::from_secs(10), "patrol exits", || {
        child.try_wait().ok().flatten()
    });
    assert!(st.success(), "{st:?}");
    let out = patrol(&["-c", &cfg.to_string_lossy(), "list"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains(&expect),
        "{stderr}"
    );
}

/// (3) A wrong etcd password: a clear error on screen and from `list`, which names the keys
/// and quotes neither password.
#[test]
fn a_wrong_etcd_password_is_a_clear_error() {
    let c = TestCluster::start_with(ClusterOptions {
        members: 2,
        tls: false,
        etcd_auth: true,
        ..Default::default()
    });
    const WRONG: &str = "not-the-etcd-password";
    let cfg = config_with(
        &c,
        "wrong-password.yaml",
        &format!("password: {ETCD_PASSWORD}"),
        &format!("password: {WRONG}"),
    );
    let cfg = cfg.to_string_lossy().to_string();
    let why = "etcd refused the user name or password (etcd3.username / etcd3.password)";
    let (mut child, mut keys, screen) = support::pty::spawn(&["-c", &cfg], &[], 170, 40);
    let t = screen.wait_until("the refusal in the header", Duration::from_secs(30), |t| {
        t.contains("DOWN") && t.contains(why)
    });
    use std::io::Write;
    keys.write_all(b"e").expect("e");
    std::thread::sleep(Duration::from_millis(1500));
    let etcd_view = screen.text();
    keys.write_all(b"q").expect("q");
    let st = eventually(Duration::from_secs(10), "patrol exits", || {
        child.try_wait().ok().flatten()
    });
    assert!(st.success(), "{st:?}");
    let raw = String::from_utf8_lossy(&screen.raw()).to_string();
    for s in [WRONG, ETCD_PASSWORD] {
        assert!(
            !raw.contains(s),
            "the terminal got {s:?}:\n{t}\n{etcd_view}"
        );
    }
    let out = patrol(&["-c", &cfg, "list"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{out:?}");
    assert!(stderr.contains(why), "{stderr}");
    assert!(
        !stderr.contains(WRONG) && !stderr.contains(ETCD_PASSWORD),
        "{stderr}"
    );
}
