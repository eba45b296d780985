//! `manifest.yaml`: what a store holds, how it was made, what was left behind and why, and
//! whether it is complete; read and written here, its records defined in [`super::schema`].
//! `lifeboat verify` checks the store against it.

pub use super::schema::*;

pub const MANIFEST_FILE: &str = "manifest.yaml";
pub const FILES_WIM: &str = "files.wim";
pub const REGISTRY_DIR: &str = "registry";
pub const LOG_FILE: &str = "lifeboat.log";
/// Written first and removed last: a store with this marker was not finished.
pub const INCOMPLETE_MARKER: &str = "INCOMPLETE.txt";

impl Manifest {
    pub fn to_yaml(&self) -> Result<String, String> {
        serde_norway::to_string(self).map_err(|e| e.to_string())
    }

    /// Parses a manifest read from a store (size and nesting bounded first).
    pub fn from_yaml(text: &str) -> Result<Manifest, String> {
        crate::bounded_yaml::from_str(text).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_manifests_are_refused_before_parsing() {
        let deep = format!("lifeboat_store: {}", "{a: ".repeat(100_000));
        assert!(Manifest::from_yaml(&deep).unwrap_err().contains("nested"));
        let aliased = "lifeboat_store: 1\nrules: &r [a, b]\nrule_warnings: *r\n";
        assert!(Manifest::from_yaml(aliased).unwrap_err().contains("alias"));
    }
}
