//! The switchover fallback's etcd put is sent at most once: another endpoint is tried only
//! when the first certainly did not receive it. A real etcd, reached once directly and once
//! through a local TCP proxy that swallows the put (forwards everything else).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use patrol::config::{DcsApi, DcsSettings};
use patrol::dcs::PutError;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

struct Etcd {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Etcd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn etcd() -> Etcd {
    let dir = tempfile::tempdir().expect("tempdir");
    let (c, p) = (free_port(), free_port());
    let url = format!("http://127.0.0.1:{c}");
    let peer = format!("http://127.0.0.1:{p}");
    let child = Command::new("etcd")
        .args(["--name", "t", "--data-dir"])
        .arg(dir.path().join("data"))
        .args([
            "--listen-client-urls",
            &url,
            "--advertise-client-urls",
            &url,
        ])
        .args([
            "--listen-peer-urls",
            &peer,
            "--initial-advertise-peer-urls",
            &peer,
        ])
        .args(["--initial-cluster", &format!("t={peer}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start etcd");
    let e = Etcd {
        child,
        url,
        _dir: dir,
    };
    let t0 = Instant::now();
    while get(&e.url, "/health-probe").is_none() {
        assert!(t0.elapsed() < Duration::from_secs(20), "etcd did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    e
}

/// `etcdctl get`: Some(value or "") once etcd answers.
fn get(url: &str, key: &str) -> Option<String> {
    let out = Command::new("etcdctl")
        .env("ETCDCTL_API", "3")
        .args(["--endpoints", url, "get", key, "--print-value-only"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// A TCP proxy to `to` that forwards both ways, except that from the first client chunk
/// holding `marker` on, nothing more reaches the server: the request is sent, and lost.
fn swallowing_proxy(to: String, marker: &'static str, swallowed: Arc<AtomicBool>) -> String {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = l.local_addr().expect("addr");
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(client) = conn else { continue };
            let Ok(server) = TcpStream::connect(to.trim_start_matches("http://")) else {
                continue;
            };
            let (mut c_in, mut s_out) = (
                client.try_clone().expect("clone"),
                server.try_clone().expect("clone"),
            );
            let (mut s_in, mut c_out) = (server, client);
            std::thread::spawn(move || {
                let mut buf = [0u8; 16384];
                while let Ok(n) = s_in.read(&mut buf) {
                    if n == 0 || c_out.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            });
            let sw = swallowed.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 16384];
                while let Ok(n) = c_in.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    if String::from_utf8_lossy(&buf[..n]).contains(marker) {
                        sw.store(true, Ordering::SeqCst);
                    }
                    if sw.load(Ordering::SeqCst) {
                        continue;
                    }
                    if s_out.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            });
        }
    });
    format!("http://{addr}")
}

fn settings(endpoints: Vec<String>) -> DcsSettings {
    DcsSettings {
        api: DcsApi::V3,
        endpoints,
        username: None,
        password: None,
        cacert: None,
        cert: None,
        key: None,
    }
}

#[test]
fn a_put_lost_after_sending_is_unknown_and_never_tried_elsewhere() {
    let e = etcd();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");

    // the first endpoint refuses connections: certainly not received, the next one writes it
    let refused = format!("http://127.0.0.1:{}", free_port());
    let r = rt.block_on(patrol::dcs::v3_put(
        &settings(vec![refused, e.url.clone()]),
        "/patrol-test/a",
        "first-value",
    ));
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(
        get(&e.url, "/patrol-test/a").as_deref(),
        Some("first-value")
    );

    // the first endpoint received the put and never answered: result unknown, and the
    // second endpoint (the same etcd, directly) is not given a second copy
    const MARKER: &str = "put-exactly-once-marker";
    let swallowed = Arc::new(AtomicBool::new(false));
    let proxy = swallowing_proxy(e.url.clone(), MARKER, swallowed.clone());
    let r = rt.block_on(patrol::dcs::v3_put(
        &settings(vec![proxy, e.url.clone()]),
        "/patrol-test/b",
        MARKER,
    ));
    assert!(
        swallowed.load(Ordering::SeqCst),
        "the put reached the first endpoint"
    );
    assert!(
        matches!(&r, Err(PutError::Unknown(m)) if m.contains("no answer")),
        "{r:?}"
    );
    assert_eq!(
        get(&e.url, "/patrol-test/b").as_deref(),
        Some(""),
        "not written again through another endpoint"
    );
}
