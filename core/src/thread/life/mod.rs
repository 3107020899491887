//! A thread's life on its own task: the state every handle shares ([`thread_core`]), its
//! start ([`launch`]), the runtime task around its life ([`thread_task`]), the life itself:
//! `enter`, the signal loop and the shutdown ([`signal_loop`]), a user method run
//! contained ([`contained`]), the shutdown cascade ([`shutdown`]) and a program's root
//! ([`root`]).

pub(crate) mod contained;
pub(crate) mod launch;
pub(crate) mod root;
pub(crate) mod shutdown;
pub(crate) mod signal_loop;
pub(crate) mod thread_core;
mod thread_task;
