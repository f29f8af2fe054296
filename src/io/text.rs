//! Text decoding for files from Chinese desktop tools, which often write GBK.

use encoding_rs::{Encoding, GBK, UTF_8};

/// How a byte string was decoded, so the loader can say so.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decoded {
    Utf8,
    /// Declared GBK (e.g. by a .cpg).
    Gbk,
    /// Not valid UTF-8, so decoded as GBK.
    GbkFallback,
}

/// Decodes bytes: as the declared encoding if any; else UTF-8 (BOM stripped) if valid; else
/// GBK (a superset of GB2312; GB18030 text in the GBK range decodes identically).
pub fn decode(bytes: &[u8], declared: Option<&'static Encoding>) -> (String, Decoded) {
    if let Some(enc) = declared {
        if enc != UTF_8 {
            let (s, _, _) = enc.decode(bytes);
            return (s.into_owned(), Decoded::Gbk);
        }
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => (s.to_owned(), Decoded::Utf8),
        Err(_) => {
            let (s, _, _) = GBK.decode(bytes);
            (s.into_owned(), Decoded::GbkFallback)
        }
    }
}

/// Maps a .cpg / manifest encoding label to an encoding (936, CP936, GBK, GB2312, GB18030 …).
pub fn encoding_from_label(label: &str) -> Option<&'static Encoding> {
    let l = label.trim().to_lowercase();
    match l.as_str() {
        "936" | "cp936" | "ansi 936" | "gbk" | "gb2312" | "gb_2312-80" | "x-gbk" => Some(GBK),
        "gb18030" | "54936" => Some(encoding_rs::GB18030),
        "utf-8" | "utf8" | "65001" => Some(UTF_8),
        _ => Encoding::for_label(l.as_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gbk_fallback_and_declared() {
        let (bytes, _, _) = GBK.encode("道里区");
        let (s, how) = decode(&bytes, None);
        assert_eq!((s.as_str(), how), ("道里区", Decoded::GbkFallback));
        let (s, how) = decode("道里区".as_bytes(), None);
        assert_eq!((s.as_str(), how), ("道里区", Decoded::Utf8));
        assert_eq!(encoding_from_label("936"), Some(GBK));
    }
}
