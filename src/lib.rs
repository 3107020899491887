#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use task_thread_core::*;

/// The async-std backend. async-std is discontinued and recommends smol: prefer the `smol`
/// feature in a new program.
#[cfg(feature = "async-std")]
pub use task_thread_async_std as async_std;
#[cfg(feature = "smol")]
pub use task_thread_smol as smol;
#[cfg(feature = "tokio")]
pub use task_thread_tokio as tokio;

#[cfg(any(feature = "tokio", feature = "async-std", feature = "smol"))]
mod choice;
#[cfg(any(feature = "tokio", feature = "async-std", feature = "smol"))]
mod flavour;
#[cfg(any(feature = "tokio", feature = "async-std", feature = "smol"))]
pub use choice::Choice;
#[cfg(any(feature = "tokio", feature = "async-std", feature = "smol"))]
pub use flavour::{Flavour, UnknownFlavour};
