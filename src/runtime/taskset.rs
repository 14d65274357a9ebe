//! A keyed set of tasks kept equal to what `update` asked for: the REST pollers (member ->
//! api url) and the log followers (member -> source) are both one of these.

use std::collections::BTreeMap;

use tokio::task::JoinHandle;

pub struct TaskSet<K: Ord, S: PartialEq> {
    running: BTreeMap<K, (S, JoinHandle<()>)>,
}

impl<K: Ord + Clone, S: PartialEq + Clone> TaskSet<K, S> {
    pub fn new() -> Self {
        TaskSet {
            running: BTreeMap::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.running.len()
    }

    pub fn is_empty(&self) -> bool {
        self.running.is_empty()
    }

    /// Exactly these tasks: stop the ones no longer wanted (or wanted with another spec),
    /// start the missing ones with `spawn`. What already runs as wanted is left alone.
    pub fn reconcile<'a>(
        &mut self,
        want: impl IntoIterator<Item = (&'a K, &'a S)>,
        mut spawn: impl FnMut(&K, &S) -> JoinHandle<()>,
    ) where
        K: 'a,
        S: 'a,
    {
        let want: Vec<(&K, &S)> = want.into_iter().collect();
        self.running.retain(|k, (s, h)| {
            let keep = want.iter().any(|(wk, ws)| *wk == k && *ws == s);
            if !keep {
                h.abort();
            }
            keep
        });
        for (k, s) in want {
            if self.running.contains_key(k) {
                continue;
            }
            let h = spawn(k, s);
            self.running.insert(k.clone(), (s.clone(), h));
        }
    }
}

impl<K: Ord, S: PartialEq> Drop for TaskSet<K, S> {
    fn drop(&mut self) {
        for (_, (_, h)) in std::mem::take(&mut self.running) {
            h.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reconcile_keeps_what_is_wanted_and_restarts_what_changed() {
        let mut t: TaskSet<String, u32> = TaskSet::new();
        let mut spawned = Vec::new();
        let mut spawn = |k: &String, s: &u32| {
            spawned.push((k.clone(), *s));
            tokio::spawn(std::future::pending())
        };
        let (a, b) = ("a".to_string(), "b".to_string());
        t.reconcile([(&a, &1), (&b, &1)], &mut spawn);
        t.reconcile([(&a, &1), (&b, &2)], &mut spawn);
        t.reconcile([(&b, &2)], &mut spawn);
        assert_eq!(t.len(), 1);
        assert_eq!(
            spawned,
            vec![("a".into(), 1), ("b".into(), 1), ("b".into(), 2)],
            "a kept, b restarted with its new spec, a stopped"
        );
    }
}
