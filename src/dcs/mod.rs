//! The DCS side: etcd key layout, typed values, and the sources that stream changes.

pub mod info;
pub mod info_v2;
pub mod keys;
pub mod v2;
mod v3;

pub use v2::{put as v2_put, run_v2};
pub use v3::{
    PutError, describe as describe_v3_error, put as v3_put, run_v3, snapshot as v3_snapshot,
};

/// One key as read from etcd, before parsing (parsing is pure and happens in `app`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawKv {
    /// The full key, e.g. `/service/demo/members/pg1`.
    pub key: String,
    pub value: Vec<u8>,
    /// The etcd v3 lease the key is bound to (0: none).
    pub lease: i64,
}

/// What a DCS source reports. Sources never interpret values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DcsEvent {
    /// Trying this endpoint now.
    Connecting {
        endpoint: String,
    },
    /// The complete state under the watched prefix: replaces everything known before.
    Snapshot {
        endpoint: String,
        revision: i64,
        kvs: Vec<RawKv>,
    },
    Put(RawKv),
    Delete {
        key: String,
    },
    /// etcd v2: this key expires `ttl` seconds after the message was received (v2 keys
    /// carry their own TTL; Patroni rewrites `leader` with it every loop). Follows the key's
    /// `Put` (or the `Snapshot` that holds it).
    Ttl {
        key: String,
        ttl: i64,
    },
    /// A broken watch goes on from `revision` on this endpoint, without a snapshot: what
    /// the model holds is current again once the events since `revision` are applied.
    Resumed {
        endpoint: String,
        revision: i64,
    },
    /// The watch is alive at this revision (etcd progress notification, or the answer to
    /// the source's progress request after a silence).
    Progress {
        revision: i64,
    },
    /// etcd says its newest revision is at least `revision` (a watch response's header, or
    /// the index a v2 long poll was registered at), sent before that response's events: the
    /// model is behind by the revisions between this and the last `Progress` until that
    /// catches up. A backlog in the stream or in patrol's queue shows as this gap.
    Head {
        revision: i64,
    },
    /// etcd's current revision, asked aside from the watch (the runtime hands it on from
    /// the source's side channel, which a full queue does not hold up). It may count keys
    /// outside the prefix, which a progress answer on the watch then shows as applied:
    /// a gap from it counts once it has lasted a moment.
    Newest {
        revision: i64,
        /// Messages were waiting in the queue when it was handed on: the screen is behind
        /// whatever the revision counts, so the gap shows at once.
        backlog: bool,
    },
    /// The snapshot left this key's value out: over `limit` bytes (`size` when known; a
    /// value over what one etcd answer may carry is not even read). Follows the `Snapshot`.
    Skipped {
        key: String,
        size: Option<usize>,
        limit: usize,
    },
    /// Nothing has come from the watch for a while: the source asked etcd for its progress
    /// and waits for the answer (a `Progress`). Until it comes the screen may be behind.
    Probing,
    /// The endpoint failed; the source backs off and tries again (the next endpoint first).
    Down {
        endpoint: String,
        error: String,
    },
}

/// The largest value a source hands on: larger ones are skipped in the snapshot
/// (`DcsEvent::Skipped`), never held (patrol parses nothing larger, see `app::cluster`).
pub const MAX_VALUE: usize = 1024 * 1024;

/// Split `/service/demo/members/pg1` into (`demo`, `members/pg1`) for namespace `/service/`.
pub fn split_key<'a>(namespace: &str, key: &'a str) -> Option<(&'a str, &'a str)> {
    let rest = key.strip_prefix(namespace)?;
    let (scope, relative) = rest.split_once('/')?;
    if scope.is_empty() || relative.is_empty() {
        return None;
    }
    Some((scope, relative))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_split_into_scope_and_path() {
        assert_eq!(
            split_key("/service/", "/service/demo/leader"),
            Some(("demo", "leader"))
        );
        assert_eq!(
            split_key("/service/", "/service/demo/members/pg1"),
            Some(("demo", "members/pg1"))
        );
        assert_eq!(split_key("/service/", "/other/demo/leader"), None);
        assert_eq!(split_key("/service/", "/service/demo"), None);
        assert_eq!(split_key("/service/", "/service//leader"), None);
    }
}
