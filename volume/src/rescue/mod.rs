//! Reading a failing disk with GNU ddrescue's discipline: the good areas first, in large
//! reads, jumping past bad and slow ones; then the edges of what failed, sector by sector;
//! then the rest of it; then, if asked, the bad sectors again. A map says what is good,
//! bad or not yet tried, in ddrescue's own mapfile format, so `ddrescue` can continue a
//! rescue Lifeboat began, and the other way round.
//!
//! ```text
//!   Rescuer ── BlockSource for the layers above (BitLocker, NTFS), and run() for imaging
//!     ├── Map        what is known of every byte (map.rs), saved as a mapfile (mapfile.rs)
//!     ├── Store      where good bytes are kept: the image being built, or a cache (store.rs)
//!     └── engine     the thread that reads the disk, each read watched (engine.rs)
//! ```
//!
//! What this layer promises:
//! - **A good byte is read from the disk once.** It is kept in the store before the map
//!   says so, and read from the store ever after, also in a later run (the map and the
//!   store are durable together: the store is flushed before each save of the map).
//! - **It never hangs on one sector.** Each read has a time budget; a read that overruns
//!   counts as failed and the rescue moves on (its answer is still taken if it comes).
//!   The rescuer as a whole has a time budget too.
//! - **Lost bytes are named, never invented.** A read through [`BlockSource`] that meets
//!   bytes not rescued gets zeros there and [`BlockError::Damaged`] with their ranges.
//! - **The source is only read.** Nothing here writes to it; the store is a different
//!   file, which the caller must make sure it is (`lifeboat image` refuses the source).
//! - **The map is hostile input** when read: checked line by line, bounded in size and
//!   in blocks, refused with the line named.
//!
//! This is the only layer that retries or skips; the layers below read once and report.
//!
//! [`BlockSource`]: crate::block::BlockSource
//! [`BlockError::Damaged`]: crate::block::BlockError::Damaged

mod clock;
mod engine;
pub mod map;
pub mod mapfile;
mod passes;
mod rescuer;
pub mod store;

#[cfg(test)]
mod tests;

pub use map::{Block, Map, Status};
pub use mapfile::{Header, MapError, Mapfile, Phase, Position};
pub use rescuer::{Effort, Options, Progress, RescueError, Rescuer, RunEnd, Stop};
pub use store::{ImageFile, MemStore, Store};
