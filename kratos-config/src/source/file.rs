//! [`FileSource`]: a file, or every config file of a directory, watched.

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc;

use super::{Source, SourceWatcher};
use crate::{ConfigError, KeyValue};

/// How long the file system must stay quiet before a change is read, so an
/// editor's write-temp-then-rename, or a write in several chunks, is read once.
const DEBOUNCE: Duration = Duration::from_millis(100);

/// A configuration file, or every `.yaml`/`.yml`/`.json`/`.toml` file of a
/// directory (not recursive, in name order), read and watched.
///
/// The watcher follows the directory, not the file, so editors that write a
/// temporary file and rename it over the original are seen; bursts of events
/// are debounced. Files are read on tokio's blocking pool
/// (`spawn_blocking`), never on the runtime's worker threads.
///
/// ```
/// use kratos_config::FileSource;
///
/// let source = FileSource::new("configs/config.yaml");
/// # let _ = source;
/// ```
#[derive(Debug, Clone)]
pub struct FileSource {
    path: PathBuf,
}

impl FileSource {
    /// A source reading `path`, a file or a directory.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// Reads the source off the runtime's threads.
    async fn read(&self) -> Result<Vec<KeyValue>, ConfigError> {
        let source = self.clone();
        off_runtime(&self.path, move || source.read_blocking()).await
    }

    fn read_blocking(&self) -> Result<Vec<KeyValue>, ConfigError> {
        let origin = self.path.display().to_string();
        let meta = std::fs::metadata(&self.path)
            .map_err(|err| ConfigError::source(&origin, &err).with_source(err))?;
        if !meta.is_dir() {
            return Ok(vec![read_file(&self.path)?]);
        }
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&self.path)
            .map_err(|err| ConfigError::source(&origin, &err).with_source(err))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && format_of(p).is_some())
            .collect();
        paths.sort();
        paths.iter().map(|p| read_file(p)).collect()
    }

    /// The directory to watch and, for a single file, its name.
    fn watch_target(&self) -> (PathBuf, Option<std::ffi::OsString>) {
        if self.path.is_dir() {
            return (self.path.clone(), None);
        }
        let dir = match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        (dir, self.path.file_name().map(ToOwned::to_owned))
    }
}

/// Runs blocking file-system work `f` on tokio's blocking pool.
async fn off_runtime<T: Send + 'static>(
    path: &Path,
    f: impl FnOnce() -> Result<T, ConfigError> + Send + 'static,
) -> Result<T, ConfigError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(result) => result,
        Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
        Err(err) => Err(ConfigError::source(&path.display().to_string(), &err).with_source(err)),
    }
}

fn format_of(path: &Path) -> Option<&'static str> {
    KeyValue::format_of(path.to_str()?)
}

fn read_file(path: &Path) -> Result<KeyValue, ConfigError> {
    let origin = path.display().to_string();
    let format = format_of(path).ok_or_else(|| {
        ConfigError::source(
            &origin,
            "unknown format: use a .yaml, .yml, .json or .toml extension",
        )
    })?;
    let value =
        std::fs::read(path).map_err(|err| ConfigError::source(&origin, &err).with_source(err))?;
    Ok(KeyValue::new(origin, value, format))
}

#[async_trait]
impl Source for FileSource {
    async fn load(&self) -> Result<Vec<KeyValue>, ConfigError> {
        self.read().await
    }

    async fn watch(&self) -> Result<Box<dyn SourceWatcher>, ConfigError> {
        let (tx, events) = mpsc::unbounded_channel();
        let source = self.clone();
        // `is_dir` and adding the watch touch the file system too.
        let (file, watcher) = off_runtime(&self.path, move || {
            let (dir, file) = source.watch_target();
            let mut watcher =
                notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                    if let Ok(event) = event {
                        let _ = tx.send(event);
                    }
                })
                .map_err(|err| {
                    ConfigError::source(&dir.display().to_string(), &err).with_source(err)
                })?;
            watcher
                .watch(&dir, RecursiveMode::NonRecursive)
                .map_err(|err| {
                    ConfigError::source(&dir.display().to_string(), &err).with_source(err)
                })?;
            Ok((file, watcher))
        })
        .await?;
        Ok(Box::new(FileWatcher {
            source: self.clone(),
            file,
            events,
            watcher: Some(watcher),
        }))
    }
}

#[derive(Debug)]
struct FileWatcher {
    source: FileSource,
    /// The watched file's name, or `None` when the whole directory is the source.
    file: Option<std::ffi::OsString>,
    events: mpsc::UnboundedReceiver<notify::Event>,
    watcher: Option<RecommendedWatcher>,
}

impl FileWatcher {
    fn concerns_us(&self, event: &notify::Event) -> bool {
        if event.kind.is_access() {
            return false;
        }
        event.paths.iter().any(|p| match &self.file {
            Some(name) => p.file_name() == Some(name.as_os_str()),
            None => format_of(p).is_some(),
        })
    }
}

#[async_trait]
impl SourceWatcher for FileWatcher {
    async fn next(&mut self) -> Result<Vec<KeyValue>, ConfigError> {
        if self.watcher.is_none() {
            return Err(ConfigError::closed());
        }
        loop {
            let event = self.events.recv().await.ok_or_else(ConfigError::closed)?;
            if self.concerns_us(&event) {
                break;
            }
        }
        // Debounce: read once the burst of events is over.
        while let Ok(Some(_)) = tokio::time::timeout(DEBOUNCE, self.events.recv()).await {}
        tracing::debug!(path = %self.source.path.display(), "config file changed");
        self.source.read().await
    }

    async fn stop(&mut self) -> Result<(), ConfigError> {
        self.watcher = None;
        self.events.close();
        Ok(())
    }
}
