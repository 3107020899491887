//! The maps of a thread keyed by a name: its children by id, its supervised children, its
//! slots by name.

use std::collections::HashMap;
use std::sync::Arc;

/// A map keyed by a thread's id or a slot's name, hashed with foldhash rather than std's
/// SipHash: a child's id is hashed on every start, and again as its parent's tables grow,
/// and SipHash was most of a registration's cost (callgrind, 10,000 children: about 550
/// of the 600 instructions of an insert into the registry, the same again for a
/// supervised child's entry).
///
/// What is given up: foldhash resists only simple collision attacks (a random seed per
/// map, no input set colliding for every seed), not an attacker who observes the tables
/// to learn their seeds and then chooses the ids of the children a program starts. Ids
/// are chosen by the program; one that names its children after untrusted input (a peer's
/// claimed name, say) and lets that peer see the order of `child_ids` should put a
/// counter or its own hash in the id.
pub(crate) type IdMap<V> = HashMap<Arc<str>, V, foldhash::fast::RandomState>;
