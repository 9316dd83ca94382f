//! Stopping long-running commands on SIGINT or SIGTERM.
//!
//! The handlers are installed when a [`Shutdown`] is created, not when it is first awaited:
//! commands create it before they print their `ready` line, so a script that signals as soon
//! as it reads that line is never met by the default action (an abrupt kill).

use anyhow::Context;
use tokio::signal::unix::{signal, Signal, SignalKind};

/// SIGINT and SIGTERM, listened for from creation on.
pub struct Shutdown {
    interrupt: Signal,
    terminate: Signal,
}

impl Shutdown {
    /// Installs the handlers; call it inside the command's tokio runtime.
    pub fn install() -> anyhow::Result<Self> {
        Ok(Self {
            interrupt: signal(SignalKind::interrupt()).context("installing the SIGINT handler")?,
            terminate: signal(SignalKind::terminate()).context("installing the SIGTERM handler")?,
        })
    }

    /// Resolves at the first SIGINT or SIGTERM since [`Shutdown::install`].
    pub async fn requested(&mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}
