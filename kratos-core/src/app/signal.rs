//! The OS signals that stop an App.

/// A signal that asks the App to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Signal {
    /// SIGINT (Ctrl-C).
    Interrupt,
    /// SIGTERM (what orchestrators send).
    Terminate,
    /// SIGQUIT.
    Quit,
    /// SIGHUP.
    Hangup,
}

impl Signal {
    /// SIGINT, SIGTERM and SIGQUIT: the App's default, as in Go Kratos.
    pub const DEFAULT: [Signal; 3] = [Signal::Interrupt, Signal::Terminate, Signal::Quit];
}

/// Resolves when one of `signals` arrives; never if the list is empty or
/// no handler could be installed.
#[cfg(unix)]
pub(crate) async fn any(signals: &[Signal]) -> Signal {
    use tokio::signal::unix::{SignalKind, signal};

    let mut streams = Vec::new();
    for &s in signals {
        let kind = match s {
            Signal::Interrupt => SignalKind::interrupt(),
            Signal::Terminate => SignalKind::terminate(),
            Signal::Quit => SignalKind::quit(),
            Signal::Hangup => SignalKind::hangup(),
        };
        match signal(kind) {
            Ok(stream) => streams.push((s, stream)),
            Err(err) => tracing::warn!(signal = ?s, error = %err, "cannot listen for signal"),
        }
    }
    if streams.is_empty() {
        return std::future::pending().await;
    }
    let waits = streams.iter_mut().map(|(s, stream)| {
        let s = *s;
        Box::pin(async move {
            stream.recv().await;
            s
        })
    });
    futures_util::future::select_all(waits).await.0
}

/// Resolves on Ctrl-C when `Interrupt` is asked for (the only signal off unix).
#[cfg(not(unix))]
pub(crate) async fn any(signals: &[Signal]) -> Signal {
    if signals.contains(&Signal::Interrupt) && tokio::signal::ctrl_c().await.is_ok() {
        return Signal::Interrupt;
    }
    std::future::pending().await
}
