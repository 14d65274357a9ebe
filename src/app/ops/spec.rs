//! One description per operation: its label, confirmation, options and plan. Everything
//! else (the key that opens it, the dialog, its rendering, the checks at confirmation, the
//! audit) reads it from here. Adding an operation: a file beside this one with its `SPEC`,
//! an `OpKind` variant and a line in [`spec`].

use super::super::dialog::{Dialog, Options};
use super::super::model::Model;
use super::super::plan::{Ctx, Plan};
use super::OpKind;

pub struct OpSpec {
    pub kind: OpKind,
    /// `switchover`, `flush restart`: in titles, the audit log and the operations panel.
    pub label: &'static str,
    /// Confirmed by typing a name (what can lose data or availability), not by a key.
    pub typed: bool,
    /// A candidate is picked in the first step.
    pub candidates: bool,
    /// A fresh dialog's options (`Options::None`: none).
    pub options: fn() -> Options,
    /// Writes to one member (restart, reload ...): overlaps only that member's writes.
    pub member_scoped: bool,
    /// The request, its checks and what to wait for, in the state now.
    pub plan: fn(&Ctx, &Dialog, &mut Plan),
    /// Instead of `plan`, for an operation made of others' plans (the rolling restart).
    pub plan_alone: Option<fn(&Model, &Dialog, Plan) -> Plan>,
}

impl OpSpec {
    /// Does the dialog open on an options step (else straight on the review)?
    pub fn has_options(&self) -> bool {
        self.candidates || (self.options)() != Options::None
    }
}

/// The description of an operation: the one list of them (the match is exhaustive, so a
/// new `OpKind` cannot go without one).
pub fn spec(kind: OpKind) -> &'static OpSpec {
    match kind {
        OpKind::Switchover => &super::switchover::SPEC,
        OpKind::Failover => &super::failover::SPEC,
        OpKind::Restart => &super::restart::SPEC,
        OpKind::Reload => &super::reload::SPEC,
        OpKind::Reinit => &super::reinit::SPEC,
        OpKind::Pause => &super::pause::PAUSE,
        OpKind::Resume => &super::pause::RESUME,
        OpKind::FlushSwitchover => &super::flush::SWITCHOVER,
        OpKind::FlushRestart => &super::flush::RESTART,
        OpKind::RollingRestart => &super::rolling::SPEC,
        OpKind::DcsSwitchover => &super::dcs_switchover::SPEC,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_described_by_its_own_spec() {
        use OpKind::*;
        let kinds = [
            Switchover,
            Failover,
            Restart,
            Reload,
            Reinit,
            Pause,
            Resume,
            FlushSwitchover,
            FlushRestart,
            RollingRestart,
            DcsSwitchover,
        ];
        for k in kinds {
            assert_eq!(spec(k).kind, k);
        }
        let mut labels: Vec<&str> = kinds.iter().map(|k| spec(*k).label).collect();
        labels.sort_unstable();
        labels.dedup();
        assert_eq!(labels.len(), kinds.len(), "each label names one operation");
    }
}
