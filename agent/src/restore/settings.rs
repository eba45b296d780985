//! Settings: a user's `.reg` from the store applied to that user's registry on the new
//! machine (or left as a file offline). Each key path is normalised and filtered once
//! ([`super::trust::user_key`]); each value planned ([`super::plan::value`]: MigXML's
//! instructions, old folder paths in strings rewritten to the new ones); keys that must
//! never travel are listed, not applied; values already there with the same data are left
//! alone, so a second restore changes nothing.

use super::helpers::Helpers;
use super::paths::Rebase;
use super::plan::{self, ValuePlan};
use super::{trust, RestoreError, Target, TargetUser};
use crate::store::regread::RegKey;

pub use super::plan::{rewrite, NotApplied};
pub use super::trust::NeverTravel;

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct SettingsOutcome {
    /// Values written (or, in a dry run, to be written).
    pub applied: u64,
    /// Values already there with the same data.
    pub unchanged: u64,
    /// Values whose paths were changed to the new folders (counted in `applied` too).
    pub rewritten: u64,
    /// Values left as they are on the new machine (DestinationPriority).
    pub kept: u64,
    /// Values written under another key or name (MigXML `<locationModify>`; in `applied`).
    pub moved: u64,
    /// Values whose content a `<contentModify>` changed (in `applied`).
    pub modified: u64,
    /// Values the rules say are never restored (`NeverRestore()`).
    pub filtered: u64,
    pub not_applied: Vec<NotApplied>,
    /// Offline (or a hive that could not take them): the file the settings were left in.
    pub left_in: Option<std::path::PathBuf>,
}

/// Applies a user's settings through the target (a dry run only counts).
pub fn apply(
    keys: &[RegKey],
    rebase: &Rebase,
    helpers: &Helpers,
    target: &mut dyn Target,
    user: &TargetUser,
    dry_run: bool,
) -> Result<SettingsOutcome, RestoreError> {
    let mut out = SettingsOutcome::default();
    let mut sink = target.settings(user)?;
    for k in keys {
        let key = match trust::user_key(&k.path) {
            Ok(key) => key,
            Err(why) => {
                out.not_applied.push(NotApplied {
                    key: k.path.clone(),
                    values: k.values.len(),
                    why,
                });
                continue;
            }
        };
        for v in &k.values {
            match plan::value(&key, v, rebase, helpers) {
                ValuePlan::NeverRestore => out.filtered += 1,
                ValuePlan::NotApplied(n) => out.not_applied.push(n),
                ValuePlan::Write(w) => write(w, &mut *sink, &mut out, dry_run)?,
            }
        }
    }
    out.left_in = if dry_run { None } else { sink.finish()? };
    Ok(out)
}

/// One planned value, unless the same is there already or a DestinationPriority keeps
/// what is there.
fn write(
    w: plan::Write,
    sink: &mut dyn super::target::SettingsSink,
    out: &mut SettingsOutcome,
    dry_run: bool,
) -> Result<(), RestoreError> {
    let key = w.key.path();
    let now = sink.current(&key, &w.value.name);
    if now
        .as_ref()
        .is_some_and(|(t, d)| *t == w.value.kind && *d == w.value.data)
    {
        out.unchanged += 1;
        return Ok(());
    }
    if now.is_some() && w.keep_existing {
        out.kept += 1;
        return Ok(());
    }
    out.applied += 1;
    out.rewritten += u64::from(w.rewritten);
    out.moved += u64::from(w.moved);
    out.modified += u64::from(w.modified);
    if !dry_run {
        sink.set(&key, &w.value)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::known_folders::UserFolders;
    use crate::store::regread::{utf16z, RegValue, REG_EXPAND_SZ, REG_MULTI_SZ};

    #[test]
    fn strings_and_lists_are_rewritten() {
        let source = UserFolders {
            profile: r"C:\Users\ann".into(),
            known: Default::default(),
        };
        let r = Rebase::new(&source, r"C:\Users\bob", &Default::default());
        let sz = RegValue {
            name: "a".into(),
            kind: REG_EXPAND_SZ,
            data: utf16z(r"C:\Users\Ann\AppData\x.exe"),
        };
        assert_eq!(
            rewrite(&sz, &r).unwrap().data,
            utf16z(r"C:\Users\bob\AppData\x.exe")
        );
        let mut multi: Vec<u8> = utf16z(r"C:\Users\ann\a");
        multi.extend(utf16z(r"D:\other"));
        multi.extend_from_slice(&[0, 0]);
        let m = RegValue {
            name: "m".into(),
            kind: REG_MULTI_SZ,
            data: multi,
        };
        let mut want: Vec<u8> = utf16z(r"C:\Users\bob\a");
        want.extend(utf16z(r"D:\other"));
        want.extend_from_slice(&[0, 0]);
        assert_eq!(rewrite(&m, &r).unwrap().data, want);
        let bin = RegValue {
            name: "b".into(),
            kind: 3,
            data: utf16z(r"C:\Users\ann"),
        };
        assert!(rewrite(&bin, &r).is_none());
    }
}
