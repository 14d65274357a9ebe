//! The judgements the screen shows, made once per model update and only for what is on
//! screen: the open dialog's plan (its candidates, checks and request) and the detail
//! view's member as a candidate. `App::update` makes them when the runtime has applied a
//! batch of messages (`Msg::Drained`, before every frame) and after a key; the views only
//! read them, and the send key compares its own fresh plan with the one shown here. Health
//! rules over the same model belong beside this, made at the same moment.

use super::checks::{self, Candidate, Check};
use super::dialog::Dialog;
use super::election::{self, Ranking};
use super::model::Model;
use super::plan::Plan;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Judgement {
    /// The open dialog's plan, as the dialog shows it.
    pub plan: Option<Plan>,
    /// The detail view's member and how it stands as a candidate (None: the leader, gone).
    pub detail: Option<(String, Option<Candidate>)>,
    /// Who Patroni would elect if the leader went away now (`election`), over the members
    /// with REST state (bounded however many member keys etcd holds).
    pub election: Option<Ranking>,
    /// Why the next leader is on screen now (see [`election::watching`]); None: only the
    /// leader's detail view shows it.
    pub watch: Option<&'static str>,
}

impl Judgement {
    /// Judge what is on screen: `dialog` open, the detail view of `detail` shown.
    pub fn of(model: &Model, dialog: Option<&Dialog>, detail: Option<&str>) -> Judgement {
        let election = model
            .cluster()
            .map(|c| election::of(c, model.now, model.rest_interval));
        Judgement {
            plan: dialog.map(|d| model.plan(d)),
            detail: detail.map(|m| {
                let c = model
                    .cluster()
                    .zip(election.as_ref())
                    .and_then(|(c, e)| checks::candidate(c, m, model.now, model.rest_interval, e));
                (m.to_string(), c)
            }),
            election,
            watch: model
                .cluster()
                .and_then(|c| election::watching(c, model.now, model.rest_interval)),
        }
    }
}

/// Do two lists of checks say the same thing? The same verdicts on the same grounds; a
/// figure in a text (a lag, an age) may move on. Otherwise a lag growing by a few bytes a
/// second would hold the send key for ever.
pub fn same_checks(a: &[Check], b: &[Check]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.level == y.level && gist(&x.text) == gist(&y.text))
}

/// A check's text without its figures: a number standing on its own (`1.5 MiB`, `3s`), not
/// the digits of a name (`pg12`).
fn gist(t: &str) -> String {
    let mut out = String::with_capacity(t.len());
    let mut in_number = false;
    let mut prev: Option<char> = None;
    for c in t.chars() {
        let starts = c.is_ascii_digit()
            && !prev.is_some_and(|p| p.is_alphanumeric() || p == '_' || p == '-');
        let digit = (in_number && (c.is_ascii_digit() || c == '.')) || starts;
        if !digit {
            out.push(c);
        } else if !in_number {
            out.push('#');
        }
        in_number = digit;
        prev = Some(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_are_the_same_when_only_a_figure_moved() {
        let lag = |t: &str| vec![Check::warn(t), Check::pass("pg1 holds the leader lock")];
        assert!(same_checks(
            &lag("pg2: lag unknown (at least 1.5 MiB)"),
            &lag("pg2: lag unknown (at least 12.0 MiB)")
        ));
        assert!(!same_checks(
            &lag("pg2: lag unknown (at least 1.5 MiB)"),
            &lag("pg2: lag unknown (at least 1.5 GiB)")
        ));
        assert!(!same_checks(
            &lag("pg2: lag unknown"),
            &lag("pg2: not streaming (stopped)")
        ));
        assert!(!same_checks(
            &[Check::pass("pg2 is eligible")],
            &[Check::fail("pg2 is eligible")]
        ));
        assert!(!same_checks(&lag("x"), &lag("x")[..1]));
        assert_eq!(gist("pg12 lag 1.5 MiB, 3s."), "pg12 lag # MiB, #s.");
        assert!(!same_checks(
            &[Check::pass("pg2 is eligible")],
            &[Check::pass("pg3 is eligible")]
        ));
    }
}
