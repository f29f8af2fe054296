//! Words for people, in both UI languages: the ground-floor message type that warnings,
//! errors and progress stages share, so no layer needs another's to say something.

/// A message in both UI languages: `zh` where the library has the words (the Chinese UI
/// shows it), else the English stands for both.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Said {
    pub en: String,
    pub zh: Option<String>,
}

impl Said {
    pub fn new(en: impl Into<String>, zh: impl Into<String>) -> Self {
        Said {
            en: en.into(),
            zh: Some(zh.into()),
        }
    }
}

impl From<String> for Said {
    fn from(en: String) -> Self {
        Said { en, zh: None }
    }
}

impl From<&str> for Said {
    fn from(en: &str) -> Self {
        Said {
            en: en.to_owned(),
            zh: None,
        }
    }
}
