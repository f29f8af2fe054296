//! Library errors. Every variant names the file (and where known the feature and field) so
//! a planner can find and fix the offending record.

use std::path::PathBuf;

/// Fatal errors: the layer or dataset could not be loaded at all. Recoverable problems in
/// single features are [`crate::model::LoadWarning`]s instead.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Format { path: PathBuf, message: String },
    #[error("{path}: coordinates do not fit the declared CRS {declared}: {message}")]
    Crs {
        path: PathBuf,
        declared: String,
        message: String,
    },
    #[error("unknown CRS '{0}': use WGS84, CGCS2000, GCJ-02, BD-09 or EPSG:NNNN")]
    UnknownCrs(String),
    #[error("{path}: manifest error: {message}")]
    Manifest { path: PathBuf, message: String },
    #[error("projection error: {0}")]
    Projection(String),
    #[error("{origin}: rule preset error: {message}")]
    Rules { origin: String, message: String },
    #[error("analysis error: {0}")]
    Analysis(String),
    /// Input the user can change (p, the candidates, the time limit), said in both UI
    /// languages: the CLI and the English UI show `en`, the Chinese UI `zh`.
    #[error("{en}")]
    Input { en: String, zh: String },
    #[error("cancelled")]
    Cancelled,
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
    pub(crate) fn format(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Format {
            path: path.into(),
            message: message.into(),
        }
    }
    pub(crate) fn input(en: impl Into<String>, zh: impl Into<String>) -> Self {
        Error::Input {
            en: en.into(),
            zh: zh.into(),
        }
    }
    /// The message in Chinese, where the library has one.
    pub fn zh(&self) -> Option<&str> {
        match self {
            Error::Input { zh, .. } => Some(zh),
            _ => None,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
