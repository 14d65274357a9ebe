//! Member keys written into a real cluster's prefix must not make patrol run anything through
//! a `--logs` template: a `conn_url` host that is an ssh option, a member name that is shell
//! code. Neither is substituted, both are warned about by key, the real member's log flows.

mod support;

use support::drive::rt;

use std::path::{Path, PathBuf};
use std::time::Duration;

use patrol::app::App;
use patrol::config::{self, ConfigSource, Settings};
use patrol::logs::LogSourceSpec;
use patrol::runtime::Headless;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use support::TestCluster;

/// A stand-in for ssh with its argument handling: options first (`-o KEY=VALUE` or
/// `-oKEY=VALUE`; a `ProxyCommand` is run by a shell, as ssh does), then the host, then the
/// remote command, which is joined and parsed again by a shell, as sshd's shell would. Both
/// run in the sandbox directory (the "remote home"), so what they touch lands there.
const FAKE_SSH: &str = r#"#!/bin/sh
cd "$(dirname "$0")" || exit 1
while [ $# -gt 0 ]; do
  case "$1" in
    -o) opt="$2"; shift 2 ;;
    -o*) opt="${1#-o}"; shift ;;
    -*) opt=""; shift ;;
    *) break ;;
  esac
  case "$opt" in
    ProxyCommand=*) sh -c "${opt#ProxyCommand=}" ;;
  esac
done
shift
exec sh -c "$*"
"#;

fn settings(c: &TestCluster) -> Settings {
    config::load(&ConfigSource {
        file: Some(c.config_path().to_path_buf()),
        ..Default::default()
    })
    .expect("the sandbox's patronictl.yaml loads")
}

fn script(dir: &Path, name: &str, text: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write script");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    p
}

fn screen(app: &App) -> String {
    let theme = patrol::theme::Theme::load(None, false).expect("built-in theme");
    let mut t = Terminal::new(TestBackend::new(160, 40)).expect("test backend");
    t.draw(|f| patrol::ui::render(f, app, &theme))
        .expect("draw");
    let buf = t.backend().buffer();
    (0..buf.area.height)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn hostile_member_keys_never_run_through_a_log_template() {
    let c = TestCluster::start(1);
    let dir = c.dir().to_path_buf();
    let pwned1 = dir.join("pwned-by-host");
    let pwned2 = dir.join("pwned-by-member");
    let ssh = script(&dir, "fake-ssh", FAKE_SSH);
    // the "remote" side: a member's Patroni log in the sandbox (like `journalctl -u`, it
    // ends at once for a member it does not know)
    let logcat = script(
        &dir,
        "logcat",
        &format!(
            "#!/bin/sh\nf={}/\"$1\"/log/patroni.log\n\
             [ -f \"$f\" ] || {{ echo \"no log for $1\" >&2; exit 1; }}\n\
             exec tail -n 5 -F \"$f\"\n",
            dir.display()
        ),
    );

    // relative: a member name cannot hold a '/' (it would not be a member key)
    let host_key = "members/evil";
    let member_key = "members/x;touch pwned-by-member";
    let put = |key: &str, conn_url: &str| {
        let value = serde_json::json!({
            "conn_url": conn_url,
            "state": "running",
            "role": "replica",
            "timeline": 1,
        })
        .to_string();
        let out = c.etcdctl(&["put", &format!("{}{key}", c.key_prefix()), &value]);
        assert!(out.status.success(), "etcdctl put {key}: {out:?}");
    };
    put(
        host_key,
        "postgres://-oProxyCommand=touch pwned-by-host:5432/postgres",
    );
    put(member_key, "postgres://127.0.0.1:5432/postgres");

    let templates = [
        // {host} where ssh expects its host argument
        format!(
            "cmd:{} -o BatchMode=yes -o ConnectTimeout=1 {{host}} {} {{member}}",
            ssh.display(),
            logcat.display()
        ),
        // {member} inside the remote command (only the local shell's quoting around it)
        format!(
            "cmd:{} -o BatchMode=yes 127.0.0.1 {} {{member}}",
            ssh.display(),
            logcat.display()
        ),
    ];
    let rt = rt();
    for (t, uses_host) in templates.iter().zip([true, false]) {
        rt.block_on(async {
            let mut h = Headless::start(
                &settings(&c),
                Duration::from_millis(500),
                Duration::from_secs(2),
            )
            .expect("start");
            let ok = h
                .until(Duration::from_secs(30), |a| {
                    a.cluster().is_some_and(|c| c.members.len() == 3)
                })
                .await;
            assert!(ok, "the real member and both hostile keys are loaded");
            h.set_logs(Some(LogSourceSpec::parse(t).expect("spec")));

            // the real member's log flows, through the same template
            let ok = h
                .until(Duration::from_secs(30), |a| {
                    a.model.logs.member("pg1").count() > 0
                })
                .await;
            assert!(ok, "pg1's log lines arrive through {t}");
            // a few seconds for anything hostile to run: nothing does
            let ran = h
                .until(Duration::from_secs(5), |_| {
                    pwned1.exists() || pwned2.exists()
                })
                .await;
            assert!(
                !ran,
                "etcd content ran as code through {t}: {} {}",
                pwned1.exists(),
                pwned2.exists()
            );

            // each refusal names its key, in the state and on screen
            // (the bad host only matters to a template that uses {host})
            let w = &h.app.model.log_warnings;
            assert!(w.contains_key(member_key), "{w:?}");
            assert!(w[member_key].contains("member name refused"), "{w:?}");
            assert_eq!(w.contains_key(host_key), uses_host, "{w:?}");
            let s = screen(&h.app);
            assert!(
                s.contains(
                    "members/x;touch pwned-by-member: log not followed: member name refused"
                ),
                "{s}"
            );
            if uses_host {
                assert!(w[host_key].contains("conn_url host refused"), "{w:?}");
                assert!(
                    s.contains("members/evil: log not followed: conn_url host refused"),
                    "{s}"
                );
            }
        });
    }
}
