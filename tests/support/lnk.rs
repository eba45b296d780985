//! Windows shortcuts (`.lnk`) written as [MS-SHLLINK] lays them out: a ShellLinkHeader, a
//! LinkInfo with the local path (ANSI, and Unicode when asked), StringData (Unicode) and
//! optionally an EnvironmentVariableDataBlock. Debian's `lnkinfo` (liblnk-utils) reads them.

/// What the shortcut says.
#[derive(Debug, Clone, Default)]
pub struct LnkSpec {
    /// `LocalBasePath` (e.g. `C:\Program Files\App`), with `suffix` after it.
    pub base: String,
    pub suffix: String,
    /// Also write the Unicode offsets of a LinkInfo header of size 0x24.
    pub unicode_link_info: bool,
    pub relative_path: Option<String>,
    pub working_dir: Option<String>,
    pub arguments: Option<String>,
    /// EnvironmentVariableDataBlock target, e.g. `%windir%\notepad.exe`.
    pub env_target: Option<String>,
}

impl LnkSpec {
    /// A shortcut to `target` (`C:\dir\file.exe`): LinkInfo base `C:\dir`, suffix `file.exe`.
    pub fn to(target: &str) -> Self {
        let (base, suffix) = target.rsplit_once('\\').unwrap_or((target, ""));
        LnkSpec {
            base: base.to_string(),
            suffix: suffix.to_string(),
            working_dir: Some(base.to_string()),
            ..Default::default()
        }
    }
}

fn utf16z(s: &str) -> Vec<u8> {
    s.encode_utf16()
        .chain([0])
        .flat_map(u16::to_le_bytes)
        .collect()
}

pub fn lnk_bytes(spec: &LnkSpec) -> Vec<u8> {
    let clsid = [
        0x01u8, 0x14, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x46,
    ];
    let mut flags = 0x2 | 0x80; // HasLinkInfo, IsUnicode
    if spec.relative_path.is_some() {
        flags |= 0x8;
    }
    if spec.working_dir.is_some() {
        flags |= 0x10;
    }
    if spec.arguments.is_some() {
        flags |= 0x20;
    }
    if spec.env_target.is_some() {
        flags |= 0x200; // HasExpString
    }
    let mut b = vec![0u8; 0x4C];
    b[0..4].copy_from_slice(&0x4Cu32.to_le_bytes());
    b[4..20].copy_from_slice(&clsid);
    b[0x14..0x18].copy_from_slice(&(flags as u32).to_le_bytes());
    b[0x3C..0x40].copy_from_slice(&1u32.to_le_bytes()); // SW_SHOWNORMAL

    // LinkInfo: header, VolumeID (fixed drive, no label), paths.
    let header = if spec.unicode_link_info { 0x24 } else { 0x1C };
    let mut info = vec![0u8; header];
    let volume_at = info.len();
    let mut volume = vec![0u8; 0x10];
    volume[0..4].copy_from_slice(&0x11u32.to_le_bytes());
    volume[4..8].copy_from_slice(&3u32.to_le_bytes()); // DRIVE_FIXED
    volume[8..12].copy_from_slice(&0x1234_5678u32.to_le_bytes());
    volume[12..16].copy_from_slice(&0x10u32.to_le_bytes());
    volume.push(0);
    info.extend_from_slice(&volume);
    let base_at = info.len();
    info.extend(spec.base.bytes().chain([0]));
    let suffix_at = info.len();
    info.extend(spec.suffix.bytes().chain([0]));
    let put = |info: &mut Vec<u8>, o: usize, v: usize| {
        info[o..o + 4].copy_from_slice(&(v as u32).to_le_bytes())
    };
    if spec.unicode_link_info {
        let ubase = info.len();
        info.extend(utf16z(&spec.base));
        let usuffix = info.len();
        info.extend(utf16z(&spec.suffix));
        put(&mut info, 0x1C, ubase);
        put(&mut info, 0x20, usuffix);
    }
    let len = info.len();
    put(&mut info, 0, len);
    put(&mut info, 4, header);
    put(&mut info, 8, 1); // VolumeIDAndLocalBasePath
    put(&mut info, 0x0C, volume_at);
    put(&mut info, 0x10, base_at);
    put(&mut info, 0x18, suffix_at);
    b.extend_from_slice(&info);

    for s in [&spec.relative_path, &spec.working_dir, &spec.arguments]
        .into_iter()
        .flatten()
    {
        b.extend_from_slice(&(s.encode_utf16().count() as u16).to_le_bytes());
        b.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
    }
    if let Some(t) = &spec.env_target {
        let mut block = vec![0u8; 0x314];
        block[0..4].copy_from_slice(&0x314u32.to_le_bytes());
        block[4..8].copy_from_slice(&0xA000_0001u32.to_le_bytes());
        let ansi: Vec<u8> = t.bytes().take(259).collect();
        block[8..8 + ansi.len()].copy_from_slice(&ansi);
        let wide = utf16z(t);
        let n = wide.len().min(520);
        block[8 + 260..8 + 260 + n].copy_from_slice(&wide[..n]);
        b.extend_from_slice(&block);
    }
    b.extend_from_slice(&0u32.to_le_bytes()); // TerminalBlock
    b
}
