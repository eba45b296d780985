//! What the offline installation says when MigXML asks: the [`Facts`] the rules are
//! evaluated against (between detect, which opens the installation, and plan, which
//! evaluates the rules per pass). Registry objects come from the offline SOFTWARE,
//! NTUSER.DAT and UsrClass.dat hives ([`registry`]), files from its volumes through the
//! installation's letter map ([`files`]), file versions from PE version resources
//! ([`crate::pe::version`]), shortcut targets from `.lnk` files ([`crate::lnk`]). Nothing
//! of the machine Lifeboat runs on is ever asked.

pub mod files;
pub mod registry;

use std::cell::RefCell;
use std::collections::HashMap;

use crate::hive::LoadedHive;
use crate::limits::SMALL_FILE_MAX_BYTES;
use crate::pe::version::{parse_version_text, Version, VersionError, VersionInfo};
use crate::rules::pattern::{glob, parse};
use crate::rules::{Answer, Facts, Lookup, ObjectKind, Pattern};
use crate::volume::{FileData, Place};
use crate::winpath::LetterMap;

pub use registry::Hives;

/// A wildcard would make a condition look at more entries than [`crate::limits::FACTS_MAX_ENTRIES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverBudget;

/// The offline Windows version, as `IsOSLaterThan` and `DoesOSMatch` compare it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OsVersion {
    pub major: u32,
    pub minor: u32,
    pub build: u32,
    /// `CSDVersion` ("Service Pack 1"), before Windows 10.
    pub service_pack: Option<String>,
}

impl OsVersion {
    /// From SOFTWARE `Microsoft\Windows NT\CurrentVersion`: the major/minor numbers of
    /// Windows 10 and later (their `CurrentVersion` still says 6.3), else `CurrentVersion`.
    pub fn read(software: &LoadedHive) -> Option<OsVersion> {
        let cv = software.key(r"Microsoft\Windows NT\CurrentVersion")?;
        let (major, minor) = match cv.dword("CurrentMajorVersionNumber") {
            Some(m) => (m, cv.dword("CurrentMinorVersionNumber").unwrap_or(0)),
            None => {
                let v = cv.string("CurrentVersion")?;
                let (a, b) = v.trim().split_once('.')?;
                (a.parse().ok()?, b.parse().ok()?)
            }
        };
        let build = cv
            .string("CurrentBuildNumber")
            .or_else(|| cv.string("CurrentBuild"))
            .and_then(|b| b.trim().parse().ok())
            .unwrap_or(0);
        Some(OsVersion {
            major,
            minor,
            build,
            service_pack: cv.string("CSDVersion").filter(|s| !s.trim().is_empty()),
        })
    }

    fn text(&self) -> String {
        format!("{}.{}.{}", self.major, self.minor, self.build)
    }

    /// Compares with a partial `major.minor[.build]` (no pattern): only the parts given.
    fn cmp_partial(&self, other: &str) -> Option<std::cmp::Ordering> {
        let mine = [self.major, self.minor, self.build];
        let theirs: Vec<u32> = other
            .split('.')
            .map_while(|p| p.trim().parse().ok())
            .take(3)
            .collect();
        (!theirs.is_empty()).then(|| mine[..theirs.len()].cmp(&theirs[..]))
    }
}

/// What one pass (the machine, or one user) can ask of the offline installation.
pub struct OfflineFacts<'a> {
    pub hives: Hives<'a>,
    pub letters: &'a LetterMap,
    pub os: Option<OsVersion>,
    /// The offline system is 64-bit (ScanState's `IsNative64Bit` offline answers for the
    /// system it gathers from, which `MIG_OFFLINE_PLATFORM_ARCH` may declare).
    pub native_64: Option<bool>,
    /// File versions read once per file and run.
    versions: RefCell<HashMap<String, Result<Option<VersionInfo>, String>>>,
}

/// The version resource of a PE file on the offline volume.
fn version_of(place: &Place) -> Result<Option<VersionInfo>, String> {
    let data = place.open().map_err(|e| e.to_string())?;
    crate::pe::version::version_info(&mut DataAt(data)).map_err(|e| e.to_string())
}

/// A file of the offline volume as the PE reader reads it.
struct DataAt<'a>(Box<dyn FileData + 'a>);

impl crate::pe::version::ReadAt for DataAt<'_> {
    fn size(&self) -> u64 {
        self.0.len()
    }
    fn read_at(&mut self, offset: u64, len: usize) -> Result<Vec<u8>, VersionError> {
        let end = offset.checked_add(len as u64);
        if end.is_none_or(|e| e > self.0.len()) {
            return Err(VersionError::Malformed(
                "a structure points outside the file",
            ));
        }
        let mut buf = vec![0u8; len];
        self.0
            .read_at(offset, &mut buf)
            .map_err(|e| VersionError::Io(e.to_string()))?;
        Ok(buf)
    }
}

fn answer(value: Option<bool>, detail: impl Into<String>) -> Answer {
    Answer {
        value,
        detail: detail.into(),
    }
}

fn arg(args: &[String], i: usize) -> &str {
    args.get(i).map(|s| s.trim()).unwrap_or("")
}

fn kind_of(s: &str) -> Option<ObjectKind> {
    match s.trim().to_ascii_lowercase().as_str() {
        "file" => Some(ObjectKind::File),
        "registry" => Some(ObjectKind::Registry),
        _ => None,
    }
}

/// A location as MigXML writes it: `Node [Leaf]`, or a plain path for a file.
fn location(kind: ObjectKind, text: &str) -> Result<Pattern, String> {
    parse(kind, text).map_err(|e| format!("'{text}' is not a location: {e}"))
}

impl<'a> OfflineFacts<'a> {
    pub fn new(
        hives: Hives<'a>,
        letters: &'a LetterMap,
        os: Option<OsVersion>,
        native_64: Option<bool>,
    ) -> Self {
        OfflineFacts {
            hives,
            letters,
            os,
            native_64,
            versions: RefCell::new(HashMap::new()),
        }
    }

    /// The same installation seen by another pass (another user's hives); the file
    /// version cache is not shared, it is cheap to fill again.
    pub fn with_hives(&self, hives: Hives<'a>) -> OfflineFacts<'a> {
        OfflineFacts::new(hives, self.letters, self.os.clone(), self.native_64)
    }

    fn objects(&self, p: &Pattern) -> Result<Vec<String>, String> {
        match p.kind {
            ObjectKind::File => Ok(files::objects(self.letters, p)?
                .into_iter()
                .map(|f| f.win)
                .collect()),
            ObjectKind::Registry => Ok(registry::objects(&self.hives, p)?
                .into_iter()
                .map(|(k, v)| match v {
                    Some(v) => format!("{k} [{}]", v.name),
                    None => k,
                })
                .collect()),
        }
    }

    fn does_object_exist(&self, args: &[String]) -> Answer {
        let Some(kind) = kind_of(arg(args, 0)) else {
            return answer(
                Some(false),
                format!("\"{}\" is neither File nor Registry", arg(args, 0)),
            );
        };
        let p = match location(kind, arg(args, 1)) {
            Ok(p) => p,
            Err(e) => return answer(Some(false), e),
        };
        match self.objects(&p) {
            Ok(found) if found.is_empty() => answer(Some(false), "nothing there"),
            Ok(found) => answer(Some(true), format!("found {}", found[0])),
            Err(e) => answer(None, e),
        }
    }

    /// The first file a location names, for version and content helpers.
    fn file(&self, text: &str) -> Result<Option<files::Found>, String> {
        let p = location(ObjectKind::File, text)?;
        // A plain path names a file by its node: look for the last segment as a leaf.
        let p = match (&p.leaf, p.recursive) {
            (None, false) => match p.node.rsplit_once('\\') {
                Some((dir, name)) => Pattern {
                    node: dir.to_string(),
                    leaf: Some(name.to_string()),
                    ..p
                },
                None => p,
            },
            _ => p,
        };
        Ok(files::objects(self.letters, &p)?
            .into_iter()
            .find(|f| !f.is_dir))
    }

    fn version(&self, f: &files::Found) -> Result<Option<VersionInfo>, String> {
        self.versions
            .borrow_mut()
            .entry(f.place.to_string())
            .or_insert_with(|| version_of(&f.place))
            .clone()
    }

    /// A version tag's text (`ProductVersion` → `"9.64"`), the fixed version standing in
    /// for FileVersion/ProductVersion when the strings lack them.
    fn version_tag(&self, args: &[String]) -> Result<(String, String), Answer> {
        let (file, tag) = (arg(args, 0), arg(args, 1));
        let f = match self.file(file) {
            Ok(Some(f)) => f,
            Ok(None) => return Err(answer(Some(false), format!("{file} does not exist"))),
            Err(e) => return Err(answer(None, e)),
        };
        let info = match self.version(&f) {
            Ok(Some(i)) => i,
            Ok(None) => {
                return Err(answer(
                    Some(false),
                    format!("{}: no version resource", f.win),
                ))
            }
            Err(e) => return Err(answer(Some(false), format!("{}: {e}", f.win))),
        };
        let fixed = |pick: fn(&crate::pe::version::FixedInfo) -> Version| {
            info.fixed.as_ref().map(|x| pick(x).to_string())
        };
        let value = info.string(tag).map(str::to_string).or_else(|| {
            match tag.to_ascii_lowercase().as_str() {
                "fileversion" => fixed(|x| x.file_version),
                "productversion" => fixed(|x| x.product_version),
                _ => None,
            }
        });
        match value {
            Some(v) => Ok((f.win, v)),
            None => Err(answer(
                Some(false),
                format!("{}: no {tag} in its version resource", f.win),
            )),
        }
    }

    fn file_version_match(&self, args: &[String]) -> Answer {
        let (win, value) = match self.version_tag(args) {
            Ok(x) => x,
            Err(a) => return a,
        };
        let pat = arg(args, 2).to_lowercase();
        let hit = glob(pat.as_bytes(), value.trim().to_lowercase().as_bytes());
        answer(Some(hit), format!("{win}: {} is \"{value}\"", arg(args, 1)))
    }

    fn file_version_compare(&self, args: &[String], above: bool) -> Answer {
        let (win, value) = match self.version_tag(args) {
            Ok(x) => x,
            Err(a) => return a,
        };
        let (Some(have), Some(want)) =
            (parse_version_text(&value), parse_version_text(arg(args, 2)))
        else {
            return answer(
                None,
                format!(
                    "{win}: \"{value}\" or \"{}\" is no version number",
                    arg(args, 2)
                ),
            );
        };
        let hit = if above { have > want } else { have < want };
        answer(Some(hit), format!("{win}: {} is {have}", arg(args, 1)))
    }

    fn os_compare(&self, args: &[String], later: bool) -> Answer {
        let Some(os) = &self.os else {
            return answer(None, "the Windows version could not be read");
        };
        if !arg(args, 0).eq_ignore_ascii_case("NT") {
            return answer(
                Some(false),
                format!("the system is NT, not {}", arg(args, 0)),
            );
        }
        match os.cmp_partial(arg(args, 1)) {
            Some(o) => {
                let hit = if later { o.is_ge() } else { o.is_lt() };
                answer(Some(hit), format!("Windows {} here", os.text()))
            }
            None => answer(None, format!("\"{}\" is no version", arg(args, 1))),
        }
    }

    fn os_match(&self, args: &[String]) -> Answer {
        let Some(os) = &self.os else {
            return answer(None, "the Windows version could not be read");
        };
        if !arg(args, 0).eq_ignore_ascii_case("NT") {
            return answer(
                Some(false),
                format!("the system is NT, not {}", arg(args, 0)),
            );
        }
        let pat = arg(args, 1).to_lowercase();
        let mut texts = vec![os.text()];
        if let Some(sp) = &os.service_pack {
            texts.push(format!("{}.{sp}", os.text()));
        }
        let hit = texts
            .iter()
            .any(|t| glob(pat.as_bytes(), t.to_lowercase().as_bytes()));
        answer(Some(hit), format!("Windows {} here", texts.join(" / ")))
    }

    /// The string form of one object: a registry value's text, a file's text.
    fn content_text(&self, kind: ObjectKind, loc: &str) -> Lookup {
        match kind {
            ObjectKind::Registry => {
                let p = match location(kind, loc) {
                    Ok(p) => p,
                    Err(e) => return Lookup::Absent(e),
                };
                match registry::objects(&self.hives, &p) {
                    Ok(found) => match found.into_iter().find_map(|(_, v)| v) {
                        Some(v) => Lookup::Found(registry::value_text(&v)),
                        None => Lookup::Absent(format!("{loc} is not in the offline registry")),
                    },
                    Err(_) => Lookup::Unknown,
                }
            }
            ObjectKind::File => match self.file_bytes(loc) {
                Ok(b) => Lookup::Found(decode_text(&b)),
                Err(e) => Lookup::Absent(e),
            },
        }
    }

    fn file_bytes(&self, loc: &str) -> Result<Vec<u8>, String> {
        match self.file(loc)? {
            Some(f) => f
                .place
                .read_bounded(SMALL_FILE_MAX_BYTES)
                .map_err(|e| e.to_string()),
            None => Err(format!("{loc} does not exist")),
        }
    }

    /// Raw bytes of one object (a value's data, a file's bytes), for IsSameContent.
    fn content_bytes(&self, kind: ObjectKind, loc: &str) -> Result<Vec<u8>, String> {
        match kind {
            ObjectKind::File => self.file_bytes(loc),
            ObjectKind::Registry => {
                let p = location(kind, loc)?;
                registry::objects(&self.hives, &p)?
                    .into_iter()
                    .find_map(|(_, v)| v)
                    .map(|v| v.data)
                    .ok_or_else(|| format!("{loc} is not in the offline registry"))
            }
        }
    }

    fn string_content_test(&self, args: &[String], contains: bool) -> Answer {
        let Some(kind) = kind_of(arg(args, 0)) else {
            return answer(Some(false), "neither File nor Registry");
        };
        let want = args.get(2).map(String::as_str).unwrap_or("");
        match self.content_text(kind, arg(args, 1)) {
            Lookup::Found(have) => {
                let hit = if contains {
                    have.contains(want)
                } else {
                    have == want
                };
                answer(Some(hit), format!("it holds \"{}\"", short(&have)))
            }
            Lookup::Absent(why) => answer(Some(false), why),
            Lookup::Unknown => answer(None, "cannot be read here"),
        }
    }

    fn same_object(&self, args: &[String]) -> Answer {
        let (a, b) = (arg(args, 1), arg(args, 2));
        match kind_of(arg(args, 0)) {
            Some(ObjectKind::File) => {
                let (ha, hb) = (self.letters.find(a), self.letters.find(b));
                match (ha, hb) {
                    (Some(x), Some(y)) => answer(Some(x == y), format!("{x} and {y}")),
                    _ => answer(Some(false), "one of them does not exist"),
                }
            }
            Some(ObjectKind::Registry) => {
                let f = |s: &str| crate::rules::pattern::fold(ObjectKind::Registry, s);
                answer(Some(f(a) == f(b)), "compared by path")
            }
            None => answer(Some(false), "neither File nor Registry"),
        }
    }

    fn same_content(&self, args: &[String], as_text: bool) -> Answer {
        let (Some(k1), Some(k2)) = (kind_of(arg(args, 0)), kind_of(arg(args, 2))) else {
            return answer(Some(false), "neither File nor Registry");
        };
        let (l1, l2) = (arg(args, 1), arg(args, 3));
        if as_text {
            return match (self.content_text(k1, l1), self.content_text(k2, l2)) {
                (Lookup::Found(x), Lookup::Found(y)) => answer(Some(x == y), "compared as text"),
                (Lookup::Unknown, _) | (_, Lookup::Unknown) => answer(None, "cannot be read here"),
                _ => answer(Some(false), "one of them does not exist"),
            };
        }
        match (self.content_bytes(k1, l1), self.content_bytes(k2, l2)) {
            (Ok(x), Ok(y)) => answer(Some(x == y), format!("{} and {} bytes", x.len(), y.len())),
            (Err(e), _) | (_, Err(e)) => answer(Some(false), e),
        }
    }

    fn shortcut_refers(&self, args: &[String]) -> Answer {
        let f = match self.file(arg(args, 0)) {
            Ok(Some(f)) => f,
            Ok(None) => return answer(Some(false), format!("{} does not exist", arg(args, 0))),
            Err(e) => return answer(None, e),
        };
        let read = f.place.read_bounded(SMALL_FILE_MAX_BYTES);
        let link = match read
            .map_err(|e| e.to_string())
            .and_then(|b| crate::lnk::parse(&b).map_err(|e| e.to_string()))
        {
            Ok(l) => l,
            Err(e) => return answer(Some(false), format!("{}: {e}", f.win)),
        };
        let pat = arg(args, 1).to_lowercase();
        let targets: Vec<&str> = [&link.link_target, &link.env_target, &link.relative_path]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        let hit = targets
            .iter()
            .any(|t| glob(pat.as_bytes(), t.to_lowercase().as_bytes()));
        answer(
            Some(hit),
            format!(
                "{} points at {}",
                f.win,
                targets.first().copied().unwrap_or("nothing")
            ),
        )
    }
}

fn short(s: &str) -> String {
    let mut t: String = s.chars().take(80).collect();
    if t.len() < s.len() {
        t.push('…');
    }
    t
}

/// A text file's content: UTF-16 with a BOM, UTF-8 (BOM or not), else Latin-1.
fn decode_text(b: &[u8]) -> String {
    if let Some(rest) = b.strip_prefix(&[0xFF, 0xFE]) {
        return crate::hive::utf16_until_nul(rest);
    }
    let b = b.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(b);
    match std::str::from_utf8(b) {
        Ok(s) => s.to_string(),
        Err(_) => b.iter().map(|&c| char::from(c)).collect(),
    }
}

impl Facts for OfflineFacts<'_> {
    fn condition(&self, name: &str, args: &[String]) -> Option<bool> {
        self.check(name, args).value
    }

    fn check(&self, name: &str, args: &[String]) -> Answer {
        match name {
            "DoesObjectExist" => self.does_object_exist(args),
            "DoesFileVersionMatch" => self.file_version_match(args),
            "IsFileVersionAbove" => self.file_version_compare(args, true),
            "IsFileVersionBelow" => self.file_version_compare(args, false),
            "IsNative64Bit" => match self.native_64 {
                Some(b) => answer(
                    Some(b),
                    if b {
                        "a 64-bit system"
                    } else {
                        "a 32-bit system"
                    },
                ),
                None => answer(None, "the architecture is unknown"),
            },
            "IsOSLaterThan" => self.os_compare(args, true),
            "IsOSEarlierThan" => self.os_compare(args, false),
            "DoesOSMatch" => self.os_match(args),
            "DoesStringContentEqual" => self.string_content_test(args, false),
            "DoesStringContentContain" => self.string_content_test(args, true),
            "IsSameObject" => self.same_object(args),
            "IsSameContent" => self.same_content(args, false),
            "IsSameStringContent" => self.same_content(args, true),
            "DoesShortcutRefer" => self.shortcut_refers(args),
            other => answer(
                None,
                format!("{other} is not a condition Lifeboat can answer"),
            ),
        }
    }

    fn registry_string(&self, location: &str) -> Option<String> {
        match self.content_text(ObjectKind::Registry, location) {
            Lookup::Found(s) => Some(s),
            _ => None,
        }
    }

    fn string_content(&self, kind: ObjectKind, location: &str) -> Lookup {
        self.content_text(kind, location)
    }

    fn object_contents(&self, pattern: &Pattern) -> Option<Vec<String>> {
        match pattern.kind {
            ObjectKind::Registry => registry::objects(&self.hives, pattern).ok().map(|v| {
                v.into_iter()
                    .filter_map(|(_, v)| v)
                    .map(|v| registry::value_text(&v))
                    .collect()
            }),
            ObjectKind::File => self.objects(pattern).ok(),
        }
    }

    fn file_exists(&self, win_path: &str) -> Option<bool> {
        crate::winpath::split_drive(win_path)?;
        Some(self.letters.find(win_path).is_some())
    }
}
