//! Carries out the effects `update` returns: the REST pollers and log followers it names,
//! each write once (audited before it leaves), audit lines, files, the clipboard.

use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::audit::AuditLog;
use super::tasks;
use super::taskset::TaskSet;
use crate::app::{Effect, Msg};
use crate::patroni::RestClient;
use crate::write::{Reply, Request, Target};

/// Runs the effects `update` returns: pollers, writes (once each), audit lines.
pub struct Runner {
    pollers: tasks::Pollers,
    client: RestClient,
    /// For the one etcd write patrol may make (the switchover fallback).
    dcs: crate::config::DcsSettings,
    tx: mpsc::Sender<Msg>,
    read_only: bool,
    audit: AuditLog,
    /// etcd's newest revision as the DCS source learns it aside from the queue.
    newest: Option<tokio::sync::watch::Receiver<i64>>,
    /// The leader lease the info task asks about.
    lease: Option<tokio::sync::watch::Sender<i64>>,
    /// The log followers `update` asked for: member -> source.
    log_tasks: TaskSet<crate::logs::SafeMember, crate::logs::ResolvedSource>,
    /// Writes that left the process (tests count them at this seam; counted by the task
    /// that sends, once the intent line is on disk).
    sent: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    /// REST-only mode's `/cluster` poller, while `update` wants one.
    cluster_poller: Option<AbortOnDrop>,
    interval: Duration,
    /// One stats reader per configured HAProxy (`Effect::PollHaproxy`).
    haproxy: Vec<AbortOnDrop>,
    /// The members whose health endpoints are asked (the routing view): member ->
    /// (api_url, lag).
    health: TaskSet<String, (String, u64)>,
}

impl Runner {
    /// Start the etcd info task (endpoint health, leader lease TTL) for the cluster under
    /// `prefix`.
    pub fn start_info(
        &mut self,
        dcs: &crate::config::DcsSettings,
        prefix: &str,
    ) -> tokio::task::JoinHandle<()> {
        if dcs.endpoints.is_empty() {
            // REST-only: no etcd to ask
            return tokio::spawn(async {});
        }
        if dcs.api == crate::config::DcsApi::V2 {
            // no lease to ask about: the lock's TTL is the leader key's own, in the watch
            return tokio::spawn(crate::dcs::info_v2::run_info_v2(
                dcs.clone(),
                format!("{prefix}leader"),
                self.tx.clone(),
                Msg::Info,
            ));
        }
        let (ltx, lrx) = tokio::sync::watch::channel(0i64);
        self.lease = Some(ltx);
        tokio::spawn(crate::dcs::info::run_info(
            dcs.clone(),
            lrx,
            self.tx.clone(),
            Msg::Info,
        ))
    }

    /// Follow exactly these sources (what `update` decided, resolved from checked words
    /// only): stop the others, start the new or changed ones.
    fn follow_logs(&mut self, members: &[(crate::logs::SafeMember, crate::logs::ResolvedSource)]) {
        let tx = self.tx.clone();
        let want = members.iter().map(|(m, s)| (m, s));
        self.log_tasks.reconcile(want, |member, source| {
            let (ltx, mut lrx) = mpsc::channel::<crate::logs::LogLine>(256);
            let name = member.to_string();
            let follow = match source.spec() {
                crate::logs::LogSourceSpec::File(p) => {
                    tokio::spawn(crate::logs::follow_file(p.into(), name, ltx, 200))
                }
                crate::logs::LogSourceSpec::Cmd(c) => tokio::spawn(crate::logs::follow_cmd(
                    c.clone(),
                    name,
                    ltx,
                    crate::logs::Backoff::default(),
                )),
            };
            let tx = tx.clone();
            // forwards lines into the one channel; ends (and so ends the follower) when
            // patrol goes away or the member is dropped
            tokio::spawn(async move {
                let _follow = AbortOnDrop(follow);
                while let Some(l) = lrx.recv().await {
                    if tx.send(Msg::Log(l)).await.is_err() {
                        break;
                    }
                }
            })
        });
    }

    /// Hand etcd's newest revision (from `spawn_dcs`) to the model as it moves.
    pub fn set_newest(&mut self, rx: Option<tokio::sync::watch::Receiver<i64>>) {
        self.newest = rx;
    }

    /// Wait until etcd's newest revision moves (None at once without a side task, or when
    /// it has ended: a `select!` branch is then disabled).
    pub async fn newest_changed(&mut self) -> Option<i64> {
        let rx = self.newest.as_mut()?;
        rx.changed().await.ok()?;
        Some(*rx.borrow_and_update())
    }

    /// etcd's newest revision, when it moved since last asked.
    pub fn newest(&mut self) -> Option<i64> {
        let rx = self.newest.as_mut()?;
        if !rx.has_changed().unwrap_or(false) {
            return None;
        }
        Some(*rx.borrow_and_update())
    }

    pub fn new(
        client: RestClient,
        dcs: crate::config::DcsSettings,
        interval: Duration,
        tx: mpsc::Sender<Msg>,
        read_only: bool,
        audit_log: Option<std::path::PathBuf>,
    ) -> Runner {
        Runner {
            pollers: tasks::Pollers::new(client.clone(), interval, tx.clone()),
            newest: None,
            client,
            dcs,
            tx,
            read_only,
            audit: AuditLog::new(audit_log),
            lease: None,
            log_tasks: TaskSet::new(),
            sent: Default::default(),
            cluster_poller: None,
            interval,
            haproxy: Vec::new(),
            health: TaskSet::new(),
        }
    }

    /// Write the audit log here from now on (tests point it at their own file).
    pub fn set_audit_log(&mut self, path: Option<std::path::PathBuf>, read_only: bool) {
        self.audit = AuditLog::new(path);
        self.read_only = read_only;
    }

    /// Audit lines go to `sink`, waited for at most `deadline` (tests: a disk that hangs).
    #[cfg(test)]
    pub(crate) fn set_audit_sink(
        &mut self,
        sink: Box<dyn super::audit::AuditSink>,
        deadline: Duration,
    ) {
        self.audit = AuditLog::with_sink(sink, "test sink".into(), deadline);
    }

    /// patrol is exiting: run the last effects (the outcome lines of unfinished operations),
    /// stop every log follower (their process groups killed and waited for, at most 3 s),
    /// and wait at most `audit_wait` for the audit lines to reach the disk. Returns what
    /// went wrong, for the operator.
    pub async fn shutdown(&mut self, last: Vec<Effect>, audit_wait: Duration) -> Vec<String> {
        let since = self.audit.mark();
        self.run(last);
        // the forwarders are aborted; the commands are killed whether or not their tasks
        // are ever polled again
        self.log_tasks = TaskSet::new();
        let mut problems = Vec::new();
        let started = Instant::now();
        let alive = crate::logs::stop_all_commands(Duration::from_secs(3)).await;
        tracing::info!(waited = ?started.elapsed(), alive, "log followers stopped");
        if alive > 0 {
            problems.push(format!(
                "{alive} log follower process(es) still ran 3s after SIGKILL"
            ));
        }
        let started = Instant::now();
        problems.extend(self.audit.finish(since, audit_wait));
        tracing::info!(waited = ?started.elapsed(), "audit log closed");
        problems
    }

    /// How many REST pollers run.
    pub fn pollers(&self) -> usize {
        self.pollers.len()
    }

    /// How many writes have left the process (REST requests and etcd puts).
    pub fn writes_sent(&self) -> usize {
        self.sent.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub fn run(&mut self, effects: Vec<Effect>) {
        for eff in effects {
            match eff {
                Effect::PollMembers(set) => self.pollers.set(&set),
                Effect::PollCluster(set) => {
                    self.cluster_poller = (!set.is_empty()).then(|| {
                        AbortOnDrop(tasks::spawn_cluster_poller(
                            self.client.clone(),
                            set,
                            self.interval,
                            self.tx.clone(),
                        ))
                    });
                }
                Effect::PollHaproxy(specs) => self.poll_haproxy(specs),
                Effect::PollHealth(targets) => {
                    let (client, tx, every) = (&self.client, &self.tx, self.interval);
                    let want: Vec<(String, (String, u64))> = targets
                        .into_iter()
                        .map(|(m, url, lag)| (m, (url, lag)))
                        .collect();
                    self.health
                        .reconcile(want.iter().map(|(m, s)| (m, s)), |m, (url, lag)| {
                            super::haproxy::spawn_health(
                                client.clone(),
                                m.clone(),
                                url.clone(),
                                *lag,
                                every,
                                tx.clone(),
                            )
                        });
                }
                Effect::Send {
                    op,
                    request,
                    intent,
                } => self.send(op, request, intent),
                Effect::Audit(record) => self.audit(record),
                Effect::WatchLease(id) => {
                    if let Some(l) = &self.lease {
                        let _ = l.send(id);
                    }
                }
                Effect::FollowLogs(members) => self.follow_logs(&members),
                Effect::LogWarning(w) => tracing::warn!("{w}"),
                Effect::Copy(text) => {
                    use std::io::Write;
                    // OSC 52: the terminal (also at the far end of SSH, and through tmux with
                    // set-clipboard on) puts the text on its clipboard
                    match crate::clip::osc52(&text) {
                        Ok(seq) => {
                            let mut out = std::io::stdout();
                            let _ = out.write_all(seq.as_bytes());
                            let _ = out.flush();
                        }
                        Err(why) => tracing::warn!("clipboard copy refused: {why}"),
                    }
                }
                Effect::Bell => {
                    use std::io::Write;
                    // BEL between frames: the terminal (or tmux) says it its own way
                    let mut out = std::io::stdout();
                    let _ = out.write_all(b"\x07");
                    let _ = out.flush();
                }
                Effect::WriteFile { path, content } => {
                    let tx = self.tx.clone();
                    tokio::spawn(async move {
                        let r = async {
                            if let Some(d) = path.parent() {
                                tokio::fs::create_dir_all(d).await?;
                            }
                            tokio::fs::write(&path, content).await
                        }
                        .await
                        .map(|_| path.clone())
                        .map_err(|e| format!("{}: {e}", path.display()));
                        let _ = tx.send(Msg::Wrote(r)).await;
                    });
                }
            }
        }
    }

    /// One stats reader per HAProxy, replacing the ones before.
    fn poll_haproxy(&mut self, specs: Vec<crate::haproxy::HaproxySpec>) {
        self.haproxy.clear();
        let timeout = self.client.timeout();
        let http = match super::haproxy::stats_client(timeout) {
            Ok(h) => h,
            Err(e) => {
                // every source says so on screen; nothing is asked
                for i in 0..specs.len() {
                    let tx = self.tx.clone();
                    let e = format!("cannot set up the HTTP client: {e}");
                    tokio::spawn(async move {
                        let at = Instant::now();
                        let result = Err(e);
                        let _ = tx
                            .send(Msg::Haproxy {
                                source: i,
                                at,
                                result,
                            })
                            .await;
                    });
                }
                return;
            }
        };
        for (i, spec) in specs.into_iter().enumerate() {
            self.haproxy.push(AbortOnDrop(super::haproxy::spawn_stats(
                i,
                spec,
                http.clone(),
                self.interval,
                timeout,
                self.tx.clone(),
            )));
        }
    }

    /// The one place a write leaves the process. The intent line is appended to the audit
    /// log and flushed to disk first (on the audit thread, waited for at most its deadline);
    /// only then is the request sent. No intent line on disk in time, no request: the
    /// operation's reply is `NotSent` with the reason.
    fn send(&mut self, op: u64, request: Request, intent: serde_json::Value) {
        let tx = self.tx.clone();
        let answer = move |reply: Reply| async move {
            let _ = tx
                .send(Msg::OpReply {
                    op,
                    at: Instant::now(),
                    reply,
                })
                .await;
        };
        if self.read_only {
            // defence in depth: update() never asks for this in read-only mode
            tracing::error!(?request, "write refused in read-only mode");
            tokio::spawn(answer(Reply::NotSent("read-only mode".into())));
            return;
        }
        // queued now, in order with the other audit lines; waited for in the task
        let audited = self.audit.append(intent);
        let (client, dcs, sent) = (self.client.clone(), self.dcs.clone(), self.sent.clone());
        tokio::spawn(async move {
            if let Err(e) = audited.await {
                tracing::error!(error = %e, "audit intent not written: request not sent");
                answer(Reply::NotSent(e)).await;
                return;
            }
            sent.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let reply = match &request.target {
                Target::Rest(r) => client.send(r, request.body.as_ref()).await,
                Target::EtcdPut { key } => {
                    let value = request
                        .body
                        .as_ref()
                        .map(|b| b.to_string())
                        .unwrap_or_default();
                    tracing::info!(%key, %value, "etcd put");
                    let put = match dcs.api {
                        crate::config::DcsApi::V3 => crate::dcs::v3_put(&dcs, key, &value).await,
                        crate::config::DcsApi::V2 => crate::dcs::v2_put(&dcs, key, &value).await,
                    };
                    match put {
                        Ok(msg) => Reply::Status {
                            code: 200,
                            body: msg,
                        },
                        Err(crate::dcs::PutError::NotSent(e)) => Reply::NotSent(e),
                        Err(crate::dcs::PutError::Refused(e)) => Reply::Failed(e),
                        Err(crate::dcs::PutError::Unknown(e)) => Reply::Unknown(e),
                    }
                }
            };
            answer(reply).await;
        });
    }

    /// An outcome line; if it cannot be written (in time) the status bar says so.
    fn audit(&self, record: serde_json::Value) {
        let audited = self.audit.append(record);
        let tx = self.tx.clone();
        tokio::spawn(async move {
            if let Err(e) = audited.await {
                tracing::error!(error = %e, "cannot write the audit log");
                let _ = tx.send(Msg::Wrote(Err(e))).await;
            }
        });
    }
}

/// Aborts the task when dropped (a follower must not outlive its forwarder).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::write::{Method, RestRequest};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Condvar, Mutex};

    /// An audit disk that hangs until released (a hung NFS home), counting what reached it.
    #[derive(Clone, Default)]
    struct Hung {
        released: Arc<(Mutex<bool>, Condvar)>,
        lines: Arc<AtomicUsize>,
    }

    impl Hung {
        fn release(&self) {
            let (m, cv) = &*self.released;
            if let Ok(mut r) = m.lock() {
                *r = true;
            }
            cv.notify_all();
        }
    }

    impl super::super::audit::AuditSink for Hung {
        fn append_line(&mut self, _line: &str) -> Result<(), String> {
            let (m, cv) = &*self.released;
            let mut r = m.lock().map_err(|_| "poisoned".to_string())?;
            while !*r {
                r = cv.wait(r).map_err(|_| "poisoned".to_string())?;
            }
            self.lines.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    }

    /// A member's API stand-in that counts the connections reaching it.
    fn api() -> (u16, Arc<AtomicUsize>) {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        let hits = Arc::new(AtomicUsize::new(0));
        let h = hits.clone();
        std::thread::spawn(move || {
            for c in l.incoming() {
                h.fetch_add(1, Ordering::SeqCst);
                drop(c);
            }
        });
        (port, hits)
    }

    fn runner(tx: mpsc::Sender<Msg>) -> Runner {
        let client = RestClient::new(&Default::default(), Duration::from_secs(2)).expect("client");
        let dcs = crate::config::DcsSettings {
            api: crate::config::DcsApi::V3,
            endpoints: Vec::new(),
            username: None,
            password: None,
            cacert: None,
            cert: None,
            key: None,
        };
        Runner::new(client, dcs, Duration::from_secs(1), tx, false, None)
    }

    #[tokio::test]
    async fn a_hung_audit_log_means_not_sent_and_the_loop_goes_on() {
        let (port, hits) = api();
        let (tx, mut rx) = mpsc::channel(16);
        let mut r = runner(tx.clone());
        let disk = Hung::default();
        r.set_audit_sink(Box::new(disk.clone()), Duration::from_millis(300));
        let send = Effect::Send {
            op: 1,
            request: Request {
                member: "pg1".into(),
                target: Target::Rest(RestRequest {
                    base: format!("http://127.0.0.1:{port}"),
                    method: Method::Post,
                    path: "/switchover".into(),
                }),
                body: Some(serde_json::json!({"leader": "pg1"})),
            },
            intent: serde_json::json!({"phase": "intent", "op": 1}),
        };
        // `run` hands the line to the audit thread and returns: the loop never waits on it.
        // Were it to wait, only this watchdog's release after 10 s would let it return.
        let watchdog = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (w, d) = (watchdog.clone(), disk.clone());
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(10));
            w.store(true, Ordering::SeqCst);
            d.release();
        });
        r.run(vec![send]);
        assert!(
            !watchdog.load(Ordering::SeqCst),
            "run() waited for the hung audit disk"
        );
        // meanwhile the loop takes its messages: one sent now arrives before the reply
        tx.send(Msg::Resize(80, 24)).await.expect("send");
        let next = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await;
        assert!(
            matches!(next, Ok(Some(Msg::Resize(..)))),
            "the loop's next message is the one just sent, not the reply"
        );
        // the reply: not sent, because the intent line was not on disk in time
        let reply = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await;
        match reply {
            Ok(Some(Msg::OpReply {
                op: 1,
                reply: Reply::NotSent(m),
                ..
            })) => assert_eq!(
                m, "the audit log could not be written within 300ms: test sink",
                "{m}"
            ),
            other => panic!("expected NotSent, got {other:?}"),
        }
        assert_eq!(r.writes_sent(), 0);
        // the disk comes back: the late intent line is written, the request still not sent
        disk.release();
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(
            disk.lines.load(Ordering::SeqCst),
            1,
            "the intent line, late"
        );
        assert_eq!(hits.load(Ordering::SeqCst), 0, "nothing reached the API");
        assert_eq!(r.writes_sent(), 0);
    }

    /// The exit does not wait for a hung audit disk longer than it is told, and says which
    /// line could not be written.
    #[tokio::test]
    async fn the_exit_waits_for_a_hung_audit_log_only_so_long() {
        let (tx, _rx) = mpsc::channel(16);
        let mut r = runner(tx);
        let disk = Hung::default();
        r.set_audit_sink(Box::new(disk.clone()), Duration::from_millis(300));
        let outcome = serde_json::json!({"phase": "outcome", "op": 7});
        // what `shutdown` does with the audit log (not `shutdown` itself: it also stops
        // every command follower of this process, other tests' too)
        let since = r.audit.mark();
        r.run(vec![Effect::Audit(outcome)]);
        let problems = r.audit.finish(since, Duration::from_millis(200));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with("not written to the audit log test sink within 200ms: ")
                && problems[0].contains(r#""op":7"#),
            "{problems:?}"
        );
        disk.release();
    }
}
