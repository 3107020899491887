//! A [`ThreadSnapshot`] drawn for people: `Display` as an indented tree, one line per
//! thread (like the exit report), and Graphviz's DOT.

use std::fmt::{self, Write};

use super::{Counters, ShutdownPhase, SlotActivity, ThreadSnapshot, ThreadState};

/// Drawn with an explicit stack, not recursion: a tree may be deeper than a stack. (A
/// thread's line starts with a bar per ancestor, so a chain of `n` threads draws `n²`
/// characters: a picture for people, of trees people can read.)
impl fmt::Display for ThreadSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_line(f)?;
        // Threads still to draw, the next on top: each with its ancestors' bars and
        // whether it is its parent's last child.
        let mut to_draw: Vec<(&ThreadSnapshot, String, bool)> = Vec::new();
        push_children(&mut to_draw, self, "");
        while let Some((thread, prefix, last)) = to_draw.pop() {
            let (branch, bar) = if last {
                ("└── ", "    ")
            } else {
                ("├── ", "│   ")
            };
            write!(f, "{prefix}{branch}")?;
            thread.write_line(f)?;
            push_children(&mut to_draw, thread, &format!("{prefix}{bar}"));
        }
        Ok(())
    }
}

/// Puts `thread`'s children on the stack, the first on top.
fn push_children<'a>(
    to_draw: &mut Vec<(&'a ThreadSnapshot, String, bool)>,
    thread: &'a ThreadSnapshot,
    prefix: &str,
) {
    let count = thread.children.len();
    for (n, child) in thread.children.iter().enumerate().rev() {
        to_draw.push((child, prefix.to_owned(), n + 1 == count));
    }
}

impl ThreadSnapshot {
    /// The tree in Graphviz's DOT language: a box per thread (its id, type, state and
    /// queues), an arrow from each parent to each child. Nodes are named by number
    /// (`n0` for this thread, each thread's children numbered as it is drawn), as ids are unique among
    /// siblings only (and may hold any character); the labels carry the ids.
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
        // Depth first with an explicit stack (a tree may be deeper than a stack): each
        // thread with its node's number, numbered as its parent is drawn.
        let mut to_draw = vec![(self, 0usize)];
        let mut numbered = 1;
        while let Some((thread, node)) = to_draw.pop() {
            thread.write_dot_node(&mut dot, node);
            let first = numbered;
            for (n, _) in thread.children.iter().enumerate() {
                let _ = writeln!(dot, "    n{node} -> n{};", first + n);
            }
            numbered += thread.children.len();
            let children = thread.children.iter().enumerate().rev();
            to_draw.extend(children.map(|(n, child)| (child, first + n)));
        }
        dot.push_str("}\n");
        dot
    }

    fn write_dot_node(&self, dot: &mut String, node: usize) {
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
        let _ = writeln!(dot, "    n{node} [label={}];", quoted(&label));
    }

    /// `id [info] (Type, age): state; queued p/P from parent, c/C from children; counters;
    /// slots: name activity (n runs), ...`
    /// Ids, infos and slot names are written with their control characters escaped (a
    /// newline as `\n`): one line per thread, whatever they hold.
    fn write_line(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", Escaped(&self.id))?;
        if self.info != self.id {
            write!(f, " [{}]", Escaped(&self.info))?;
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
                    format!("{} {activity} ({} {runs})", Escaped(&slot.name), slot.runs)
                })
                .collect();
            write!(f, "; slots: {}", slots.join(", "))?;
        }
        writeln!(f)
    }
}

/// Text with its control characters escaped as Rust writes them (`\n`, `\t`, `\u{1b}`),
/// the rest as is.
struct Escaped<'a>(&'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for ch in self.0.chars() {
            if ch.is_control() {
                write!(f, "{}", ch.escape_debug())?;
            } else {
                f.write_char(ch)?;
            }
        }
        Ok(())
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
    fn control_characters_are_escaped_in_lines() {
        let text = Escaped("a\nb\t\u{1b}[31m \"é\"").to_string();
        assert_eq!(text, "a\\nb\\t\\u{1b}[31m \"é\"");
    }

    #[test]
    fn dot_strings_are_escaped() {
        assert_eq!(quoted("a \"b\"\\\nc"), "\"a \\\"b\\\"\\\\\\nc\"");
    }
}
