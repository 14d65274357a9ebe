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
    /// Writes that left the process (tests count them at this seam).
    sent: usize,
    /// REST-only mode's `/cluster` poller, while `update` wants one.
    cluster_poller: Option<AbortOnDrop>,
    interval: Duration,
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
            sent: 0,
            cluster_poller: None,
            interval,
        }
    }

    /// Write the audit log here from now on (tests point it at their own file).
    pub fn set_audit_log(&mut self, path: Option<std::path::PathBuf>, read_only: bool) {
        self.audit = AuditLog::new(path);
        self.read_only = read_only;
    }

    /// How many REST pollers run.
    pub fn pollers(&self) -> usize {
        self.pollers.len()
    }

    /// How many writes have left the process (REST requests and etcd puts).
    pub fn writes_sent(&self) -> usize {
        self.sent
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
                    use base64::Engine;
                    use std::io::Write;
                    // OSC 52: the terminal (also at the far end of SSH, and through tmux with
                    // set-clipboard on) puts the text on its clipboard
                    let b64 = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
                    let mut out = std::io::stdout();
                    let _ = write!(out, "\x1b]52;c;{b64}\x07");
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

    /// The one place a write leaves the process. The intent line is appended to the audit
    /// log and flushed to disk first; only then is the request spawned. No intent line, no
    /// request: the operation's reply is `NotSent` with the reason.
    fn send(&mut self, op: u64, request: Request, intent: serde_json::Value) {
        let tx = self.tx.clone();
        let answer = move |reply: Reply| {
            tokio::spawn(async move {
                let _ = tx
                    .send(Msg::OpReply {
                        op,
                        at: Instant::now(),
                        reply,
                    })
                    .await;
            });
        };
        if self.read_only {
            // defence in depth: update() never asks for this in read-only mode
            tracing::error!(?request, "write refused in read-only mode");
            answer(Reply::NotSent("read-only mode".into()));
            return;
        }
        if let Err(e) = self.audit.append(intent) {
            tracing::error!(error = %e, "audit intent not written: request not sent");
            answer(Reply::NotSent(format!("{e}; nothing sent")));
            return;
        }
        let (client, dcs) = (self.client.clone(), self.dcs.clone());
        self.sent += 1;
        tokio::spawn(async move {
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
            answer(reply);
        });
    }

    /// An outcome line; if it cannot be written the status bar says so.
    fn audit(&self, record: serde_json::Value) {
        if let Err(e) = self.audit.append(record) {
            tracing::error!(error = %e, "cannot write the audit log");
            let tx = self.tx.clone();
            tokio::spawn(async move {
                let _ = tx.send(Msg::Wrote(Err(e))).await;
            });
        }
    }
}

/// Aborts the task when dropped (a follower must not outlive its forwarder).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
