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
    /// `zh`: the message in Chinese, where the reader has one (the Chinese UI shows it).
    #[error("{path}: {message}")]
    Format {
        path: PathBuf,
        message: String,
        zh: Option<String>,
    },
    #[error("{path}: coordinates do not fit the declared CRS {declared}: {message}")]
    Crs {
        path: PathBuf,
        declared: String,
        message: String,
        zh: String,
    },
    #[error("unknown CRS '{0}': use WGS84, CGCS2000, GCJ-02, BD-09 or EPSG:NNNN")]
    UnknownCrs(String),
    #[error("{path}: manifest error: {message}")]
    Manifest { path: PathBuf, message: String },
    #[error("projection error: {0}")]
    Projection(String),
    /// A CRS this build converts only through PROJ, and it was built without PROJ (the
    /// Windows build): says what is built in.
    #[error("{0} needs PROJ, which this build does not have; built in are lon/lat (WGS84, CGCS2000, GCJ-02, BD-09), CGCS2000 Gauss-Krüger (EPSG:4491–4554), WGS84 UTM (EPSG:326xx/327xx) and Web Mercator (EPSG:3857): reproject the layer to one of them")]
    NeedsProj(String),
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
            zh: None,
        }
    }
    /// A format error said in both UI languages.
    pub(crate) fn format_zh(
        path: impl Into<PathBuf>,
        message: impl Into<String>,
        zh: impl Into<String>,
    ) -> Self {
        Error::Format {
            path: path.into(),
            message: message.into(),
            zh: Some(zh.into()),
        }
    }
    pub(crate) fn input(en: impl Into<String>, zh: impl Into<String>) -> Self {
        Error::Input {
            en: en.into(),
            zh: zh.into(),
        }
    }
    /// The message for the Chinese UI: Chinese throughout where the library has the
    /// words (input the user can change, CRS mismatches, the common format faults), else
    /// a Chinese frame around the English detail — file, feature and field stay named.
    pub fn zh(&self) -> String {
        match self {
            Error::Io { path, source } => format!("{}：{}", path.display(), io_zh(source)),
            Error::Format { path, message, zh } => {
                format!("{}：{}", path.display(), zh.as_deref().unwrap_or(message))
            }
            Error::Crs {
                path, declared, zh, ..
            } => format!(
                "{}：坐标与声明的坐标系 {declared} 不符：{zh}",
                path.display()
            ),
            Error::UnknownCrs(name) => {
                format!("未知坐标系“{name}”：请使用 WGS84、CGCS2000、GCJ-02、BD-09 或 EPSG:NNNN")
            }
            Error::Manifest { path, message } => {
                format!("{}：数据清单错误：{message}", path.display())
            }
            Error::Projection(m) => format!("投影错误：{m}"),
            Error::NeedsProj(crs) => format!(
                "坐标系 {crs} 需要 PROJ，本版本未包含：内置的有经纬度（WGS84、CGCS2000、GCJ-02、BD-09）、CGCS2000 高斯-克吕格（EPSG:4491–4554）、WGS84 UTM 与 Web 墨卡托（EPSG:3857），请将图层转换为其中之一"
            ),
            Error::Rules { origin, message } => format!("{origin}：规则预设错误：{message}"),
            Error::Analysis(m) => format!("分析错误：{m}"),
            Error::Input { zh, .. } => zh.clone(),
            Error::Cancelled => "已取消".into(),
        }
    }
}

/// An I/O failure in Chinese: the common kinds in words, the rest with the system's text.
fn io_zh(e: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::NotFound => "找不到文件或文件夹".into(),
        K::PermissionDenied => "没有读写权限".into(),
        K::AlreadyExists => "文件已存在".into(),
        K::InvalidData => format!("数据无效（{e}）"),
        K::UnexpectedEof => "文件不完整（提前结束）".into(),
        K::IsADirectory => "这是文件夹，不是文件".into(),
        K::StorageFull => "磁盘已满".into(),
        _ => format!("读写失败（{e}）"),
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
