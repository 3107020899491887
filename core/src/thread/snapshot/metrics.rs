//! A snapshot's counters and queues through the [`metrics`] facade, for whatever exporter
//! the program installed (Prometheus, StatsD, ...): behind the `metrics` feature.

use metrics::gauge;

use super::ThreadSnapshot;

impl ThreadSnapshot {
    /// Records every thread of this tree through the [`metrics`] facade, each series
    /// labelled `thread` with the thread's path: the ids from this snapshot's thread down
    /// to it, joined by `/` (`server/conn-3/worker`), since an id is unique among its
    /// siblings only. Its [`Counters`](super::Counters)
    /// (`task_thread_signals_received_total{from=parent|children}`,
    /// `task_thread_signals_sent_total{to=parent|children}`, `task_thread_overflows_total`,
    /// `task_thread_undelivered_total`, `task_thread_slot_runs_total`,
    /// `task_thread_reschedules_total`, `task_thread_children_started_total`,
    /// `task_thread_children_ended_total`), its queues
    /// (`task_thread_queue_depth{queue=from_parent|from_children}`,
    /// `task_thread_queue_capacity{queue=...}`) and its age in seconds
    /// (`task_thread_age_seconds`) are all set as gauges.
    ///
    /// Gauges, not counters, because a thread's counts start again from zero when a thread
    /// of the same path is started again (a restarted child, a reconnecting client given
    /// the same id): the series then falls back to the new thread's counts. A counter
    /// cannot fall (the `metrics` crate's counters keep the highest value set), so it would
    /// stick at the old thread's count until the new one passed it. Prometheus's `rate()`
    /// and `increase()` treat such a fall as a reset, so they read these series as they
    /// would counters; the `age` series falls at the same moment, which tells a restart.
    ///
    /// Call it when the exporter is about to be read (a scrape) or on a timer: the counts
    /// are kept by the threads anyway, so recording costs nothing until then. A server
    /// with a thread per connection makes series per connection: an exporter that keeps
    /// series forever grows with the connections ever made (most expire idle ones).
    ///
    /// ```
    /// # use task_thread_core::ThreadHandle;
    /// # struct Server;
    /// # impl task_thread_core::LeafThread for Server { type Signal = (); type Output = (); }
    /// fn before_each_scrape(server: &ThreadHandle<Server>) {
    ///     server.snapshot().record_metrics();
    /// }
    /// ```
    pub fn record_metrics(&self) {
        // With an explicit stack: a tree may be deeper than a stack.
        let mut to_record = vec![(self, self.id.clone())];
        while let Some((thread, path)) = to_record.pop() {
            thread.record_own_metrics(&path);
            let children = thread.children.iter();
            to_record.extend(children.map(|child| (child, format!("{path}/{}", child.id))));
        }
    }

    /// Records this thread's series (not its children's), labelled with its `path`.
    fn record_own_metrics(&self, path: &str) {
        let thread = path.to_owned();
        let counts = &self.counters;
        let with = |key: &'static str, value: &'static str| {
            [("thread", thread.clone()), (key, value.to_owned())]
        };
        let only = || [("thread", thread.clone())];
        // Counts as gauges: see `record_metrics`.
        let count = |count: u64| count as f64;
        let received = "task_thread_signals_received_total";
        gauge!(received, &with("from", "parent")).set(count(counts.received));
        gauge!(received, &with("from", "children")).set(count(counts.received_from_children));
        let sent = "task_thread_signals_sent_total";
        gauge!(sent, &with("to", "parent")).set(count(counts.sent_to_parent));
        gauge!(sent, &with("to", "children")).set(count(counts.sent_to_children));
        gauge!("task_thread_overflows_total", &only()).set(count(counts.overflows));
        gauge!("task_thread_undelivered_total", &only()).set(count(counts.undelivered));
        gauge!("task_thread_slot_runs_total", &only()).set(count(counts.slot_runs));
        gauge!("task_thread_reschedules_total", &only()).set(count(counts.reschedules));
        let started = "task_thread_children_started_total";
        gauge!(started, &only()).set(count(counts.children_started));
        let ended = "task_thread_children_ended_total";
        gauge!(ended, &only()).set(count(counts.children_ended));
        for (queue, depth) in [
            ("from_parent", self.from_parent),
            ("from_children", self.from_children),
        ] {
            gauge!("task_thread_queue_depth", &with("queue", queue)).set(depth.queued as f64);
            gauge!("task_thread_queue_capacity", &with("queue", queue)).set(depth.capacity as f64);
        }
        gauge!("task_thread_age_seconds", &only()).set(self.age.as_secs_f64());
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use metrics_util::debugging::{DebugValue, DebuggingRecorder};

    use crate::thread::snapshot::{Counters, QueueDepth, ThreadSnapshot, ThreadState};

    fn thread(id: &str, counters: Counters, children: Vec<ThreadSnapshot>) -> ThreadSnapshot {
        ThreadSnapshot {
            id: id.into(),
            info: id.into(),
            type_name: "T",
            state: ThreadState::Running,
            age: Duration::from_secs(2),
            from_parent: QueueDepth {
                queued: 3,
                capacity: 8,
            },
            from_children: QueueDepth::default(),
            counters,
            slots: Vec::new(),
            children,
        }
    }

    #[test]
    fn every_thread_is_recorded_with_its_path() {
        let leaf = Counters {
            sent_to_parent: 5,
            ..Counters::default()
        };
        let root = Counters {
            received_from_children: 5,
            children_started: 1,
            ..Counters::default()
        };
        let tree = thread("root", root, vec![thread("leaf", leaf, Vec::new())]);
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        metrics::with_local_recorder(&recorder, || tree.record_metrics());
        let recorded: Vec<(String, Vec<String>, DebugValue)> = snapshotter
            .snapshot()
            .into_vec()
            .into_iter()
            .map(|(key, _, _, value)| {
                let key = key.key();
                let labels = key.labels().map(|l| format!("{}={}", l.key(), l.value()));
                (key.name().to_owned(), labels.collect(), value)
            })
            .collect();
        let find = |name: &str, labels: &[&str]| {
            recorded
                .iter()
                .find(|(n, l, _)| n == name && l == labels)
                .map(|(_, _, value)| value)
                .unwrap_or_else(|| panic!("{name} {labels:?} not in {recorded:?}"))
        };
        let sent = "task_thread_signals_sent_total";
        assert_eq!(find(sent, &["thread=root/leaf", "to=parent"]), &gauge(5.0));
        let received = "task_thread_signals_received_total";
        let from_children = ["thread=root", "from=children"];
        assert_eq!(find(received, &from_children), &gauge(5.0));
        let started = "task_thread_children_started_total";
        assert_eq!(find(started, &["thread=root"]), &gauge(1.0));
        let depth = find(
            "task_thread_queue_depth",
            &["thread=root/leaf", "queue=from_parent"],
        );
        assert_eq!(depth, &DebugValue::Gauge(3.0.into()));
    }

    fn gauge(value: f64) -> DebugValue {
        DebugValue::Gauge(value.into())
    }

    /// The values of `task_thread_signals_received_total{from=parent}`, by `thread` label.
    fn received(recorder: &DebuggingRecorder, record: impl Fn()) -> Vec<(String, DebugValue)> {
        let snapshotter = recorder.snapshotter();
        metrics::with_local_recorder(recorder, record);
        let mut series: Vec<_> = snapshotter
            .snapshot()
            .into_vec()
            .into_iter()
            .filter(|(key, _, _, _)| {
                let key = key.key();
                key.name() == "task_thread_signals_received_total"
                    && key.labels().any(|l| l.value() == "parent")
            })
            .map(|(key, _, _, value)| {
                let thread = key.key().labels().find(|l| l.key() == "thread");
                (thread.unwrap().value().to_owned(), value)
            })
            .collect();
        series.sort_by(|a, b| a.0.cmp(&b.0));
        series
    }

    /// Ids are unique among siblings only: two `worker`s under two parents are two series.
    #[test]
    fn threads_of_one_id_under_different_parents_are_different_series() {
        let worker = |received| Counters {
            received,
            ..Counters::default()
        };
        let a = thread(
            "a",
            Counters::default(),
            vec![thread("worker", worker(5), vec![])],
        );
        let b = thread(
            "b",
            Counters::default(),
            vec![thread("worker", worker(7), vec![])],
        );
        let tree = thread("root", Counters::default(), vec![a, b]);
        let recorder = DebuggingRecorder::new();
        let series = received(&recorder, || tree.record_metrics());
        let workers: Vec<_> = series
            .iter()
            .filter(|(t, _)| t.ends_with("worker"))
            .collect();
        assert_eq!(
            workers,
            [
                &("root/a/worker".to_owned(), gauge(5.0)),
                &("root/b/worker".to_owned(), gauge(7.0))
            ]
        );
    }

    /// A thread started again under its path counts from zero, and its series follows.
    #[test]
    fn a_restarted_thread_s_series_starts_again() {
        let worker = |received| Counters {
            received,
            ..Counters::default()
        };
        let before = thread("w", worker(100), Vec::new());
        let after = thread("w", worker(3), Vec::new());
        let recorder = DebuggingRecorder::new();
        let series = received(&recorder, || {
            before.record_metrics();
            after.record_metrics();
        });
        assert_eq!(series, [("w".to_owned(), gauge(3.0))]);
    }
}
