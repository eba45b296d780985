//! The block map: what is known about every byte of a source, as GNU ddrescue keeps it. The
//! map always covers the whole source with blocks that touch, never overlap, and never sit
//! beside a block of the same status (they are merged as they are set, as ddrescue merges
//! them), so that the blocks a mapfile lists are exactly those ddrescue would list.

use std::collections::BTreeMap;
use std::ops::Range;

/// What is known about a block, with the character ddrescue's mapfile gives it. The order
/// is the order of the work: a byte moves down the list until it is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    /// `?`: not tried yet.
    NonTried,
    /// `*`: a large read failed here; the edges are still to be read sector by sector.
    NonTrimmed,
    /// `/`: between trimmed edges; still to be read sector by sector.
    NonScraped,
    /// `-`: sectors that failed when read one by one.
    BadSector,
    /// `+`: read, and kept.
    Finished,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::NonTried,
        Status::NonTrimmed,
        Status::NonScraped,
        Status::BadSector,
        Status::Finished,
    ];

    /// The character of this status in a mapfile.
    pub fn symbol(self) -> char {
        match self {
            Status::NonTried => '?',
            Status::NonTrimmed => '*',
            Status::NonScraped => '/',
            Status::BadSector => '-',
            Status::Finished => '+',
        }
    }

    pub fn from_symbol(c: char) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.symbol() == c)
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// A block of the map: `size` bytes at `pos`, all of one status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block {
    pub pos: u64,
    pub size: u64,
    pub status: Status,
}

impl Block {
    pub fn end(&self) -> u64 {
        self.pos + self.size
    }
    pub fn range(&self) -> Range<u64> {
        self.pos..self.end()
    }
}

/// The status of every byte of a source of `size` bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Map {
    size: u64,
    /// Start → (end, status). Covers `0..size`; neighbours differ in status.
    blocks: BTreeMap<u64, (u64, Status)>,
    /// Bytes and blocks of each status, kept as blocks change.
    bytes: [u64; 5],
    count: [usize; 5],
}

impl Map {
    /// A map of a source of which nothing has been tried.
    pub fn new(size: u64) -> Map {
        let mut m = Map {
            size,
            blocks: BTreeMap::new(),
            bytes: [0; 5],
            count: [0; 5],
        };
        if size > 0 {
            m.insert(0, size, Status::NonTried);
        }
        m
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Bytes of `status` in the whole map.
    pub fn bytes(&self, status: Status) -> u64 {
        self.bytes[status.index()]
    }

    /// Separate blocks of `status`: for [`Status::BadSector`], ddrescue's "bad areas".
    pub fn areas(&self, status: Status) -> usize {
        self.count[status.index()]
    }

    /// Blocks in the map.
    pub fn len(&self) -> usize {
        self.blocks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }

    /// Whether every byte is [`Status::Finished`].
    pub fn is_finished(&self) -> bool {
        self.bytes(Status::Finished) == self.size
    }

    /// Every block, in order.
    pub fn blocks(&self) -> impl Iterator<Item = Block> + '_ {
        self.blocks.iter().map(|(&pos, &(end, status))| Block {
            pos,
            size: end - pos,
            status,
        })
    }

    /// The blocks that overlap `range`, cut to it, in order.
    pub fn blocks_in(&self, range: Range<u64>) -> impl Iterator<Item = Block> + '_ {
        let first = self.block_at(range.start).map_or(range.start, |b| b.pos);
        let end = range.end.min(self.size);
        self.blocks
            .range(first..end.max(first))
            .map(move |(&pos, &(e, status))| {
                let pos = pos.max(range.start);
                Block {
                    pos,
                    size: e.min(end) - pos,
                    status,
                }
            })
    }

    /// The block holding byte `pos`.
    pub fn block_at(&self, pos: u64) -> Option<Block> {
        let (&start, &(end, status)) = self.blocks.range(..=pos).next_back()?;
        (pos < end).then_some(Block {
            pos: start,
            size: end - start,
            status,
        })
    }

    /// The first block of `status` that ends after `from`, cut to start at `from` at the
    /// earliest and to end at `limit` at the latest.
    pub fn next(&self, status: Status, from: u64, limit: u64) -> Option<Range<u64>> {
        let first = self.block_at(from).map_or(from, |b| b.pos);
        self.blocks
            .range(first..limit.max(first))
            .find(|(_, &(end, s))| s == status && end > from)
            .map(|(&pos, &(end, _))| pos.max(from)..end.min(limit))
            .filter(|r| r.start < r.end)
    }

    /// The last block of `status` that starts before `before`, cut to end at `before` at
    /// the latest and to start at `floor` at the earliest.
    pub fn prev(&self, status: Status, before: u64, floor: u64) -> Option<Range<u64>> {
        self.blocks
            .range(..before)
            .rev()
            .take_while(|(_, &(end, _))| end > floor)
            .find(|(_, &(_, s))| s == status)
            .map(|(&pos, &(end, _))| pos.max(floor)..end.min(before))
            .filter(|r| r.start < r.end)
    }

    /// Gives every byte of `range` (cut to the map) the status `status`, merging blocks
    /// that end up beside one of the same status.
    pub fn set(&mut self, range: Range<u64>, status: Status) {
        let start = range.start;
        let end = range.end.min(self.size);
        if start >= end {
            return;
        }
        self.split(start);
        self.split(end);
        let inside: Vec<u64> = self.blocks.range(start..end).map(|(&p, _)| p).collect();
        for p in inside {
            self.remove(p);
        }
        self.insert(start, end, status);
        self.merge_at(end);
        self.merge_at(start);
    }

    /// Cuts the block that holds `pos` in two at `pos` (nothing when a block starts there).
    fn split(&mut self, pos: u64) {
        if let Some(b) = self.block_at(pos) {
            if b.pos < pos {
                self.remove(b.pos);
                self.insert(b.pos, pos, b.status);
                self.insert(pos, b.end(), b.status);
            }
        }
    }

    /// Joins the block starting at `pos` to the one before it when they share a status.
    fn merge_at(&mut self, pos: u64) {
        let Some(&(end, status)) = self.blocks.get(&pos) else {
            return;
        };
        let Some(prev) = pos.checked_sub(1).and_then(|p| self.block_at(p)) else {
            return;
        };
        if prev.status == status {
            self.remove(pos);
            self.remove(prev.pos);
            self.insert(prev.pos, end, status);
        }
    }

    fn insert(&mut self, start: u64, end: u64, status: Status) {
        self.blocks.insert(start, (end, status));
        self.bytes[status.index()] += end - start;
        self.count[status.index()] += 1;
    }

    fn remove(&mut self, start: u64) {
        if let Some((end, status)) = self.blocks.remove(&start) {
            self.bytes[status.index()] -= end - start;
            self.count[status.index()] -= 1;
        }
    }

    /// Gives each sector that holds a block edge not on a sector boundary, and a byte not
    /// yet finished, the least advanced status found in it, as ddrescue joins "subsectors"
    /// when it reads a mapfile: a sector is the smallest unit a disk reads, so a part of one
    /// cannot be rescued apart from the rest.
    pub fn join_subsectors(&mut self, sector: u64) {
        if sector <= 1 {
            return;
        }
        let odd: Vec<u64> = self
            .blocks
            .keys()
            .copied()
            .filter(|p| p % sector != 0)
            .map(|p| p / sector * sector)
            .collect();
        for s in odd {
            let range = s..(s + sector).min(self.size);
            let least = self
                .blocks_in(range.clone())
                .map(|b| b.status)
                .filter(|&st| st != Status::Finished)
                .min();
            if let Some(st) = least {
                self.set(range, st);
            }
        }
    }

    /// Bytes of `range` that are not finished, as ranges.
    pub fn unfinished_in(&self, range: Range<u64>) -> Vec<Range<u64>> {
        let mut out: Vec<Range<u64>> = Vec::new();
        for b in self.blocks_in(range) {
            if b.status == Status::Finished {
                continue;
            }
            match out.last_mut() {
                Some(last) if last.end == b.pos => last.end = b.end(),
                _ => out.push(b.range()),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::*;

    fn list(m: &Map) -> Vec<(u64, u64, char)> {
        m.blocks()
            .map(|b| (b.pos, b.size, b.status.symbol()))
            .collect()
    }

    /// The map's counts agree with its blocks, and its blocks tile it with neighbours that
    /// differ.
    fn check(m: &Map) {
        let mut at = 0;
        let mut prev = None;
        for b in m.blocks() {
            assert_eq!(b.pos, at);
            assert!(b.size > 0);
            assert_ne!(Some(b.status), prev);
            prev = Some(b.status);
            at = b.end();
        }
        assert_eq!(at, m.size());
        for s in Status::ALL {
            let blocks: Vec<Block> = m.blocks().filter(|b| b.status == s).collect();
            assert_eq!(m.areas(s), blocks.len());
            assert_eq!(m.bytes(s), blocks.iter().map(|b| b.size).sum::<u64>());
        }
    }

    #[test]
    fn setting_splits_and_merges_as_ddrescue_lists_blocks() {
        let mut m = Map::new(100);
        m.set(10..20, Finished);
        m.set(30..40, Finished);
        assert_eq!(
            list(&m),
            [
                (0, 10, '?'),
                (10, 10, '+'),
                (20, 10, '?'),
                (30, 10, '+'),
                (40, 60, '?')
            ]
        );
        m.set(20..30, Finished);
        assert_eq!(list(&m), [(0, 10, '?'), (10, 30, '+'), (40, 60, '?')]);
        m.set(0..100, BadSector);
        assert_eq!(list(&m), [(0, 100, '-')]);
        m.set(99..200, Finished);
        assert_eq!(list(&m), [(0, 99, '-'), (99, 1, '+')]);
        m.set(5..5, Finished);
        check(&m);
        assert_eq!(m.areas(BadSector), 1);
    }

    #[test]
    fn a_random_walk_keeps_the_map_whole_and_its_counts_true() {
        let mut m = Map::new(1000);
        let mut naive = vec![NonTried; 1000];
        let mut x: u64 = 12345;
        for _ in 0..3000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let a = x % 1000;
            let len = (x >> 20) % 60;
            let s = Status::ALL[((x >> 40) % 5) as usize];
            m.set(a..a + len, s);
            for v in naive.iter_mut().skip(a as usize).take(len as usize) {
                *v = s;
            }
            check(&m);
        }
        for (i, v) in naive.iter().enumerate() {
            assert_eq!(m.block_at(i as u64).unwrap().status, *v);
        }
    }

    #[test]
    fn next_and_prev_find_blocks_of_a_status_inside_limits() {
        let mut m = Map::new(100);
        m.set(10..20, NonTrimmed);
        m.set(50..70, NonTrimmed);
        assert_eq!(m.next(NonTrimmed, 0, 100), Some(10..20));
        assert_eq!(m.next(NonTrimmed, 15, 100), Some(15..20));
        assert_eq!(m.next(NonTrimmed, 20, 100), Some(50..70));
        assert_eq!(m.next(NonTrimmed, 20, 60), Some(50..60));
        assert_eq!(m.next(NonTrimmed, 20, 50), None);
        assert_eq!(m.prev(NonTrimmed, 100, 0), Some(50..70));
        assert_eq!(m.prev(NonTrimmed, 55, 0), Some(50..55));
        assert_eq!(m.prev(NonTrimmed, 50, 0), Some(10..20));
        assert_eq!(m.prev(NonTrimmed, 50, 15), Some(15..20));
        assert_eq!(m.prev(NonTrimmed, 50, 20), None);
        assert_eq!(m.unfinished_in(5..60), vec![5..60]);
        m.set(0..100, Finished);
        m.set(30..31, BadSector);
        assert_eq!(m.unfinished_in(0..100), vec![30..31]);
        let cut: Vec<Block> = m.blocks_in(29..31).collect();
        assert_eq!(cut.len(), 2);
        assert_eq!((cut[0].pos, cut[0].size), (29, 1));
    }

    #[test]
    fn subsectors_join_their_sector_with_the_least_advanced_status() {
        let mut m = Map::new(2048 + 100);
        m.set(0..700, Finished);
        m.set(700..900, BadSector);
        m.set(900..1100, NonScraped);
        m.set(1100..2148, Finished);
        m.join_subsectors(512);
        // Sector 512..1024 holds '+', '-' and '/': it becomes '/'; sector 1024..1536 holds
        // '/' and '+': '/'. The last, partial sector ends at the source's end.
        assert_eq!(
            list(&m),
            [(0, 512, '+'), (512, 1024, '/'), (1536, 612, '+')]
        );
        check(&m);
    }
}
