//! Minimal PE images: just enough header for an architecture probe.

/// COFF machine numbers.
pub const I386: u16 = 0x014c;
pub const AMD64: u16 = 0x8664;
pub const ARM64: u16 = 0xaa64;

/// A 1 KiB file with DOS and PE headers for `machine` (PE32 for x86, PE32+ otherwise).
pub fn pe_stub(machine: u16) -> Vec<u8> {
    let mut b = vec![0u8; 1024];
    b[..2].copy_from_slice(b"MZ");
    b[0x3c..0x40].copy_from_slice(&0x80u32.to_le_bytes());
    b[0x80..0x84].copy_from_slice(b"PE\0\0");
    b[0x84..0x86].copy_from_slice(&machine.to_le_bytes());
    b[0x86..0x88].copy_from_slice(&1u16.to_le_bytes()); // one section
    let opt_size: u16 = if machine == I386 { 0xe0 } else { 0xf0 };
    b[0x94..0x96].copy_from_slice(&opt_size.to_le_bytes());
    b[0x96..0x98].copy_from_slice(&0x0102u16.to_le_bytes()); // executable, 32-bit-word machine
    let magic: u16 = if machine == I386 { 0x10b } else { 0x20b };
    b[0x98..0x9a].copy_from_slice(&magic.to_le_bytes());
    // NumberOfRvaAndSizes: the 16 data directories every linker writes (all empty here).
    let count_at = 0x98 + if machine == I386 { 92 } else { 108 };
    b[count_at..count_at + 4].copy_from_slice(&16u32.to_le_bytes());
    b
}

/// What a version resource says: the fixed versions and the strings of one `StringTable`.
#[derive(Debug, Clone)]
pub struct VersionSpec {
    pub file_version: [u16; 4],
    pub product_version: [u16; 4],
    /// Language of the string table and translation (0x0409 = US English).
    pub language: u16,
    /// `StringFileInfo` strings, e.g. ("ProductVersion", "9.64").
    pub strings: Vec<(String, String)>,
}

impl VersionSpec {
    /// Both versions `version` (dotted, up to four parts), ProductVersion and FileVersion
    /// strings written as given.
    pub fn new(version: &str) -> Self {
        let mut v = [0u16; 4];
        for (i, p) in version.split('.').take(4).enumerate() {
            v[i] = p.trim().parse().unwrap_or(0);
        }
        VersionSpec {
            file_version: v,
            product_version: v,
            language: 0x0409,
            strings: vec![
                ("CompanyName".into(), "Fixture Software".into()),
                ("FileVersion".into(), version.into()),
                ("ProductVersion".into(), version.into()),
            ],
        }
    }

    pub fn with_string(mut self, key: &str, value: &str) -> Self {
        self.strings.retain(|(k, _)| k != key);
        self.strings.push((key.into(), value.into()));
        self
    }
}

/// One node of a version resource, laid out as `VS_VERSIONINFO` and its children are:
/// wLength, wValueLength (WORDs for text), wType, the key, padding, value, padding, children.
fn version_node(key: &str, value: &[u8], text: bool, children: &[Vec<u8>]) -> Vec<u8> {
    let mut b = vec![0u8; 6];
    for u in key.encode_utf16().chain([0]) {
        b.extend_from_slice(&u.to_le_bytes());
    }
    pad4(&mut b);
    b.extend_from_slice(value);
    for c in children {
        pad4(&mut b);
        b.extend_from_slice(c);
    }
    let len = b.len() as u16;
    b[0..2].copy_from_slice(&len.to_le_bytes());
    let vlen = if text { value.len() / 2 } else { value.len() } as u16;
    b[2..4].copy_from_slice(&vlen.to_le_bytes());
    b[4..6].copy_from_slice(&u16::from(text).to_le_bytes());
    b
}

fn pad4(b: &mut Vec<u8>) {
    while b.len() % 4 != 0 {
        b.push(0);
    }
}

fn utf16z(s: &str) -> Vec<u8> {
    s.encode_utf16()
        .chain([0])
        .flat_map(u16::to_le_bytes)
        .collect()
}

/// The `VS_VERSIONINFO` block for `spec`.
pub fn version_resource(spec: &VersionSpec) -> Vec<u8> {
    let ms_ls = |v: [u16; 4]| {
        (
            (u32::from(v[0]) << 16) | u32::from(v[1]),
            (u32::from(v[2]) << 16) | u32::from(v[3]),
        )
    };
    let mut fixed = Vec::new();
    let (fms, fls) = ms_ls(spec.file_version);
    let (pms, pls) = ms_ls(spec.product_version);
    for d in [
        0xFEEF_04BDu32, // signature
        0x0001_0000,    // struct version
        fms,
        fls,
        pms,
        pls,
        0x3f,        // flags mask
        0,           // flags
        0x0004_0004, // VOS_NT_WINDOWS32
        1,           // VFT_APP
        0,
        0,
        0,
    ] {
        fixed.extend_from_slice(&d.to_le_bytes());
    }
    let strings: Vec<Vec<u8>> = spec
        .strings
        .iter()
        .map(|(k, v)| version_node(k, &utf16z(v), true, &[]))
        .collect();
    let table = version_node(&format!("{:04x}04b0", spec.language), &[], true, &strings);
    let sfi = version_node("StringFileInfo", &[], true, &[table]);
    let mut translation = spec.language.to_le_bytes().to_vec();
    translation.extend_from_slice(&0x04b0u16.to_le_bytes());
    let var = version_node("Translation", &translation, false, &[]);
    let vfi = version_node("VarFileInfo", &[], true, &[var]);
    version_node("VS_VERSION_INFO", &fixed, false, &[sfi, vfi])
}

/// A PE image for `machine` whose one section, `.rsrc`, holds a version resource for
/// `spec`: the resource directory tree type 16 (RT_VERSION) → ID 1 → language → data.
pub fn pe_with_version(machine: u16, spec: &VersionSpec) -> Vec<u8> {
    const RAW: usize = 0x400;
    const RVA: u32 = 0x1000;
    let mut b = pe_stub(machine);
    let pe32 = machine == I386;
    let opt = 0x98usize;
    let (count_at, dirs) = if pe32 {
        (opt + 92, opt + 96)
    } else {
        (opt + 108, opt + 112)
    };
    b[count_at..count_at + 4].copy_from_slice(&16u32.to_le_bytes());

    // Resource section: three directory tables, one data entry, then the block.
    let data = version_resource(spec);
    let mut rsrc = Vec::new();
    let dir = |rsrc: &mut Vec<u8>, id: u32, target: u32| {
        let mut t = vec![0u8; 16];
        t[14..16].copy_from_slice(&1u16.to_le_bytes()); // one ID entry
        t.extend_from_slice(&id.to_le_bytes());
        t.extend_from_slice(&target.to_le_bytes());
        rsrc.extend_from_slice(&t);
    };
    dir(&mut rsrc, 16, 0x8000_0000 | 24);
    dir(&mut rsrc, 1, 0x8000_0000 | 48);
    dir(&mut rsrc, u32::from(spec.language), 72);
    let data_rva = RVA + 72 + 16;
    rsrc.extend_from_slice(&data_rva.to_le_bytes());
    rsrc.extend_from_slice(&(data.len() as u32).to_le_bytes());
    rsrc.extend_from_slice(&[0u8; 8]);
    rsrc.extend_from_slice(&data);
    while rsrc.len() % 0x200 != 0 {
        rsrc.push(0);
    }
    let rdir = dirs + 2 * 8;
    b[rdir..rdir + 4].copy_from_slice(&RVA.to_le_bytes());
    b[rdir + 4..rdir + 8].copy_from_slice(&(rsrc.len() as u32).to_le_bytes());

    let opt_size = if pe32 { 0xe0 } else { 0xf0 };
    let sec = opt + opt_size;
    b[sec..sec + 8].copy_from_slice(b".rsrc\0\0\0");
    let field = |b: &mut Vec<u8>, o: usize, v: u32| {
        b[sec + o..sec + o + 4].copy_from_slice(&v.to_le_bytes())
    };
    field(&mut b, 8, rsrc.len() as u32); // VirtualSize
    field(&mut b, 12, RVA);
    field(&mut b, 16, rsrc.len() as u32); // SizeOfRawData
    field(&mut b, 20, RAW as u32);
    field(&mut b, 36, 0x4000_0040); // initialized data, readable
    b.truncate(RAW);
    b.resize(RAW, 0);
    b.extend_from_slice(&rsrc);
    b
}
