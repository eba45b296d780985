//! The names of a WIM's compression, as the command line, the media config and a store's
//! manifest write them. `lifeboat-wim` maps them to wimlib's; the agent's `capture::compress`
//! decides what `auto` means on the machine at hand.

/// How the files of a WIM are compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Xpress,
    Lzx,
    Lzms,
}

impl Compression {
    pub fn as_str(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Xpress => "xpress",
            Compression::Lzx => "lzx",
            Compression::Lzms => "lzms",
        }
    }
}

impl std::str::FromStr for Compression {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "none" => Ok(Compression::None),
            "xpress" | "fast" => Ok(Compression::Xpress),
            "lzx" | "maximum" => Ok(Compression::Lzx),
            "lzms" | "recovery" => Ok(Compression::Lzms),
            _ => Err(format!(
                "unknown compression \"{s}\" (none, xpress, lzx or lzms)"
            )),
        }
    }
}

/// `--compress` / the media config's `compression`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompressionChoice {
    Auto,
    Fixed(Compression),
}

impl std::str::FromStr for CompressionChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s.eq_ignore_ascii_case("auto") {
            return Ok(CompressionChoice::Auto);
        }
        s.parse()
            .map(CompressionChoice::Fixed)
            .map_err(|_| format!("unknown compression \"{s}\" (auto, none, xpress, lzx or lzms)"))
    }
}

impl CompressionChoice {
    pub fn as_str(self) -> &'static str {
        match self {
            CompressionChoice::Auto => "auto",
            CompressionChoice::Fixed(c) => c.as_str(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_go_back_to_the_same_choice() {
        for name in ["auto", "none", "xpress", "lzx", "lzms"] {
            let c: CompressionChoice = name.parse().unwrap();
            assert_eq!(c.as_str(), name);
        }
        // USMT's and wimlib's other names for the same compressions.
        assert_eq!("FAST".parse(), Ok(Compression::Xpress));
        assert_eq!("maximum".parse(), Ok(Compression::Lzx));
        assert_eq!("recovery".parse(), Ok(Compression::Lzms));
        assert!("zip".parse::<CompressionChoice>().is_err());
    }
}
