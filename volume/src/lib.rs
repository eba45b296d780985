//! The read-only volume stack: how Lifeboat reads a disk, a partition or an image file
//! itself, beneath any operating system's file system driver. Each layer is a module with
//! one job, and each reads only through the layer below it:
//!
//! ```text
//!   ntfs        $MFT, runs, LZNT1, streams, reparse points, $Secure, $UpCase
//!   bitlocker   FVE metadata, protectors, AES-CBC / Elephant / XTS   (when encrypted)
//!   rescue      ddrescue's discipline: large reads first, skip, trim, scrape, the map
//!   partition   GPT and MBR: a window onto the disk
//!   block       image file, block device, \\.\PhysicalDriveN: read_at(offset, buf)
//! ```
//!
//! What the whole stack promises:
//! - **Read-only by construction.** No layer has a write method, and every device or image
//!   is opened for reading only (shared, on Windows), so the evidence is never changed.
//! - **Every structure read from a disk is hostile.** Offsets, sizes and counts are checked
//!   against the buffer and the volume before use; a bad one is an error that names the
//!   structure, never a panic, and no loop runs longer than the structure it walks.
//! - **Errors carry the place**: the source's name and the byte offset, so a technician can
//!   tell a bad sector from a bad key from a damaged file system.

pub mod bitlocker;
pub mod block;
pub mod le;
pub mod ntfs;
pub mod partition;
pub mod rescue;

pub use block::{BlockError, BlockSource};
