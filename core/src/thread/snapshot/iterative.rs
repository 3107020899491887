//! What is done to a whole [`ThreadSnapshot`] without recursion: building it, cloning it,
//! dropping it. A tree can be deeper than a stack (a chain of thousands of threads is
//! legal), and one stack frame per level would overflow it and abort the process.

use super::ThreadSnapshot;

/// Builds a tree from its root, `read` giving each thread's snapshot (without children)
/// and its children still to read, depth first with an explicit stack. A thread's
/// children keep the order `read` gave them.
pub(crate) fn assemble<N>(
    root: (ThreadSnapshot, Vec<N>),
    mut read: impl FnMut(N) -> (ThreadSnapshot, Vec<N>),
) -> ThreadSnapshot {
    // Every thread read so far, parents before their children, with its parent's index.
    let (root, children) = root;
    let mut threads: Vec<(ThreadSnapshot, usize)> = vec![(root, 0)];
    let mut to_read: Vec<(N, usize)> = children.into_iter().map(|child| (child, 0)).collect();
    while let Some((node, parent)) = to_read.pop() {
        let index = threads.len();
        let (thread, children) = read(node);
        threads.push((thread, parent));
        to_read.extend(children.into_iter().map(|child| (child, index)));
    }
    // From the last read up: a thread's children all come after it, so it is complete
    // when it is taken. Siblings were read last to first (a stack), so they are put back
    // first to last.
    loop {
        let (thread, parent) = threads.pop().expect("the root is read first");
        if threads.is_empty() {
            return thread;
        }
        threads[parent].0.children.push(thread);
    }
}

impl Clone for ThreadSnapshot {
    fn clone(&self) -> Self {
        let root = (self.without_children(), self.children.iter().collect());
        assemble(root, |thread: &ThreadSnapshot| {
            (thread.without_children(), thread.children.iter().collect())
        })
    }
}

/// Dropped level by level: each thread's children are taken out before it is dropped, so
/// no drop recurses.
impl Drop for ThreadSnapshot {
    fn drop(&mut self) {
        let mut rest = std::mem::take(&mut self.children);
        while let Some(mut thread) = rest.pop() {
            rest.append(&mut thread.children);
        }
    }
}

impl ThreadSnapshot {
    fn without_children(&self) -> ThreadSnapshot {
        ThreadSnapshot {
            id: self.id.clone(),
            info: self.info.clone(),
            type_name: self.type_name,
            state: self.state,
            age: self.age,
            from_parent: self.from_parent,
            from_children: self.from_children,
            counters: self.counters,
            slots: self.slots.clone(),
            children: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::thread::snapshot::{Counters, QueueDepth, ThreadSnapshot, ThreadState};

    fn thread(id: &str, children: Vec<ThreadSnapshot>) -> ThreadSnapshot {
        ThreadSnapshot {
            id: id.into(),
            info: id.into(),
            type_name: "T",
            state: ThreadState::Running,
            age: Duration::ZERO,
            from_parent: QueueDepth::default(),
            from_children: QueueDepth::default(),
            counters: Counters::default(),
            slots: Vec::new(),
            children,
        }
    }

    #[test]
    fn a_clone_keeps_the_order_of_children() {
        let tree = thread(
            "r",
            vec![
                thread("a", vec![thread("a1", vec![]), thread("a2", vec![])]),
                thread("b", vec![]),
            ],
        );
        let copy = tree.clone();
        let ids = |t: &ThreadSnapshot| t.children.iter().map(|c| c.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&copy), ["a", "b"]);
        assert_eq!(ids(&copy.children[0]), ["a1", "a2"]);
        assert_eq!(copy, tree);
    }
}
