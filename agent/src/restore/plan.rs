//! The restore's plan, decided from the store alone, without touching a disk: where each
//! file of a user's image goes (or why it does not), and what each registry value becomes
//! (or why it is not applied). Everything the [trust boundary](super::trust) refuses is
//! refused here, so the fuzz target `restore_plan` can hold any manifest, image listing
//! and `.reg` to it. What is already on the new machine (a conflict, a link in the way,
//! the value there now) is looked at afterwards, by [`super::files`] and
//! [`super::settings`].

use super::files::SkipReason;
use super::helpers::Helpers;
use super::paths::{self, Rebase, UnsafePath};
use super::trust::{self, NeverTravel, UserKey};
use super::ConflictPolicy;
use crate::rules::ObjectKind;
use crate::store::regread::{RegValue, REG_EXPAND_SZ, REG_MULTI_SZ, REG_SZ};

/// What a plan is read against: the user's folder mapping and recorded helpers, and
/// whether files outside the user's folders have a place (`--other-files-to`).
pub struct Ctx<'a> {
    pub rebase: &'a Rebase,
    pub helpers: &'a Helpers,
    pub other_files: bool,
}

/// The folder a file goes below.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Root {
    /// A folder of the target user, as a Windows path of the new machine.
    Target(String),
    /// `--other-files-to`, below which the file keeps its old path (`C\Data\…`).
    OtherFiles,
}

/// Where one file goes: below `root`, by `names` (each checked by [`trust::file_place`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub root: Root,
    pub names: Vec<String>,
    /// A `<merge>` (or `<destinationCleanup>`) decides a collision instead of `--on-conflict`.
    pub policy: Option<ConflictPolicy>,
}

/// One file of the image: where it was on the old machine, and where it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilePlan {
    pub from: String,
    pub place: Result<Place, SkipReason>,
}

/// Plans one entry of a user's image (`C\Users\ann\a.txt`); `is_link` for a reparse point.
pub fn file(ctx: &Ctx<'_>, image_path: &str, is_link: bool) -> FilePlan {
    match paths::windows_path(image_path) {
        Ok(from) => {
            let place = place(ctx, &from, is_link);
            FilePlan { from, place }
        }
        Err(why) => FilePlan {
            from: image_path.to_string(),
            place: Err(SkipReason::UnsafePath(why)),
        },
    }
}

fn place(ctx: &Ctx<'_>, from: &str, is_link: bool) -> Result<Place, SkipReason> {
    if is_link {
        return Err(SkipReason::Link);
    }
    let (dir, name) = from.rsplit_once('\\').unwrap_or(("", from));
    if ctx.helpers.never_restore(ObjectKind::File, dir, name) {
        return Err(SkipReason::NeverRestore);
    }
    let (root, rest) = match ctx.helpers.relocate_file(from) {
        // The rules are input too: the new place is checked as an image path is.
        Some(new) => {
            let new = paths::windows_path(&new.replacen(":\\", "\\", 1))
                .map_err(SkipReason::UnsafePath)?;
            root_of(ctx, &new, ctx.rebase.within_target(&new))?
        }
        None => root_of(ctx, from, ctx.rebase.locate(from))?,
    };
    let names: Vec<String> = rest
        .split('\\')
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect();
    if names.is_empty() || names.iter().any(|p| p == "." || p == "..") {
        return Err(SkipReason::UnsafePath(UnsafePath::Traversal));
    }
    trust::file_place(&names).map_err(SkipReason::Refused)?;
    Ok(Place {
        root,
        names,
        policy: ctx.helpers.file_policy(from),
    })
}

/// The folder a file goes below and its path there: `located` in the user's folders, else
/// below `--other-files-to` by its Windows path `win` (`C:\Data\a` → `C\Data\a`).
fn root_of(
    ctx: &Ctx<'_>,
    win: &str,
    located: Option<(String, String)>,
) -> Result<(Root, String), SkipReason> {
    match located {
        Some((prefix, rest)) => Ok((Root::Target(prefix), rest)),
        None if ctx.other_files => {
            let w = paths::windows_path(&win.replacen(":\\", "\\", 1))
                .map_err(SkipReason::UnsafePath)?;
            Ok((Root::OtherFiles, w.replacen(":\\", "\\", 1)))
        }
        None => Err(SkipReason::MachinePath),
    }
}

/// A key left behind, for the report.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NotApplied {
    /// The key as the store (or a recorded move) named it.
    pub key: String,
    pub values: usize,
    pub why: NeverTravel,
}

/// A value to write, once what is there now has been looked at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    pub key: UserKey,
    pub value: RegValue,
    /// Old folder paths in it were changed to the new ones.
    pub rewritten: bool,
    /// A `<locationModify>` gave it another key or name.
    pub moved: bool,
    /// A `<contentModify>` changed its content.
    pub modified: bool,
    /// `DestinationPriority`: a value already there stays.
    pub keep_existing: bool,
}

/// What becomes of one value of the store.
#[derive(Debug, Clone)]
pub enum ValuePlan {
    /// MigXML's `NeverRestore()`.
    NeverRestore,
    /// Moved where no store may write.
    NotApplied(NotApplied),
    Write(Write),
}

/// One value of key `key` (already through [`trust::user_key`]): MigXML's instructions for
/// it (NeverRestore, where it goes, its new content, who wins), then the old folders in it
/// rewritten. A key a move gives it is normalised and filtered as the store's own are.
pub fn value(key: &UserKey, v: &RegValue, rebase: &Rebase, helpers: &Helpers) -> ValuePlan {
    let hkcu = key.hkcu();
    if helpers.never_restore(ObjectKind::Registry, &hkcu, &v.name) {
        return ValuePlan::NeverRestore;
    }
    let moved = helpers.relocate_value(&hkcu, &v.name);
    let (key, name) = match &moved {
        Some((k, n)) => match trust::user_key(k) {
            Ok(k) => (k, n.clone()),
            Err(why) => {
                return ValuePlan::NotApplied(NotApplied {
                    key: k.clone(),
                    values: 1,
                    why,
                })
            }
        },
        None => (key.clone(), v.name.clone()),
    };
    let changed = helpers.modify_value(&hkcu, v);
    let base = changed.as_ref().unwrap_or(v);
    let new = rewrite(base, rebase);
    let mut value = new.clone().unwrap_or_else(|| base.clone());
    value.name = name;
    ValuePlan::Write(Write {
        key,
        value,
        rewritten: new.is_some(),
        moved: moved.is_some(),
        modified: changed.is_some(),
        keep_existing: helpers.registry_keeps_destination(&hkcu, &v.name),
    })
}

/// The value with old folder paths inside it changed to the new ones, if any were there
/// and the value stays within its size or [`crate::limits::RESTORE_REWRITE_MAX_BYTES`].
pub fn rewrite(v: &RegValue, rebase: &Rebase) -> Option<RegValue> {
    let units: Vec<u16> = crate::le::u16s(&v.data).collect();
    let strings: Vec<String> = match v.kind {
        REG_SZ | REG_EXPAND_SZ => {
            let end = units.iter().position(|&u| u == 0).unwrap_or(units.len());
            vec![String::from_utf16(units.get(..end)?).ok()?]
        }
        REG_MULTI_SZ => units
            .split(|&u| u == 0)
            .filter(|s| !s.is_empty())
            .map(|s| String::from_utf16(s).ok())
            .collect::<Option<_>>()?,
        _ => return None,
    };
    // The whole value is bounded too: a list of many short old paths must not grow into
    // many long new ones.
    let budget = v.data.len().max(crate::limits::RESTORE_REWRITE_MAX_BYTES);
    let (mut changed, mut size) = (false, 0usize);
    let mut new: Vec<String> = Vec::with_capacity(strings.len());
    for s in strings {
        let s = match rebase.rewrite_text(&s) {
            Some(n) => {
                changed = true;
                n
            }
            None => s,
        };
        size = size.saturating_add(s.len() * 2 + 2);
        if size > budget {
            return None;
        }
        new.push(s);
    }
    if !changed {
        return None;
    }
    let mut data: Vec<u8> = Vec::new();
    for s in &new {
        data.extend(s.encode_utf16().chain([0]).flat_map(|u| u.to_le_bytes()));
    }
    if v.kind == REG_MULTI_SZ {
        data.extend_from_slice(&[0, 0]);
    }
    Some(RegValue {
        name: v.name.clone(),
        kind: v.kind,
        data,
    })
}
