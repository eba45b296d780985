//! A file as its MFT records hold it: the base record and, through an `$ATTRIBUTE_LIST`,
//! its extension records; what `$STANDARD_INFORMATION`, `$FILE_NAME`, `$DATA`,
//! `$REPARSE_POINT` and `$LOGGED_UTILITY_STREAM` say about it; and its streams, whose
//! extents may be spread over several records.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use super::attr::{self, AttrInfo, Form};
use super::boot::Geometry;
use super::error::{ErrorKind, NtfsError, Place, Unavailable};
use super::limits;
use super::record::{FileRef, Record};
use super::reparse::{Reparse, ReparseKind};
use super::stream::{self, Content, Device, Stream};
use super::Inner;
use crate::le::{u16_at, u32_at, u64_at};

/// FILETIMEs (100 ns since 1601, UTC) as `$STANDARD_INFORMATION` or `$FILE_NAME` keep them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Times {
    pub created: u64,
    pub modified: u64,
    /// When the MFT record last changed.
    pub mft_changed: u64,
    pub accessed: u64,
}

impl Times {
    fn at(v: &[u8], at: usize) -> Times {
        let t = |i: usize| u64_at(v, at + 8 * i).unwrap_or(0);
        Times {
            created: t(0),
            modified: t(1),
            mft_changed: t(2),
            accessed: t(3),
        }
    }
}

/// Which names a `$FILE_NAME` is: Windows gives a long name that is not a valid 8.3 name a
/// second, DOS-only, `$FILE_NAME`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Namespace {
    /// Case-sensitive, any characters but `/` and NUL (made by ntfs-3g, WSL, SFU).
    Posix,
    /// A long name.
    Win32,
    /// A short 8.3 name of a file that also has a long one; readers skip it.
    Dos,
    /// A long name that is a valid 8.3 name as well.
    Win32AndDos,
}

impl Namespace {
    fn from_byte(b: u8) -> Namespace {
        match b {
            0 => Namespace::Posix,
            2 => Namespace::Dos,
            3 => Namespace::Win32AndDos,
            _ => Namespace::Win32,
        }
    }
}

/// `$FILE_NAME` flags: the file is a folder (its record holds an index of file names).
pub const FN_DIRECTORY: u32 = 0x1000_0000;
/// Windows' file attributes.
pub const ATTR_DIRECTORY: u32 = 0x0010;
pub const ATTR_NORMAL: u32 = 0x0080;
pub const ATTR_OFFLINE: u32 = 0x1000;
pub const ATTR_ENCRYPTED: u32 = 0x4000;
pub const ATTR_RECALL_ON_OPEN: u32 = 0x0004_0000;
pub const ATTR_RECALL_ON_DATA_ACCESS: u32 = 0x0040_0000;

/// One name of a file in one folder, as a `$FILE_NAME` attribute or an index entry holds it.
/// Its times and sizes are a copy Windows updates lazily; the file's own are in
/// [`FileInfo`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileName {
    pub parent: FileRef,
    /// The name; a unit that is not valid UTF-16 (an unpaired surrogate) reads as U+FFFD.
    pub name: String,
    pub namespace: Namespace,
    /// The file's attributes with [`FN_DIRECTORY`] for a folder.
    pub flags: u32,
    pub times: Times,
    pub size: u64,
    pub allocated: u64,
}

impl FileName {
    /// Parses a `$FILE_NAME` value; None when its name runs past it.
    pub fn parse(v: &[u8]) -> Option<FileName> {
        let units = usize::from(*v.get(0x40)?);
        let name = v.get(0x42..0x42 + 2 * units)?;
        Some(FileName {
            parent: FileRef::from_raw(u64_at(v, 0)?),
            name: attr::utf16_string(name),
            namespace: Namespace::from_byte(*v.get(0x41)?),
            flags: u32_at(v, 0x38)?,
            times: Times::at(v, 0x08),
            allocated: u64_at(v, 0x28)?,
            size: u64_at(v, 0x30)?,
        })
    }

    pub fn is_dir(&self) -> bool {
        self.flags & FN_DIRECTORY != 0
    }
}

/// A data stream of a file: the unnamed one is the file's content, named ones are
/// alternate data streams (`Zone.Identifier`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamInfo {
    pub name: String,
    pub size: u64,
    /// Bytes of clusters reserved (0 for a resident stream).
    pub allocated: u64,
    pub resident: bool,
    pub compressed: bool,
    pub sparse: bool,
    pub encrypted: bool,
}

/// What a file's records say about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    pub file_ref: FileRef,
    pub is_dir: bool,
    /// The link count of the record header, as ntfs-3g gives it: each name counts, and a
    /// long name with a separate DOS name counts twice. [`FileInfo::names`] holds each
    /// hard link once.
    pub link_count: u16,
    pub times: Times,
    /// Windows' file attributes as GetFileAttributes gives them (ATTR_DIRECTORY for a
    /// folder, ATTR_NORMAL when none is set).
    pub attributes: u32,
    /// The key of its security descriptor in `$Secure` (NTFS 3.0 and later).
    pub security_id: Option<u32>,
    /// Its names in their folders, DOS-only names left out; several for a hard-linked file.
    pub names: Vec<FileName>,
    pub streams: Vec<StreamInfo>,
    pub reparse: Option<Reparse>,
    /// EFS-encrypted (its data cannot travel).
    pub encrypted: bool,
}

impl FileInfo {
    /// The first name, for messages.
    pub fn name(&self) -> &str {
        self.names.first().map_or("", |n| n.name.as_str())
    }
}

/// A file's records, read once: everything about it is answered from them.
pub struct File {
    pub(crate) vol: Arc<Inner>,
    records: Vec<Arc<Record>>,
    /// (index in `records`, index in that record's attributes), in record order.
    attrs: Vec<(usize, usize)>,
    info: FileInfo,
}

impl std::fmt::Debug for File {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "File({}, {:?})", self.info.file_ref, self.info.name())
    }
}

/// One entry of an attribute list: which record holds which attribute.
pub(crate) struct ListEntry {
    pub kind: u32,
    pub record: FileRef,
    pub id: u16,
}

impl File {
    pub(crate) fn load(vol: &Arc<Inner>, fref: FileRef) -> Result<File, NtfsError> {
        let base = vol.record(fref.record)?;
        let err = |kind| NtfsError::new(&vol.dev.name, Place::Record(fref.record), kind);
        if !base.in_use() {
            return Err(err(ErrorKind::NotFound(format!(
                "a file in MFT record {} (the record is free)",
                fref.record
            ))));
        }
        if fref.sequence != 0 && fref.sequence != base.sequence {
            return Err(err(ErrorKind::Stale {
                expected: fref.sequence,
                found: base.sequence,
            }));
        }
        File::from_base(vol, base)
    }

    /// The file whose base record is `base` (in use, checked by the caller).
    pub(crate) fn from_base(vol: &Arc<Inner>, base: Arc<Record>) -> Result<File, NtfsError> {
        let number = base.number;
        if base.base.record != 0 {
            return Err(NtfsError::new(
                &vol.dev.name,
                Place::Record(number),
                ErrorKind::Corrupt(format!(
                    "an extension record of MFT record {}, not a file of its own",
                    base.base.record
                )),
            ));
        }
        let mut records = vec![base];
        let mut attrs: Vec<(usize, usize)> = (0..records[0].attrs.len()).map(|i| (0, i)).collect();
        let list = records[0]
            .attrs
            .iter()
            .find(|a| a.kind == attr::ATTRIBUTE_LIST)
            .cloned();
        if let Some(list_attr) = list {
            let entries = read_attribute_list(&vol.dev, &vol.geo, &records[0], &list_attr)?;
            add_extensions(vol, &entries, &mut records, &mut attrs)?;
        }
        let mut file = File {
            vol: vol.clone(),
            records,
            attrs,
            info: FileInfo {
                file_ref: FileRef::record(0),
                is_dir: false,
                link_count: 0,
                times: Times::default(),
                attributes: 0,
                security_id: None,
                names: Vec::new(),
                streams: Vec::new(),
                reparse: None,
                encrypted: false,
            },
        };
        file.info = file.build_info()?;
        Ok(file)
    }

    pub fn info(&self) -> &FileInfo {
        &self.info
    }

    /// Where the base record lies on the volume (bytes): for ordering reads of files whose
    /// data is resident.
    pub fn record_offset(&self) -> Option<u64> {
        self.vol.record_offset(self.info.file_ref.record)
    }

    fn all(&self) -> impl Iterator<Item = (&Record, &AttrInfo)> {
        self.attrs.iter().filter_map(|&(r, a)| {
            let rec = self.records.get(r)?;
            Some((&**rec, rec.attrs.get(a)?))
        })
    }

    fn place(&self, a: &AttrInfo) -> Place {
        Place::Attribute {
            record: self.records[0].number,
            kind: a.kind,
            name: a.name.clone(),
        }
    }

    fn corrupt(&self, place: Place, why: String) -> NtfsError {
        NtfsError::new(&self.vol.dev.name, place, ErrorKind::Corrupt(why)).in_file(self.info.name())
    }

    fn build_info(&self) -> Result<FileInfo, NtfsError> {
        let base = &self.records[0];
        let si = self
            .all()
            .find(|(_, a)| a.kind == attr::STANDARD_INFORMATION)
            .and_then(|(r, a)| r.value(a));
        let Some(si) = si.filter(|v| v.len() >= 0x30) else {
            return Err(self.corrupt(
                Place::Record(base.number),
                "no readable $STANDARD_INFORMATION".into(),
            ));
        };
        let mut names = Vec::new();
        let mut streams = Vec::new();
        let mut encrypted = false;
        for (rec, a) in self.all() {
            match a.kind {
                attr::FILE_NAME => {
                    let fname = rec.value(a).and_then(FileName::parse).ok_or_else(|| {
                        self.corrupt(self.place(a), "the name runs past the value".into())
                    })?;
                    if fname.namespace != Namespace::Dos {
                        names.push(fname);
                    }
                }
                attr::DATA if starts_stream(a) => streams.push(stream_info(a, rec)),
                attr::LOGGED_UTILITY_STREAM if a.name == "$EFS" => encrypted = true,
                _ => {}
            }
        }
        let mut attributes = u32_at(si, 0x20).unwrap_or(0);
        let is_dir = base.is_dir();
        if is_dir {
            attributes |= ATTR_DIRECTORY;
        } else {
            attributes &= !ATTR_DIRECTORY;
        }
        if attributes == 0 {
            attributes = ATTR_NORMAL;
        }
        let mut info = FileInfo {
            file_ref: base.file_ref(),
            is_dir,
            link_count: base.link_count,
            times: Times::at(si, 0),
            attributes,
            security_id: u32_at(si, 0x34).filter(|_| si.len() >= 0x48),
            names,
            streams,
            reparse: None,
            encrypted: encrypted || attributes & ATTR_ENCRYPTED != 0,
        };
        let reparse = self.all().find(|(_, a)| a.kind == attr::REPARSE_POINT);
        if let Some((_, a)) = reparse {
            let a = a.clone();
            info.reparse = Some(self.reparse_point(&a, &info)?);
        }
        Ok(info)
    }

    fn reparse_point(&self, a: &AttrInfo, info: &FileInfo) -> Result<Reparse, NtfsError> {
        let content = self.content(attr::REPARSE_POINT, &a.name)?;
        let place = self.place(a);
        let data = content
            .map(|c| c.read_all(&self.vol.dev, limits::REPARSE_MAX_BYTES))
            .transpose()
            .map_err(|f| f.at(&self.vol.dev.name, place).in_file(info.name()))?
            .unwrap_or_default();
        Ok(Reparse::parse(&data).unwrap_or_else(|| Reparse {
            tag: u32_at(&data, 0).unwrap_or(0),
            data,
            kind: ReparseKind::Other,
        }))
    }

    /// The content of attribute `kind:name` over all its extents, or None if there is none.
    pub(crate) fn content(&self, kind: u32, name: &str) -> Result<Option<Content>, NtfsError> {
        let mut extents = Vec::new();
        let mut first = None;
        for (rec, a) in self.all().filter(|(_, a)| a.is(kind, name)) {
            match &a.form {
                Form::Resident { .. } => {
                    let v = rec.value(a).unwrap_or(&[]);
                    return Ok(Some(Content::Resident(v.into())));
                }
                Form::NonResident {
                    start_vcn,
                    end_vcn,
                    runs,
                    ..
                } => {
                    if *start_vcn == 0 {
                        first = Some(a);
                    }
                    let bytes = rec.bytes.get(runs.clone()).unwrap_or(&[]);
                    extents.push((*start_vcn, *end_vcn, bytes));
                }
            }
        }
        let Some(first) = first else {
            if extents.is_empty() {
                return Ok(None);
            }
            return Err(self.corrupt(
                self.run_place(kind, name),
                "no extent starts at VCN 0".into(),
            ));
        };
        let Form::NonResident {
            compression_shift,
            allocated,
            size,
            initialized,
            ..
        } = first.form
        else {
            return Ok(None);
        };
        let compressed = first.flags & attr::FLAG_COMPRESSED != 0;
        let shift = compressed.then_some(compression_shift);
        let geo = &self.vol.geo;
        stream::non_resident(
            &mut extents,
            (size, initialized, allocated),
            shift,
            geo.cluster_size,
            geo.total_clusters,
        )
        .map(|nr| Some(Content::NonResident(nr)))
        .map_err(|why| self.corrupt(self.run_place(kind, name), why))
    }

    fn run_place(&self, kind: u32, name: &str) -> Place {
        Place::RunList {
            record: self.records[0].number,
            kind,
            name: name.to_string(),
        }
    }

    /// The data stream `name` ("" for the file's content), ready to read. A stream whose
    /// data is not on this volume (EFS, WOF, dedup, a cloud placeholder) is refused with
    /// [`ErrorKind::Unavailable`]; its size is still in [`FileInfo::streams`].
    pub fn stream(&self, name: &str) -> Result<Stream, NtfsError> {
        let name = self.stream_name(name);
        let place = Place::Attribute {
            record: self.records[0].number,
            kind: attr::DATA,
            name: name.clone(),
        };
        let err = |kind| {
            NtfsError::new(&self.vol.dev.name, place.clone(), kind).in_file(self.info.name())
        };
        let Some(content) = self.content(attr::DATA, &name)? else {
            return Err(err(ErrorKind::NotFound(format!("stream \"{name}\""))));
        };
        if let Some(why) = self.unavailable(&name) {
            return Err(err(ErrorKind::Unavailable(why)));
        }
        Ok(Stream {
            dev: self.vol.dev.clone(),
            place,
            file: self.info.name().to_string(),
            content,
            unavailable: None,
            unit: Mutex::new(None),
        })
    }

    /// The stream's name as stored: names of streams ignore case, as Windows' do.
    fn stream_name(&self, name: &str) -> String {
        let stored = self
            .info
            .streams
            .iter()
            .map(|s| s.name.as_str())
            .find(|s| *s == name)
            .or_else(|| {
                self.info.streams.iter().map(|s| s.name.as_str()).find(|s| {
                    self.vol
                        .upcase
                        .cmp(s.encode_utf16(), name.encode_utf16())
                        .is_eq()
                })
            });
        stored.unwrap_or(name).to_string()
    }

    fn unavailable(&self, name: &str) -> Option<Unavailable> {
        if self.info.encrypted
            || self
                .info
                .streams
                .iter()
                .any(|s| s.name == name && s.encrypted)
        {
            return Some(Unavailable::Encrypted);
        }
        if !name.is_empty() {
            return None;
        }
        let dehydrated = ATTR_OFFLINE | ATTR_RECALL_ON_OPEN | ATTR_RECALL_ON_DATA_ACCESS;
        match self.info.reparse.as_ref().map(|r| &r.kind) {
            Some(ReparseKind::Wof { .. }) => Some(Unavailable::Wof),
            Some(ReparseKind::Dedup) => Some(Unavailable::Dedup),
            Some(ReparseKind::Cloud) if self.info.attributes & dehydrated != 0 => {
                Some(Unavailable::Cloud)
            }
            _ => None,
        }
    }

    /// The descriptor of an NTFS 1.x volume kept in the file's own `$SECURITY_DESCRIPTOR`.
    pub(crate) fn own_security_descriptor(&self) -> Result<Option<Vec<u8>>, NtfsError> {
        let Some(content) = self.content(attr::SECURITY_DESCRIPTOR, "")? else {
            return Ok(None);
        };
        let place = Place::Attribute {
            record: self.records[0].number,
            kind: attr::SECURITY_DESCRIPTOR,
            name: String::new(),
        };
        content
            .read_all(&self.vol.dev, limits::SECURITY_DESCRIPTOR_MAX_BYTES)
            .map(Some)
            .map_err(|f| f.at(&self.vol.dev.name, place).in_file(self.info.name()))
    }
}

/// The attribute starts a stream: resident, or its first extent.
fn starts_stream(a: &AttrInfo) -> bool {
    match a.form {
        Form::Resident { .. } => true,
        Form::NonResident { start_vcn, .. } => start_vcn == 0,
    }
}

fn stream_info(a: &AttrInfo, rec: &Record) -> StreamInfo {
    let (size, allocated, resident) = match a.form {
        Form::Resident { ref value } => (value.len() as u64, 0, true),
        Form::NonResident {
            size, allocated, ..
        } => (size, allocated, false),
    };
    let _ = rec;
    StreamInfo {
        name: a.name.clone(),
        size,
        allocated,
        resident,
        compressed: a.flags & attr::FLAG_COMPRESSED != 0,
        sparse: a.flags & attr::FLAG_SPARSE != 0,
        encrypted: a.flags & attr::FLAG_ENCRYPTED != 0,
    }
}

/// The entries of the attribute list `a` of record `base`. A non-resident list's runs are
/// in `base` and point at clusters, so `$MFT`'s own list is read before the MFT is mapped.
pub(crate) fn read_attribute_list(
    dev: &Device,
    geo: &Geometry,
    base: &Record,
    a: &AttrInfo,
) -> Result<Vec<ListEntry>, NtfsError> {
    let place = Place::AttributeList {
        record: base.number,
    };
    let err = |why: String| NtfsError::new(&dev.name, place.clone(), ErrorKind::Corrupt(why));
    let bytes = match &a.form {
        Form::Resident { .. } => base.value(a).unwrap_or(&[]).to_vec(),
        Form::NonResident {
            start_vcn,
            end_vcn,
            runs,
            allocated,
            size,
            initialized,
            ..
        } => {
            if *size > limits::ATTRIBUTE_LIST_MAX_BYTES {
                return Err(NtfsError::new(
                    &dev.name,
                    place,
                    ErrorKind::TooLarge {
                        what: "an attribute list",
                        value: *size,
                        limit: limits::ATTRIBUTE_LIST_MAX_BYTES,
                    },
                ));
            }
            let run_bytes = base.bytes.get(runs.clone()).unwrap_or(&[]);
            let nr = stream::non_resident(
                &mut [(*start_vcn, *end_vcn, run_bytes)],
                (*size, *initialized, *allocated),
                None,
                geo.cluster_size,
                geo.total_clusters,
            )
            .map_err(err)?;
            Content::NonResident(nr)
                .read_all(dev, limits::ATTRIBUTE_LIST_MAX_BYTES)
                .map_err(|f| f.at(&dev.name, place.clone()))?
        }
    };
    let mut out = Vec::new();
    let mut pos = 0usize;
    while pos < bytes.len() {
        let len = usize::from(u16_at(&bytes, pos + 4).unwrap_or(0));
        if len < 0x1A || pos + len > bytes.len() {
            return Err(err(format!("entry at byte {pos} has length {len}")));
        }
        out.push(ListEntry {
            kind: u32_at(&bytes, pos).unwrap_or(0),
            record: FileRef::from_raw(u64_at(&bytes, pos + 0x10).unwrap_or(0)),
            id: u16_at(&bytes, pos + 0x18).unwrap_or(0),
        });
        pos += len;
    }
    Ok(out)
}

/// Reads the extension records an attribute list names and adds the attributes it lists.
fn add_extensions(
    vol: &Arc<Inner>,
    entries: &[ListEntry],
    records: &mut Vec<Arc<Record>>,
    attrs: &mut Vec<(usize, usize)>,
) -> Result<(), NtfsError> {
    let base = records[0].number;
    let mut index: HashMap<u64, usize> = HashMap::new();
    index.insert(base, 0);
    let mut taken: HashSet<(usize, usize)> = attrs.iter().copied().collect();
    for e in entries.iter().filter(|e| e.record.record != base) {
        let r = match index.get(&e.record.record) {
            Some(&r) => r,
            None => {
                if records.len() > limits::EXTENSION_RECORDS_MAX {
                    return Err(NtfsError::new(
                        &vol.dev.name,
                        Place::AttributeList { record: base },
                        ErrorKind::TooLarge {
                            what: "extension records",
                            value: records.len() as u64,
                            limit: limits::EXTENSION_RECORDS_MAX as u64,
                        },
                    ));
                }
                let ext = vol.record(e.record.record)?;
                check_extension(vol, base, e.record, &ext)?;
                records.push(ext);
                index.insert(e.record.record, records.len() - 1);
                records.len() - 1
            }
        };
        let found = records[r]
            .attrs
            .iter()
            .position(|a| a.kind == e.kind && a.id == e.id);
        if let Some(i) = found {
            if taken.insert((r, i)) {
                attrs.push((r, i));
            }
        }
    }
    Ok(())
}

fn check_extension(
    vol: &Arc<Inner>,
    base: u64,
    named: FileRef,
    ext: &Record,
) -> Result<(), NtfsError> {
    let why = if !ext.in_use() {
        Some("is not in use".to_string())
    } else if named.sequence != 0 && named.sequence != ext.sequence {
        Some(format!(
            "has sequence {}, the list names {}",
            ext.sequence, named.sequence
        ))
    } else if ext.base.record != base {
        Some(format!("belongs to MFT record {}", ext.base.record))
    } else {
        None
    };
    match why {
        None => Ok(()),
        Some(why) => Err(NtfsError::new(
            &vol.dev.name,
            Place::AttributeList { record: base },
            ErrorKind::Corrupt(format!("extension record {} {why}", ext.number)),
        )),
    }
}
