//! A [`ThreadSnapshot`] drawn for people: `Display` as an indented tree, one line per
//! thread (like the exit report), and Graphviz's DOT.

use std::fmt::{self, Write};

use super::{Counters, ShutdownPhase, SlotActivity, ThreadSnapshot, ThreadState};

impl fmt::Display for ThreadSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_line(f)?;
        self.write_children(f, "")
    }
}

impl ThreadSnapshot {
    /// The tree in Graphviz's DOT language: a box per thread (its id, type, state and
    /// queues), an arrow from each parent to each child. Node names are the threads' paths
    /// from this one (`server/conn-1`), as ids are unique among siblings only.
    ///
    /// ```
    /// # use task_thread_core::ThreadSnapshot;
    /// fn write_picture(tree: &ThreadSnapshot) -> std::io::Result<()> {
    ///     // Then: dot -Tsvg tree.dot -o tree.svg
    ///     std::fs::write("tree.dot", tree.to_dot())
    /// }
    /// ```
    #[must_use]
    pub fn to_dot(&self) -> String {
        let mut dot =
            String::from("digraph tree {\n    node [shape=box, fontname=\"monospace\"];\n");
        self.write_dot(&mut dot, &self.id);
        dot.push_str("}\n");
        dot
    }

    fn write_dot(&self, dot: &mut String, path: &str) {
        let label = format!(
            "{}\n{}, {}\nqueued {}/{}, {}/{} from children",
            self.id,
            short_type(self.type_name),
            state(self.state),
            self.from_parent.queued,
            self.from_parent.capacity,
            self.from_children.queued,
            self.from_children.capacity,
        );
        let _ = writeln!(dot, "    {} [label={}];", quoted(path), quoted(&label));
        for child in &self.children {
            let child_path = format!("{path}/{}", child.id);
            let _ = writeln!(dot, "    {} -> {};", quoted(path), quoted(&child_path));
            child.write_dot(dot, &child_path);
        }
    }

    fn write_children(&self, f: &mut fmt::Formatter<'_>, prefix: &str) -> fmt::Result {
        for (n, child) in self.children.iter().enumerate() {
            let last = n + 1 == self.children.len();
            let (branch, bar) = if last {
                ("└── ", "    ")
            } else {
                ("├── ", "│   ")
            };
            write!(f, "{prefix}{branch}")?;
            child.write_line(f)?;
            child.write_children(f, &format!("{prefix}{bar}"))?;
        }
        Ok(())
    }

    /// `id [info] (Type, age): state; queued p/P from parent, c/C from children; counters;
    /// slots: name activity (n runs), ...`
    fn write_line(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.id)?;
        if self.info != self.id {
            write!(f, " [{}]", self.info)?;
        }
        write!(
            f,
            " ({}, {:.2}s): {}; queued {}/{} from parent, {}/{} from children",
            short_type(self.type_name),
            self.age.as_secs_f64(),
            state(self.state),
            self.from_parent.queued,
            self.from_parent.capacity,
            self.from_children.queued,
            self.from_children.capacity,
        )?;
        let counted = counted(&self.counters);
        if !counted.is_empty() {
            write!(f, "; {}", counted.join(", "))?;
        }
        if !self.slots.is_empty() {
            let slots: Vec<String> = self
                .slots
                .iter()
                .map(|slot| {
                    let activity = match slot.activity {
                        SlotActivity::Empty => "empty",
                        SlotActivity::Running => "running",
                        SlotActivity::Rescheduling => "rescheduling",
                    };
                    let runs = if slot.runs == 1 { "run" } else { "runs" };
                    format!("{} {activity} ({} {runs})", slot.name, slot.runs)
                })
                .collect();
            write!(f, "; slots: {}", slots.join(", "))?;
        }
        writeln!(f)
    }
}

/// The counts that are not zero, each after what it counts.
fn counted(counters: &Counters) -> Vec<String> {
    let Counters {
        received,
        received_from_children,
        sent_to_parent,
        sent_to_children,
        overflows,
        undelivered,
        slot_runs,
        reschedules,
        children_started,
        children_ended,
    } = *counters;
    let kinds = [
        (received, "received"),
        (received_from_children, "received from children"),
        (sent_to_parent, "sent to parent"),
        (sent_to_children, "sent to children"),
        (overflows, "overflows"),
        (undelivered, "undelivered"),
        (slot_runs, "runs"),
        (reschedules, "reschedules"),
        (children_started, "children started"),
        (children_ended, "children ended"),
    ];
    kinds
        .iter()
        .filter(|(count, _)| *count > 0)
        .map(|(count, kind)| format!("{kind} {count}"))
        .collect()
}

fn state(state: ThreadState) -> &'static str {
    match state {
        ThreadState::Entering => "entering",
        ThreadState::Running => "running",
        ThreadState::ShuttingDown(ShutdownPhase::Tasks) => "shutting down (tasks)",
        ThreadState::ShuttingDown(ShutdownPhase::Exit) => "shutting down (exit)",
        ThreadState::ShuttingDown(ShutdownPhase::Children) => "shutting down (children)",
        ThreadState::Ended => "ended",
    }
}

/// A type's name without its module paths: `server::Conn<io::Tcp>` is `Conn<Tcp>`.
fn short_type(name: &str) -> String {
    let mut short = String::new();
    let mut word = String::new();
    for ch in name.chars() {
        if ch.is_alphanumeric() || ch == '_' {
            word.push(ch);
        } else if ch == ':' {
            // A path segment: dropped.
            word.clear();
        } else {
            short.push_str(&word);
            word.clear();
            short.push(ch);
        }
    }
    short + &word
}

/// A DOT string: quoted, with quotes, backslashes and line ends escaped.
fn quoted(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n");
    format!("\"{escaped}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_type_name_loses_its_paths() {
        assert_eq!(short_type("a::b::Conn<c::Tcp, u8>"), "Conn<Tcp, u8>");
        assert_eq!(short_type("Plain"), "Plain");
    }

    #[test]
    fn dot_strings_are_escaped() {
        assert_eq!(quoted("a \"b\"\\\nc"), "\"a \\\"b\\\"\\\\\\nc\"");
    }
}
