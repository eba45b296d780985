//! What a plan records for the manifest beside the files: sizes per rule component and the
//! restore-side instructions of the components that take part. The capture turns them into
//! the store's records (`store::schema`), which `restore::helpers` carries out.

use serde::Serialize;

use crate::rules::{Call, RestoreKind};

/// What one rule component took in one pass (`capture --estimate --json` shows it).
#[derive(Debug, Clone, Serialize, PartialEq, Eq, Default)]
pub struct ComponentSize {
    pub component: String,
    pub files: u64,
    pub bytes: u64,
}

/// One LoadState-side instruction of a rule component (see `UserRecord::restore` in the manifest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreEntry {
    pub component: String,
    /// merge, location-modify, content-modify, destination-cleanup, include-filter,
    /// exclude-filter, add-objects.
    pub kind: RestoreKind,
    /// `RelativeMove` with its arguments as written (`%CSIDL_APPDATA%\X`, to be expanded
    /// on the destination); absent for a destinationCleanup without a filter.
    pub script: Option<Call>,
    /// The objects it applies to, in USMT's pattern syntax, variables replaced with the
    /// source's values (as the store holds them).
    pub patterns: Vec<String>,
    /// The helper's arguments with the source's variables replaced, the component's own
    /// (`%QuickTimeDataUser2%`) too, when any held one: the restore reads the old place
    /// from them, and the new place when only the old machine could name it (optional).
    pub source_args: Vec<String>,
}
