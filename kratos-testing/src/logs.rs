//! [`CapturedLogs`]: a `tracing_subscriber` writer that keeps what it is given.

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use tracing_subscriber::fmt::MakeWriter;

/// Everything a `tracing_subscriber::fmt()` subscriber writes, kept in
/// memory for a test to read back.
///
/// ```
/// let logs = kratos_testing::CapturedLogs::default();
/// let subscriber = tracing_subscriber::fmt()
///     .with_writer(logs.clone())
///     .with_ansi(false)
///     .finish();
/// tracing::subscriber::with_default(subscriber, || tracing::info!(target: "demo", "hello"));
/// assert_eq!(logs.lines_of("demo").len(), 1);
/// assert!(logs.text().contains("hello"));
/// ```
#[derive(Debug, Clone, Default)]
pub struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl CapturedLogs {
    /// Makes a plain-text `tracing_subscriber::fmt()` subscriber writing here
    /// (INFO and above, no colours) the current thread's default until the
    /// guard is dropped: a current-thread test then captures what its
    /// servers log.
    pub fn set_default(&self) -> tracing::subscriber::DefaultGuard {
        let subscriber = tracing_subscriber::fmt()
            .with_writer(self.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    /// All that was written, as text.
    pub fn text(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// The lines that mention `target`.
    pub fn lines_of(&self, target: &str) -> Vec<String> {
        self.text()
            .lines()
            .filter(|l| l.contains(target))
            .map(str::to_owned)
            .collect()
    }
}

impl Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for CapturedLogs {
    type Writer = CapturedLogs;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}
