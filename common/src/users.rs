//! Which accounts a `--users` pattern names, in ScanState's `/ui` `/ue` shape
//! (`DOMAIN\name`, `*\name`, SIDs with `*`, `!` in front to exclude): the syntax the
//! command line and the media config share.

/// One `--users` entry: `ann`, `PC01\ann`, `*\ann`, `S-1-5-21-*-1001`, with `!` in front
/// to exclude.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPattern {
    pub exclude: bool,
    pub pattern: String,
}

impl UserPattern {
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let (exclude, p) = match s.strip_prefix('!') {
            Some(rest) => (true, rest.trim()),
            None => (false, s),
        };
        if p.is_empty() {
            return Err(format!("empty user pattern in \"{s}\""));
        }
        Ok(UserPattern {
            exclude,
            pattern: p.to_string(),
        })
    }

    /// Whether the account `name` (`DOMAIN\name` or a bare name) with `sid` matches: the
    /// SID, the full `DOMAIN\name`, or (for patterns without a backslash) the bare name;
    /// case-insensitive, `*` matches any run of characters.
    pub fn matches_account(&self, name: &str, sid: &str) -> bool {
        let p = self.pattern.to_lowercase();
        let name = name.to_lowercase();
        if p.starts_with("s-1-") {
            return glob(&p, &sid.to_lowercase());
        }
        if p.contains('\\') {
            let full = if name.contains('\\') {
                name
            } else {
                format!("*unknown*\\{name}")
            };
            return glob(&p, &full);
        }
        let bare = name.rsplit('\\').next().unwrap_or(&name).to_string();
        glob(&p, &bare)
    }
}

impl std::str::FromStr for UserPattern {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        UserPattern::parse(s)
    }
}

impl std::fmt::Display for UserPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.exclude {
            f.write_str("!")?;
        }
        f.write_str(&self.pattern)
    }
}

/// `*` wildcard match (no `?`, as in USMT).
pub fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let mut rest = text;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(part) else {
                return false;
            };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.len() >= part.len() && rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(pos) => rest = &rest[pos + part.len()..],
                None => return false,
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_read_back_as_written() {
        for text in ["ann", "!PC01\\ann", "S-1-5-21-*-1001"] {
            assert_eq!(UserPattern::parse(text).unwrap().to_string(), text);
        }
        assert!(UserPattern::parse(" ! ").is_err());
    }

    #[test]
    fn accounts_by_name_domain_or_sid() {
        let sid = "S-1-5-21-1-2-3-1001";
        let any_domain = UserPattern::parse("*\\ANN").unwrap();
        assert!(any_domain.matches_account("PC01\\ann", sid));
        // A name without its domain still matches a pattern for any domain.
        assert!(any_domain.matches_account("ann", sid));
        assert!(!any_domain.matches_account("PC01\\anne", sid));
        let domain = UserPattern::parse("PC02\\ann").unwrap();
        assert!(!domain.matches_account("PC01\\ann", sid));
        let by_sid = UserPattern::parse("s-1-5-21-*-1001").unwrap();
        assert!(by_sid.matches_account("PC01\\bob", sid));
        assert!(!by_sid.matches_account("PC01\\ann", "S-1-5-21-1-2-3-1002"));
    }
}
