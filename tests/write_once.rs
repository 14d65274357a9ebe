//! A confirmed write leaves the process once, on record, to the member it names and nowhere
//! else: the keys go through the real `update`, the effects through the real runtime
//! executor, and the member's REST API is a local stand-in (a std TcpListener) that records
//! what reaches it.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use patrol as patrol_crate;
use patrol::app::ops::{Reply, Settle};
use patrol::app::{App, Effect, Msg};
use patrol::config::{DcsApi, DcsSettings, RestSettings};
use patrol::patroni::RestClient;
use patrol::runtime::Runner;
use patrol::theme::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

mod sample;
use sample::*;

/// What reached a stand-in API: one entry per connection, the request's text (head and body).
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<String>>>);

impl Seen {
    fn all(&self) -> Vec<String> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

fn read_request(s: &mut TcpStream) -> String {
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&buf).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let len = text
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                })
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                return text;
            }
        }
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return String::from_utf8_lossy(&buf).to_string(),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// A member's REST API stand-in on 127.0.0.1: records each request, answers `answer(request)`.
fn api(answer: impl Fn(&str) -> String + Send + 'static) -> (u16, Seen) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    let seen = Seen::default();
    let s2 = seen.clone();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut c) = conn else { continue };
            let req = read_request(&mut c);
            if let Ok(mut v) = s2.0.lock() {
                v.push(req.clone());
            }
            let _ = c.write_all(answer(&req).as_bytes());
        }
    });
    (port, seen)
}

fn key(c: char) -> Msg {
    Msg::Key(
        sample::human(),
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE),
    )
}

/// The healthy sample cluster, with the leader's (pg1's) REST API at `port`.
fn cluster_with_leader_api(port: u16, now: Instant) -> App {
    let mut kvs = healthy_kvs();
    for kv in kvs.iter_mut().filter(|kv| kv.key.ends_with("/members/pg1")) {
        kv.value = String::from_utf8_lossy(&kv.value)
            .replace("127.0.0.1:24011", &format!("127.0.0.1:{port}"))
            .into_bytes();
    }
    let mut a = app(kvs, now);
    let mut leader = status("rest/patroni_leader.json");
    leader.xlog.location = Some(67108864 + 5 * 1024 * 1024);
    rest_ok(&mut a, "pg1", leader, now);
    rest_ok(&mut a, "pg2", replica_behind(0), now);
    rest_ok(&mut a, "pg3", replica_behind(1536 * 1024), now);
    a
}

fn runner(audit: &Path) -> (Runner, tokio::sync::mpsc::Receiver<Msg>) {
    let client = RestClient::new(&RestSettings::default(), Duration::from_secs(5)).expect("client");
    let dcs = DcsSettings {
        api: DcsApi::V3,
        endpoints: Vec::new(),
        username: None,
        password: None,
        cacert: None,
        cert: None,
        key: None,
    };
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    let r = Runner::new(
        client,
        dcs,
        Duration::from_secs(1),
        tx,
        false,
        Some(audit.to_path_buf()),
    );
    (r, rx)
}

/// `s` Enter `y` in the app, the effects run by the runtime, the reply fed back.
async fn switchover(a: &mut App, r: &mut Runner, rx: &mut tokio::sync::mpsc::Receiver<Msg>) {
    a.update(key('s'));
    a.update(Msg::Key(
        sample::human(),
        KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE),
    ));
    let eff = a.update(key('y'));
    assert!(
        eff.iter().any(|e| matches!(e, Effect::Send { .. })),
        "{eff:?}"
    );
    r.run(eff);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let msg = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .expect("a reply in time")
            .expect("channel open");
        let reply = matches!(msg, Msg::OpReply { .. });
        let eff = a.update(msg);
        r.run(eff);
        if reply {
            return;
        }
    }
}

fn screen(app: &App) -> String {
    let theme = Theme::load(None, false).expect("built-in theme");
    let mut t = Terminal::new(TestBackend::new(120, 40)).expect("test backend");
    t.draw(|f| patrol::ui::render(f, app, &theme))
        .expect("draw");
    let buf = t.backend().buffer();
    let mut out = String::new();
    for y in 0..40 {
        for x in 0..120 {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

#[test]
fn no_intent_line_no_request() {
    let (port, seen) = api(|_| "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".into());
    let dir = tempfile::tempdir().expect("tempdir");
    // a directory where the audit file should be: the intent line cannot be written
    let audit: PathBuf = dir.path().join("audit.jsonl");
    std::fs::create_dir(&audit).expect("mkdir");
    let now = Instant::now();
    let mut a = cluster_with_leader_api(port, now);
    rt().block_on(async {
        let (mut r, mut rx) = runner(&audit);
        switchover(&mut a, &mut r, &mut rx).await;
        // whatever might still be on its way has had time to arrive
        tokio::time::sleep(Duration::from_millis(500)).await;
    });
    assert_eq!(seen.all(), Vec::<String>::new(), "nothing reached the API");
    let op = &a.session.ops[0];
    assert!(
        matches!(&op.reply, Some(Reply::NotSent(m)) if m.contains("audit log")),
        "{:?}",
        op.reply
    );
    assert!(
        matches!(&op.settle, Settle::Failed(m) if m.contains("not sent: audit log")),
        "{:?}",
        op.settle
    );
    let text = screen(&a);
    assert!(text.contains("not sent: audit log"), "{text}");
}

#[test]
fn a_redirect_is_the_reply_not_followed_and_the_intent_is_on_disk_first() {
    let (port2, seen2) = api(|_| "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".into());
    let dir = tempfile::tempdir().expect("tempdir");
    let audit = dir.path().join("state").join("audit.jsonl");
    let audit2 = audit.clone();
    // what the audit log held at the moment the request arrived
    let at_arrival = Arc::new(Mutex::new(String::new()));
    let at2 = at_arrival.clone();
    let (port, seen) = api(move |_| {
        if let Ok(mut s) = at2.lock() {
            *s = std::fs::read_to_string(&audit2).unwrap_or_default();
        }
        format!(
            "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:{port2}/switchover\r\n\
             Content-Length: 0\r\nConnection: close\r\n\r\n"
        )
    });
    let now = Instant::now();
    let mut a = cluster_with_leader_api(port, now);
    rt().block_on(async {
        let (mut r, mut rx) = runner(&audit);
        switchover(&mut a, &mut r, &mut rx).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
    });
    let got = seen.all();
    assert_eq!(got.len(), 1, "sent once: {got:?}");
    assert!(got[0].starts_with("POST /switchover "), "{}", got[0]);
    assert_eq!(
        seen2.all(),
        Vec::<String>::new(),
        "the redirect target received nothing"
    );
    let op = &a.session.ops[0];
    assert!(
        matches!(&op.reply, Some(Reply::Status { code: 307, body }) if body.contains(&format!("127.0.0.1:{port2}"))),
        "{:?}",
        op.reply
    );
    assert!(
        matches!(&op.settle, Settle::Failed(m) if m.starts_with("HTTP 307")),
        "{:?}",
        op.settle
    );
    assert!(screen(&a).contains("HTTP 307"));

    // write-ahead: the intent line was on disk before the request arrived
    let before = at_arrival.lock().map(|s| s.clone()).unwrap_or_default();
    let lines: Vec<serde_json::Value> = before
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    assert_eq!(lines.len(), 1, "{before}");
    assert_eq!(lines[0]["phase"], "intent");
    assert_eq!(lines[0]["op"], op.id);
    assert_eq!(lines[0]["request"]["method"], "POST");
    assert!(
        lines[0]["user"].as_str().is_some_and(|u| !u.is_empty()),
        "{}",
        lines[0]
    );
    // then the outcome, joined by the op id
    let after: Vec<serde_json::Value> = std::fs::read_to_string(&audit)
        .expect("audit")
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    assert_eq!(after.len(), 2, "{after:?}");
    assert_eq!(after[1]["phase"], "outcome");
    assert_eq!(after[1]["op"], op.id);
    assert_eq!(after[1]["status"], 307);
    assert_eq!(after[1]["session"], after[0]["session"]);
    assert!(
        after[0].get("sudo_user").is_some(),
        "recorded, if only as null"
    );
}

/// The healthy sample cluster, with the leader's (pg1's) `api_url` replaced by `api_url`.
fn cluster_with_leader_api_url(api_url: &str, now: Instant) -> App {
    let mut kvs = healthy_kvs();
    for kv in kvs.iter_mut().filter(|kv| kv.key.ends_with("/members/pg1")) {
        kv.value = String::from_utf8_lossy(&kv.value)
            .replace("http://127.0.0.1:24011/patroni", api_url)
            .into_bytes();
    }
    let mut a = app(kvs, now);
    let mut leader = status("rest/patroni_leader.json");
    leader.xlog.location = Some(67108864 + 5 * 1024 * 1024);
    rest_ok(&mut a, "pg1", leader, now);
    rest_ok(&mut a, "pg2", replica_behind(0), now);
    rest_ok(&mut a, "pg3", replica_behind(0), now);
    a
}

/// `L` `y` on the leader, the effects run by the real runtime, the reply (if any) fed back;
/// then time for anything on its way to arrive.
fn reload_leader(a: &mut App, audit: &Path) -> Vec<Effect> {
    a.update(key('g'));
    a.update(key('L'));
    let eff = a.update(key('y'));
    let sent = eff.clone();
    rt().block_on(async {
        let (mut r, mut rx) = runner(audit);
        let sends = eff.iter().any(|e| matches!(e, Effect::Send { .. }));
        r.run(eff);
        if sends {
            let msg = tokio::time::timeout(Duration::from_secs(20), rx.recv())
                .await
                .expect("a reply in time")
                .expect("channel open");
            a.update(msg);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    });
    sent
}

/// An `api_url` with a path (and a fragment that would cut the write's own path off) turns a
/// reload into nothing: the pre-flight check refuses it, no request reaches the API, and
/// the client refuses such a base even if handed one; a poll of it asks `GET /patroni` only.
/// A clean `api_url` posts exactly `POST /reload`.
#[test]
fn a_reload_to_an_api_url_with_a_path_is_refused_and_a_clean_one_posts_exactly_reload() {
    let (port, seen) = api(|_| "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".into());
    let dir = tempfile::tempdir().expect("tempdir");
    let audit = dir.path().join("audit.jsonl");
    let now = Instant::now();

    let bad = format!("http://127.0.0.1:{port}/restart#");
    let mut a = cluster_with_leader_api_url(&bad, now);
    let eff = reload_leader(&mut a, &audit);
    assert!(
        !eff.iter().any(|e| matches!(e, Effect::Send { .. })),
        "{eff:?}"
    );
    assert!(a.session.ops.is_empty());
    assert!(
        screen(&a).contains("pg1's api_url"),
        "the dialog says why:\n{}",
        screen(&a)
    );
    assert_eq!(seen.all(), Vec::<String>::new(), "nothing reached the API");
    assert!(!audit.exists(), "no intent either");

    // the client itself: a base that is not scheme://host:port is not sent
    let client = RestClient::new(&RestSettings::default(), Duration::from_secs(5)).expect("client");
    let req = patrol::write::RestRequest {
        base: bad.clone(),
        method: patrol::write::Method::Post,
        path: "/reload".into(),
    };
    let reply = rt().block_on(client.send(&req, None));
    assert!(
        matches!(&reply, Reply::NotSent(m) if m.contains("api_url")),
        "{reply:?}"
    );
    assert_eq!(seen.all(), Vec::<String>::new(), "nothing reached the API");

    // a poll goes to /patroni of the same host and port, nothing else of the api_url
    let _ = rt().block_on(client.status(&bad));
    let got = seen.all();
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(
        got[0].starts_with("GET /patroni HTTP/1.1\r\n"),
        "{}",
        got[0]
    );
    // userinfo in api_url is not used as credentials (none are configured here)
    let _ = rt().block_on(client.status(&format!("http://evil:pw@127.0.0.1:{port}/patroni")));
    let got = seen.all();
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(
        got[1].starts_with("GET /patroni HTTP/1.1\r\n"),
        "{}",
        got[1]
    );
    assert!(
        !got[1].to_ascii_lowercase().contains("authorization"),
        "{}",
        got[1]
    );

    let clean = format!("http://127.0.0.1:{port}/patroni");
    let mut a = cluster_with_leader_api_url(&clean, now);
    let eff = reload_leader(&mut a, &audit);
    assert!(
        eff.iter().any(|e| matches!(e, Effect::Send { .. })),
        "{eff:?}"
    );
    let got = seen.all();
    assert_eq!(got.len(), 3, "one more request: {got:?}");
    assert!(
        got[2].starts_with("POST /reload HTTP/1.1\r\n"),
        "{}",
        got[2]
    );
    assert!(
        matches!(
            &a.session.ops[0].reply,
            Some(Reply::Status { code: 200, .. })
        ),
        "{:?}",
        a.session.ops[0].reply
    );
}

/// A FIFO where the audit log should be: opening it for writing would block in open(2)
/// until a reader comes. It is refused at once, as not a regular file, and nothing is sent.
#[test]
fn a_fifo_as_the_audit_log_is_refused_at_once_and_nothing_is_sent() {
    let (port, seen) = api(|_| "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".into());
    let dir = tempfile::tempdir().expect("tempdir");
    let audit = dir.path().join("audit.jsonl");
    let c = std::ffi::CString::new(audit.to_string_lossy().as_bytes()).expect("path");
    // SAFETY: mkfifo reads the NUL-terminated path and nothing else
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
    // a hang must fail the test, not hold it: the work runs on a thread, waited for
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let now = Instant::now();
        let mut a = cluster_with_leader_api(port, now);
        rt().block_on(async {
            let (mut r, mut rx) = runner(&audit);
            switchover(&mut a, &mut r, &mut rx).await;
            tokio::time::sleep(Duration::from_millis(300)).await;
            let _ = done.send((a.session.ops[0].reply.clone(), r.writes_sent()));
        });
    });
    let (reply, sent) = finished
        .recv_timeout(Duration::from_secs(20))
        .expect("the write is settled, not hung on the FIFO");
    assert!(
        matches!(&reply, Some(Reply::NotSent(m)) if m.contains("not a regular file")),
        "{reply:?}"
    );
    assert_eq!(sent, 0, "no write left the process");
    assert_eq!(seen.all(), Vec::<String>::new(), "nothing reached the API");
}
