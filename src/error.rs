//! Errors: model diagnostics that point at a file, a line and an item, and run failures.

use std::fmt;
use std::path::PathBuf;

/// One problem found in a model file, located by file, line and the item it concerns.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    /// The model file.
    pub file: PathBuf,
    /// 1-based line number (0 when the problem has no position, e.g. an empty file).
    pub line: usize,
    /// What kind of item it is ("species", "reaction", "parameter", ...).
    pub kind: &'static str,
    /// The item's name as written in the file.
    pub item: String,
    /// What is wrong, with a suggested fix where one exists.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.file.display(), self.line)?;
        if self.item.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{} '{}': {}", self.kind, self.item, self.message)
        }
    }
}

/// A model that cannot be used, with every problem found (at least one).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct ModelError {
    /// The problems, in file order.
    pub diagnostics: Vec<Diagnostic>,
}

impl ModelError {
    /// The first problem (there is always one).
    pub fn first(&self) -> &Diagnostic {
        &self.diagnostics[0]
    }
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.diagnostics.len();
        for (i, d) in self.diagnostics.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        if n > 1 {
            write!(f, "\n{n} problems in the model")?;
        }
        Ok(())
    }
}

/// A failure while running or writing results (I/O, Parquet), as opposed to a bad model.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A file or directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The Parquet/Arrow layer failed.
    #[error("{path}: parquet: {message}")]
    Parquet {
        /// The file concerned.
        path: PathBuf,
        /// The error text from the parquet or arrow crate.
        message: String,
    },
    /// The output directory exists and `--force` was not given.
    #[error(
        "output directory {0} already exists; choose another --out, pass --force to replace it, or --resume to complete an interrupted run"
    )]
    OutputExists(PathBuf),
    /// The run settings do not fit the model (e.g. no `--t-end` and no protocol default).
    #[error("{0}")]
    Settings(String),
}

impl RunError {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        RunError::Io {
            path: path.into(),
            source,
        }
    }

    /// Wraps a parquet/arrow error with the path it concerns.
    pub fn parquet(path: impl Into<PathBuf>, err: impl fmt::Display) -> Self {
        RunError::Parquet {
            path: path.into(),
            message: err.to_string(),
        }
    }
}
