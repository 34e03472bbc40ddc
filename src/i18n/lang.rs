//! The language operator-facing text is written in, and how it is chosen
//! (`--lang`, `?lang=`, the locale). Imports nothing of the crate.

/// The language operator-facing text is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Simplified Chinese, the default: operators read Chinese.
    #[default]
    Zh,
    /// English, for technicians and developers who ask for it.
    En,
}

impl Lang {
    /// Parses a `--lang` value (`zh`, `zh-CN`, `en`, `en_US.UTF-8`, ...).
    pub fn parse(s: &str) -> Option<Lang> {
        let s = s.trim().to_ascii_lowercase();
        if s.starts_with("en") {
            Some(Lang::En)
        } else if s.starts_with("zh") || s.starts_with("cn") {
            Some(Lang::Zh)
        } else {
            None
        }
    }

    /// Picks the language from an explicit choice, else from the locale
    /// variables (`LC_ALL`, `LC_MESSAGES`, `LANG`): English only when the
    /// locale says English, Chinese otherwise (a `C` locale included).
    pub fn detect(explicit: Option<&str>, env: impl Fn(&str) -> Option<String>) -> Lang {
        if let Some(l) = explicit.and_then(Lang::parse) {
            return l;
        }
        for var in ["CUNXIANG_LANG", "LC_ALL", "LC_MESSAGES", "LANG"] {
            if let Some(v) = env(var).filter(|v| !v.is_empty()) {
                return if v.to_ascii_lowercase().starts_with("en") {
                    Lang::En
                } else {
                    Lang::Zh
                };
            }
        }
        Lang::Zh
    }

    /// Picks one of two texts.
    /// `zh` or `en`, as in `?lang=`.
    pub fn code(self) -> &'static str {
        self.pick("zh", "en")
    }

    pub fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Lang;

    #[test]
    fn detect_prefers_explicit_then_locale() {
        let none = |_: &str| None;
        assert_eq!(Lang::detect(None, none), Lang::Zh);
        assert_eq!(Lang::detect(Some("en"), none), Lang::En);
        let en = |k: &str| (k == "LANG").then(|| "en_US.UTF-8".to_string());
        assert_eq!(Lang::detect(None, en), Lang::En);
        assert_eq!(Lang::detect(Some("zh"), en), Lang::Zh);
        let c = |k: &str| (k == "LANG").then(|| "C.UTF-8".to_string());
        assert_eq!(Lang::detect(None, c), Lang::Zh);
    }
}
