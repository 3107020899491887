//! [`Choice`]: a backend picked by name among the compiled-in flavours and the program's own.

use std::future::Future;

use task_thread_core::{Backend, Runtime};

use crate::{Flavour, UnknownFlavour};

/// A backend chosen at run time by name: one of the program's own backends (for an executor
/// this project does not ship), or a compiled-in [`Flavour`].
///
/// [`Flavour`] is a closed list, the backends of this build's cargo features. A program
/// with a backend of its own picks among both with [`Choice::parse`], and runs on the
/// result as on any backend: `Choice` is a [`Backend`] that hands each call to the one
/// chosen. (A `dyn Backend` cannot do it: `block_on` is generic over the program's future,
/// so the choice is an enum, and one program has one own backend type: an enum of its own
/// if it has several.)
///
/// ```
/// use std::future::Future;
/// use task_thread::{Backend, Choice, Flavour, Runtime, SpawnerExt};
///
/// /// The program's own backend; here it runs on the default flavour under its own name.
/// #[derive(Debug, PartialEq)]
/// struct MyExecutor;
///
/// impl Backend for MyExecutor {
///     fn name(&self) -> &'static str {
///         "my-executor"
///     }
///     fn block_on<F, Fut>(&self, main: F) -> Fut::Output
///     where
///         F: FnOnce(Runtime) -> Fut,
///         Fut: Future,
///     {
///         Flavour::default().block_on(main)
///     }
/// }
///
/// // As a command line's `--backend` would give it:
/// let backend = Choice::parse("my-executor", [MyExecutor]).unwrap();
/// assert_eq!(backend.name(), "my-executor");
/// assert_eq!(backend.block_on(|rt| async move { rt.spawn(async { 42 }).await.unwrap() }), 42);
///
/// // Every compiled-in flavour is there too (tokio-multi-thread, smol, ... by the features).
/// let default = Flavour::default();
/// assert_eq!(Choice::parse(default.name(), [MyExecutor]).unwrap(), Choice::Flavour(default));
///
/// // A name that is neither: the error lists the program's backends, then the build's.
/// let refused = Choice::parse("tokyo", [MyExecutor]).unwrap_err();
/// assert_eq!(refused.known[..2], ["my-executor", Flavour::ALL[0].name()]);
/// ```
///
/// With clap (as the examples read `--backend`), the same call is the argument's parser:
///
/// ```
/// # use std::future::Future;
/// # use task_thread::{Backend, Flavour, Runtime};
/// # #[derive(Clone, Debug, PartialEq)]
/// # struct MyExecutor;
/// # impl Backend for MyExecutor {
/// #     fn name(&self) -> &'static str { "my-executor" }
/// #     fn block_on<F: FnOnce(Runtime) -> Fut, Fut: Future>(&self, main: F) -> Fut::Output {
/// #         Flavour::default().block_on(main)
/// #     }
/// # }
/// use clap::Parser;
/// use task_thread::{Choice, UnknownFlavour};
///
/// fn backend(name: &str) -> Result<Choice<MyExecutor>, UnknownFlavour> {
///     Choice::parse(name, [MyExecutor])
/// }
///
/// #[derive(Parser)]
/// struct Options {
///     /// The runtime to run on
///     #[arg(long, value_parser = backend)]
///     backend: Choice<MyExecutor>,
/// }
///
/// let options = Options::parse_from(["program", "--backend", "my-executor"]);
/// assert_eq!(options.backend, Choice::Own(MyExecutor));
/// let error = Options::try_parse_from(["program", "--backend", "tokyo"]).err().unwrap();
/// assert!(error.to_string().contains("unknown runtime flavour 'tokyo'"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Choice<B> {
    /// One of the program's own backends.
    Own(B),
    /// A backend compiled into this build.
    Flavour(Flavour),
}

impl<B: Backend> Choice<B> {
    /// The backend called `name`: the first of `own` with that [`Backend::name`], else the
    /// [`Flavour`] of that name (so an own backend may take a built-in's name and replace
    /// it); an [`UnknownFlavour`] listing every name there was if none has it.
    pub fn parse(name: &str, own: impl IntoIterator<Item = B>) -> Result<Self, UnknownFlavour> {
        let mut own_names = Vec::new();
        for backend in own {
            if backend.name() == name {
                return Ok(Choice::Own(backend));
            }
            own_names.push(backend.name());
        }
        name.parse::<Flavour>()
            .map(Choice::Flavour)
            .map_err(|mut unknown| {
                own_names.append(&mut unknown.known);
                unknown.known = own_names;
                unknown
            })
    }
}

impl<B: Backend> Backend for Choice<B> {
    fn name(&self) -> &'static str {
        match self {
            Choice::Own(backend) => backend.name(),
            Choice::Flavour(flavour) => flavour.name(),
        }
    }

    fn block_on<F, Fut>(&self, main: F) -> Fut::Output
    where
        F: FnOnce(Runtime) -> Fut,
        Fut: Future,
    {
        match self {
            Choice::Own(backend) => backend.block_on(main),
            Choice::Flavour(flavour) => flavour.block_on(main),
        }
    }
}
