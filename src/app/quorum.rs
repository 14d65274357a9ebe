//! What etcd's members say about their quorum, and the writes that cannot work without the
//! DCS. A member that has lost quorum still answers the status request (with no raft
//! leader and "etcdserver: no leader" among its errors), so patrol can say *why* etcd is
//! away, not only that it is.

use super::checks::Check;
use super::model::{DcsHealth, Model};
use super::ops::OpKind;
use super::rest_only::Mode;

impl Model {
    /// etcd has lost its quorum as far as its members can tell: (members answering the
    /// status request, members asked), when some answer and none of them has a raft leader.
    /// Never while the watch is live: it needs a leader (its requests say `hasleader`).
    pub fn etcd_no_quorum(&self) -> Option<(usize, usize)> {
        if matches!(self.dcs, DcsHealth::Live { .. }) {
            return None;
        }
        let answering: Vec<_> = self
            .etcd_status
            .iter()
            .filter_map(|e| e.result.as_ref().ok())
            .collect();
        if answering.is_empty() || answering.iter().any(|i| i.leader != 0) {
            return None;
        }
        Some((answering.len(), self.etcd_status.len()))
    }

    /// Operations Patroni carries out by writing the DCS (the failover key, the dynamic
    /// config): refused while etcd is away, with the reason. Restart, reload and reinit are
    /// the member's own business and are not refused here.
    pub(super) fn dcs_write_check(&self, kind: OpKind) -> Option<Check> {
        let what = match kind {
            OpKind::Switchover | OpKind::Failover | OpKind::FlushSwitchover => {
                "Patroni writes the failover key in etcd to do this"
            }
            OpKind::Pause | OpKind::Resume => {
                "Patroni writes the dynamic config in etcd to do this"
            }
            OpKind::DcsSwitchover => "this writes the failover key in etcd",
            _ => return None,
        };
        // no etcd in the config (Patroni on another DCS): nothing here says it is away
        if self.rest_only.mode == Mode::Explicit {
            return None;
        }
        if let Some((answering, asked)) = self.etcd_no_quorum() {
            return Some(Check::fail(format!(
                "etcd has no quorum ({answering} of {asked} members answer, none has a raft leader): {what}"
            )));
        }
        if matches!(self.rest_only.mode, Mode::Fallback { .. }) {
            return Some(Check::fail(format!("etcd is unreachable: {what}")));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::super::sample::*;
    use super::super::*;
    use crate::app::checks::Level;
    use crate::dcs::DcsEvent;
    use crate::dcs::info::{EndpointInfo, EndpointStatus, InfoEvent};

    fn status(ep: &str, leader: Option<u64>) -> EndpointStatus {
        EndpointStatus {
            endpoint: ep.into(),
            result: match leader {
                None => Err("etcd unavailable".into()),
                Some(l) => Ok(EndpointInfo {
                    version: "3.4.23".into(),
                    db_size: 1,
                    member_id: 7,
                    leader: l,
                    raft_term: 2,
                    errors: if l == 0 {
                        vec!["etcdserver: no leader".into()]
                    } else {
                        Vec::new()
                    },
                }),
            },
        }
    }

    fn fails(a: &App, kind: ops::OpKind, text: &str) -> bool {
        a.model
            .plan(&dialog::Dialog::new(kind, None))
            .checks
            .iter()
            .any(|c| c.level == Level::Fail && c.text.contains(text))
    }

    #[test]
    fn a_member_without_a_leader_means_no_quorum_and_dcs_writes_are_refused() {
        let now = Instant::now();
        let mut a = app(healthy_kvs(), now);
        let one_alone = vec![
            status("http://e1", None),
            status("http://e2", Some(0)),
            status("http://e3", None),
        ];
        a.update(Msg::Info(InfoEvent::Endpoints(one_alone.clone())));
        // the watch is live: whatever the status said a moment ago, there is a leader
        assert_eq!(a.model.etcd_no_quorum(), None);
        a.update(Msg::Dcs(
            later(now, 1),
            DcsEvent::Down {
                endpoint: "http://e2".into(),
                error: "etcd has no raft leader (quorum lost?): watch cancelled".into(),
            },
        ));
        assert_eq!(a.model.etcd_no_quorum(), Some((1, 3)));
        for kind in [
            ops::OpKind::Switchover,
            ops::OpKind::Failover,
            ops::OpKind::Pause,
            ops::OpKind::Resume,
            ops::OpKind::FlushSwitchover,
            ops::OpKind::DcsSwitchover,
        ] {
            assert!(fails(&a, kind, "no quorum (1 of 3"), "{kind:?}");
        }
        assert!(!fails(&a, ops::OpKind::Reload, "no quorum"));

        // one member with a leader: not a quorum loss (etcd is merely unreachable from here)
        let mut led = one_alone;
        led[0] = status("http://e1", Some(9));
        a.update(Msg::Info(InfoEvent::Endpoints(led)));
        assert_eq!(a.model.etcd_no_quorum(), None);
        // nobody answers: unknown
        a.update(Msg::Info(InfoEvent::Endpoints(vec![status(
            "http://e1",
            None,
        )])));
        assert_eq!(a.model.etcd_no_quorum(), None);
    }

    #[test]
    fn the_rest_only_fallback_refuses_dcs_writes_but_not_a_reload() {
        let now = Instant::now();
        let mut a = app(healthy_kvs(), now);
        a.update(Msg::Dcs(
            later(now, 1),
            DcsEvent::Down {
                endpoint: "http://e1".into(),
                error: "connection refused".into(),
            },
        ));
        a.update(Msg::Tick(later(now, 7)));
        assert!(a.model.rest_only.active());
        assert!(fails(&a, ops::OpKind::Switchover, "etcd is unreachable"));
        assert!(fails(&a, ops::OpKind::Pause, "etcd is unreachable"));
        assert!(!fails(&a, ops::OpKind::Reload, "etcd is unreachable"));
    }

    #[test]
    fn an_unanswered_probe_is_not_live_and_an_answer_or_a_resume_makes_it_live() {
        let now = Instant::now();
        let mut a = app(healthy_kvs(), now);
        assert_eq!(a.model.stale_for(), None);
        a.update(Msg::Dcs(later(now, 2), DcsEvent::Probing));
        a.update(Msg::Tick(later(now, 2)));
        assert_eq!(a.model.unanswered(), None, "just asked");
        a.update(Msg::Tick(later(now, 4)));
        assert_eq!(
            a.model.unanswered(),
            Some(Duration::from_secs(4)),
            "silent since the snapshot"
        );
        assert_eq!(a.model.stale_for(), Some(Duration::from_secs(4)));
        assert_eq!(
            a.model.state_check().level,
            Level::Fail,
            "operations see a hung etcd"
        );
        a.update(Msg::Dcs(later(now, 4), DcsEvent::Progress { revision: 1 }));
        assert_eq!(a.model.unanswered(), None);
        assert_eq!(a.model.stale_for(), None);

        // a broken watch that resumes elsewhere is live again, without a snapshot
        a.update(Msg::Dcs(
            later(now, 5),
            DcsEvent::Down {
                endpoint: "http://e1".into(),
                error: "etcd at e1 stopped answering".into(),
            },
        ));
        assert!(a.model.stale_for().is_some());
        a.update(Msg::Dcs(
            later(now, 6),
            DcsEvent::Resumed {
                endpoint: "http://e2".into(),
                revision: 41,
            },
        ));
        assert!(
            matches!(&a.model.dcs, DcsHealth::Live { endpoint, revision: 41, .. } if endpoint == "http://e2"),
            "{:?}",
            a.model.dcs
        );
        assert_eq!(a.model.stale_for(), None);
        assert_eq!(a.rows().len(), 3, "the state is kept");
        let events: Vec<String> = a.model.events.iter().map(|e| e.kind.text()).collect();
        assert!(events.iter().any(|e| e.contains("regained")), "{events:?}");
    }
}
