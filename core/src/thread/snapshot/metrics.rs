//! A snapshot's counters and queues through the [`metrics`] facade, for whatever exporter
//! the program installed (Prometheus, StatsD, ...): behind the `metrics` feature.

use metrics::{counter, gauge};

use super::ThreadSnapshot;

impl ThreadSnapshot {
    /// Records every thread of this tree through the [`metrics`] facade, each series
    /// labelled `thread` with the thread's id: its [`Counters`](super::Counters) as
    /// counters set to their value (`task_thread_signals_received_total{from=parent|children}`,
    /// `task_thread_signals_sent_total{to=parent|children}`, `task_thread_overflows_total`,
    /// `task_thread_undelivered_total`, `task_thread_slot_runs_total`,
    /// `task_thread_reschedules_total`, `task_thread_children_started_total`,
    /// `task_thread_children_ended_total`), and as gauges its queues
    /// (`task_thread_queue_depth{queue=from_parent|from_children}`,
    /// `task_thread_queue_capacity{queue=...}`) and its age in seconds
    /// (`task_thread_age_seconds`).
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
        let mut to_record = vec![self];
        while let Some(thread) = to_record.pop() {
            thread.record_own_metrics();
            to_record.extend(thread.children.iter());
        }
    }

    /// Records this thread's series (not its children's).
    fn record_own_metrics(&self) {
        let thread = self.id.clone();
        let counts = &self.counters;
        let with = |key: &'static str, value: &'static str| {
            [("thread", thread.clone()), (key, value.to_owned())]
        };
        let only = || [("thread", thread.clone())];
        let received = "task_thread_signals_received_total";
        counter!(received, &with("from", "parent")).absolute(counts.received);
        counter!(received, &with("from", "children")).absolute(counts.received_from_children);
        let sent = "task_thread_signals_sent_total";
        counter!(sent, &with("to", "parent")).absolute(counts.sent_to_parent);
        counter!(sent, &with("to", "children")).absolute(counts.sent_to_children);
        counter!("task_thread_overflows_total", &only()).absolute(counts.overflows);
        counter!("task_thread_undelivered_total", &only()).absolute(counts.undelivered);
        counter!("task_thread_slot_runs_total", &only()).absolute(counts.slot_runs);
        counter!("task_thread_reschedules_total", &only()).absolute(counts.reschedules);
        let started = "task_thread_children_started_total";
        counter!(started, &only()).absolute(counts.children_started);
        let ended = "task_thread_children_ended_total";
        counter!(ended, &only()).absolute(counts.children_ended);
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
    fn every_thread_is_recorded_with_its_id() {
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
        assert_eq!(
            find(sent, &["thread=leaf", "to=parent"]),
            &DebugValue::Counter(5)
        );
        let received = "task_thread_signals_received_total";
        let from_children = ["thread=root", "from=children"];
        assert_eq!(find(received, &from_children), &DebugValue::Counter(5));
        let started = "task_thread_children_started_total";
        assert_eq!(find(started, &["thread=root"]), &DebugValue::Counter(1));
        let depth = find(
            "task_thread_queue_depth",
            &["thread=leaf", "queue=from_parent"],
        );
        assert_eq!(depth, &DebugValue::Gauge(3.0.into()));
    }
}
