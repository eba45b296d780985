//! The profiles shipped in the repository's `profiles/`, built into the binary so the boot
//! medium needs no files beside it.

const PROFILES: &[(&str, &str)] = &[
    (
        "documents",
        include_str!("../../../profiles/documents.yaml"),
    ),
    ("user", include_str!("../../../profiles/user.yaml")),
    ("full", include_str!("../../../profiles/full.yaml")),
];

/// The YAML text of a built-in profile.
pub fn builtin(name: &str) -> Option<&'static str> {
    PROFILES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, text)| *text)
}

/// Whether `name` is a built-in profile (the media config's and layout's test for one).
pub fn is_builtin(name: &str) -> bool {
    builtin(name).is_some()
}

pub fn builtin_names() -> Vec<&'static str> {
    PROFILES.iter().map(|(n, _)| *n).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_builtin_parses_without_warnings() {
        for name in super::builtin_names() {
            let set = crate::rules::load_profile(name).unwrap_or_else(|e| panic!("{e}"));
            assert!(!set.components.is_empty(), "{name}");
            assert!(set.warnings.is_empty(), "{name}: {:?}", set.warnings);
        }
    }
}
