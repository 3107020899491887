//! [`Flavour`]: one of the compiled-in backends, chosen by name at run time.

use std::fmt;
use std::future::Future;
use std::str::FromStr;

use task_thread_core::{Backend, Runtime};

/// A runtime flavour compiled into this build (by the cargo features `tokio`, `async-std`,
/// `smol`), so that a program can pick its runtime from the command line.
///
/// ```
/// use task_thread::{Backend, Flavour, SpawnerExt};
///
/// let flavour: Flavour = "tokio-current-thread".parse().unwrap();
/// let answer = flavour.block_on(|rt| async move { rt.spawn(async { 42 }).await.unwrap() });
/// assert_eq!(answer, 42);
/// assert!("tokyo".parse::<Flavour>().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Flavour {
    /// tokio's multi-thread runtime (`tokio`, `tokio-multi-thread`).
    #[cfg(feature = "tokio")]
    TokioMultiThread,
    /// tokio's current-thread runtime (`tokio-current-thread`).
    #[cfg(feature = "tokio")]
    TokioCurrentThread,
    /// async-std's global executor (`async-std`).
    #[cfg(feature = "async-std")]
    AsyncStd,
    /// smol, with an executor of its own (`smol`).
    #[cfg(feature = "smol")]
    Smol,
}

impl Flavour {
    /// Every flavour compiled in, the default first.
    pub const ALL: &'static [Flavour] = &[
        #[cfg(feature = "tokio")]
        Flavour::TokioMultiThread,
        #[cfg(feature = "tokio")]
        Flavour::TokioCurrentThread,
        #[cfg(feature = "async-std")]
        Flavour::AsyncStd,
        #[cfg(feature = "smol")]
        Flavour::Smol,
    ];
}

impl Default for Flavour {
    /// tokio multi-thread if compiled in, else async-std, else smol.
    fn default() -> Self {
        Flavour::ALL[0]
    }
}

impl Backend for Flavour {
    fn name(&self) -> &'static str {
        match self {
            #[cfg(feature = "tokio")]
            Flavour::TokioMultiThread => "tokio-multi-thread",
            #[cfg(feature = "tokio")]
            Flavour::TokioCurrentThread => "tokio-current-thread",
            #[cfg(feature = "async-std")]
            Flavour::AsyncStd => "async-std",
            #[cfg(feature = "smol")]
            Flavour::Smol => "smol",
        }
    }

    fn block_on<F, Fut>(&self, main: F) -> Fut::Output
    where
        F: FnOnce(Runtime) -> Fut,
        Fut: Future,
    {
        match self {
            #[cfg(feature = "tokio")]
            Flavour::TokioMultiThread => crate::tokio::Tokio::multi_thread().block_on(main),
            #[cfg(feature = "tokio")]
            Flavour::TokioCurrentThread => crate::tokio::Tokio::current_thread().block_on(main),
            #[cfg(feature = "async-std")]
            Flavour::AsyncStd => crate::async_std::AsyncStd.block_on(main),
            #[cfg(feature = "smol")]
            Flavour::Smol => crate::smol::Smol::default().block_on(main),
        }
    }
}

impl fmt::Display for Flavour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A backend name that is not compiled into this build (nor, for
/// [`Choice::parse`](crate::Choice::parse), one of the program's own).
///
/// ```
/// use task_thread::{Backend, Flavour};
///
/// let refused = "kqueue".parse::<Flavour>().unwrap_err();
/// assert_eq!(refused.name, "kqueue");
/// // It lists what this build can run, and its message says both.
/// assert_eq!(refused.known, Flavour::ALL.iter().map(Backend::name).collect::<Vec<_>>());
/// assert!(refused.to_string().starts_with("unknown runtime flavour 'kqueue': this build has"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownFlavour {
    /// The name that was asked for.
    pub name: String,
    /// The names there were to choose from.
    pub known: Vec<&'static str>,
}

impl fmt::Display for UnknownFlavour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown runtime flavour '{}': this build has {} (enable others with the cargo features tokio, async-std, smol)",
            self.name,
            self.known.join(", ")
        )
    }
}

impl std::error::Error for UnknownFlavour {}

impl FromStr for Flavour {
    type Err = UnknownFlavour;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        if name == "tokio" {
            #[cfg(feature = "tokio")]
            return Ok(Flavour::TokioMultiThread);
        }
        Flavour::ALL
            .iter()
            .copied()
            .find(|flavour| flavour.name() == name)
            .ok_or_else(|| UnknownFlavour {
                name: name.to_owned(),
                known: Flavour::ALL.iter().map(Backend::name).collect(),
            })
    }
}
