//! What the volume says about itself: `$Volume`'s label, NTFS version and flags (the dirty
//! bit chkdsk looks at), and `$LogFile`'s restart area, which says whether Windows unmounted
//! the volume cleanly. The log is only looked at, never replayed: a volume Windows did not
//! shut down cleanly is read as it is on the disk.

use super::record::apply_fixups;
use crate::le::{u16_at, u32_at, u64_at};

/// `$VOLUME_INFORMATION` flags.
pub const VOLUME_DIRTY: u16 = 0x0001;

/// What `$LogFile` says about the last unmount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogState {
    /// The restart area says the volume was cleanly unmounted (or no client was using the
    /// log).
    Clean,
    /// Never used or reset (all 0xFF), as `mkntfs` and ntfs-3g leave it: nothing to replay.
    Empty,
    /// Windows did not shut down cleanly (a crash, a power cut, hibernation or Fast
    /// Startup): changes may be waiting in the log. Nothing is replayed here.
    Dirty,
    /// The restart area could not be read or understood (the reason).
    Unknown(String),
}

/// The volume's geometry and state, for the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeInfo {
    pub sector_size: u32,
    pub cluster_size: u64,
    pub record_size: u64,
    pub index_block_size: u64,
    /// Bytes of the volume as its boot sector states them.
    pub size: u64,
    pub serial: u64,
    pub label: Option<String>,
    /// NTFS version (3.1 for every Windows since XP).
    pub version: (u8, u8),
    /// `$VOLUME_INFORMATION` flags.
    pub flags: u16,
    pub log: LogState,
    /// MFT records (files, folders and their extension records, in use or not).
    pub records: u64,
    /// The boot sector was unreadable and its backup copy at the end of the volume was used.
    pub backup_boot_sector: bool,
    /// `$UpCase` could not be read; lookups use Unicode's upper-case mapping instead.
    pub builtin_upcase: bool,
}

impl VolumeInfo {
    /// The dirty bit is set (chkdsk is due).
    pub fn dirty_flag(&self) -> bool {
        self.flags & VOLUME_DIRTY != 0
    }

    /// Windows did not finish with this volume cleanly: the report says "read as it is,
    /// nothing replayed".
    pub fn unclean(&self) -> bool {
        self.dirty_flag() || self.log == LogState::Dirty
    }
}

/// `(major, minor, flags)` of a `$VOLUME_INFORMATION` value.
pub fn parse_volume_information(v: &[u8]) -> Option<(u8, u8, u16)> {
    Some((*v.get(8)?, *v.get(9)?, u16_at(v, 10)?))
}

const NO_CLIENT: u16 = 0xFFFF;
const RESTART_CLEAN: u16 = 0x0002;

/// Reads the state from the start of `$LogFile` (its two restart pages). The newer valid
/// restart area decides.
pub fn log_state(head: &[u8]) -> LogState {
    if head.len() >= 8 && head.iter().take(4096).all(|&b| b == 0xFF) {
        return LogState::Empty;
    }
    let mut best: Option<(u64, LogState)> = None;
    let mut why = String::from("no restart page");
    let first_size = u32_at(head, 0x10).map_or(4096, |s| s as usize);
    for at in [0, first_size] {
        match restart_page(head, at) {
            Ok((lsn, state)) => {
                if best.as_ref().is_none_or(|(l, _)| lsn > *l) {
                    best = Some((lsn, state));
                }
            }
            Err(e) => why = e,
        }
    }
    best.map_or(LogState::Unknown(why), |(_, s)| s)
}

/// One restart page at `at`: its current LSN and what its restart area says.
fn restart_page(head: &[u8], at: usize) -> Result<(u64, LogState), String> {
    let size = u32_at(head, at + 0x10).unwrap_or(0) as usize;
    if !size.is_power_of_two() || !(512..=65536).contains(&size) {
        return Err(format!("restart page at {at}: page size {size}"));
    }
    let mut page = head
        .get(at..at + size)
        .ok_or_else(|| format!("restart page at {at} past the log's start"))?
        .to_vec();
    if page.get(..4) == Some(b"CHKD") {
        page[..4].copy_from_slice(b"RSTR");
    }
    apply_fixups(&mut page, b"RSTR").map_err(|e| format!("restart page at {at}: {e}"))?;
    let ra = usize::from(u16_at(&page, 0x18).unwrap_or(0));
    let field = |off: usize| u16_at(&page, ra + off);
    let (Some(in_use), Some(flags), Some(lsn)) = (field(0x0C), field(0x0E), u64_at(&page, ra))
    else {
        return Err(format!("restart area at {ra} past its page"));
    };
    let clean = in_use == NO_CLIENT || flags & RESTART_CLEAN != 0;
    Ok((
        lsn,
        if clean {
            LogState::Clean
        } else {
            LogState::Dirty
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 4 KiB restart page (512-byte strides) with the given restart area fields.
    pub fn restart_page(lsn: u64, in_use: u16, flags: u16) -> Vec<u8> {
        let mut p = vec![0u8; 4096];
        p[0..4].copy_from_slice(b"RSTR");
        p[4..6].copy_from_slice(&0x1Eu16.to_le_bytes());
        p[6..8].copy_from_slice(&9u16.to_le_bytes());
        p[0x10..0x14].copy_from_slice(&4096u32.to_le_bytes());
        p[0x14..0x18].copy_from_slice(&4096u32.to_le_bytes());
        p[0x18..0x1A].copy_from_slice(&0x30u16.to_le_bytes());
        p[0x30..0x38].copy_from_slice(&lsn.to_le_bytes());
        p[0x3C..0x3E].copy_from_slice(&in_use.to_le_bytes());
        p[0x3E..0x40].copy_from_slice(&flags.to_le_bytes());
        // USN 1 at the end of each stride, saved bytes zero.
        p[0x1E..0x20].copy_from_slice(&1u16.to_le_bytes());
        for i in 0..8 {
            p[(i + 1) * 512 - 2] = 1;
        }
        p
    }

    #[test]
    fn the_newer_restart_area_decides() {
        let mut log = restart_page(10, 0, 0);
        log.extend(restart_page(20, 0, RESTART_CLEAN));
        assert_eq!(log_state(&log), LogState::Clean);
        let mut log = restart_page(30, 0, 0);
        log.extend(restart_page(20, NO_CLIENT, 0));
        assert_eq!(log_state(&log), LogState::Dirty);
        assert_eq!(log_state(&vec![0xFF; 8192]), LogState::Empty);
        assert!(matches!(log_state(&[0u8; 8192]), LogState::Unknown(_)));
        assert!(matches!(log_state(&[1u8; 3]), LogState::Unknown(_)));
    }
}
