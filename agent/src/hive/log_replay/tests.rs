//! Replay on synthetic hives and logs built here byte by byte, including hostile ones
//! (truncated, flipped, lying about sizes and offsets). Real logs are covered by
//! `tests/hive_replay.rs`.

use super::marvin::{marvin32, REGISTRY_SEED};
use super::*;

const BIN: usize = 4096;

fn base_block(seq1: u32, seq2: u32, file_type: u32, hive_bins: u32, time: u64) -> Vec<u8> {
    let mut b = vec![0u8; BASE_BLOCK_LEN];
    b[..4].copy_from_slice(b"regf");
    put_u32(&mut b, SEQ1, seq1);
    put_u32(&mut b, SEQ2, seq2);
    b[TIMESTAMP..TIMESTAMP + 8].copy_from_slice(&time.to_le_bytes());
    put_u32(&mut b, 20, 1);
    put_u32(&mut b, 24, 5);
    put_u32(&mut b, FILE_TYPE, file_type);
    put_u32(&mut b, 32, 1);
    put_u32(&mut b, 36, 0x20);
    put_u32(&mut b, HIVE_BINS_SIZE, hive_bins);
    put_u32(&mut b, CLUSTERING, 1);
    let sum = header_checksum(&b);
    put_u32(&mut b, CHECKSUM, sum);
    b
}

/// A hive bin whose body is filled with `fill`.
fn bin(offset: usize, size: usize, fill: u8) -> Vec<u8> {
    let mut b = vec![fill; size];
    b[..4].copy_from_slice(b"hbin");
    put_u32(&mut b, 4, offset as u32);
    put_u32(&mut b, 8, size as u32);
    b
}

const TIME: u64 = 0x01D8_1AC6_F3BF_4804;

/// A dirty primary (seq 10/9) with `bins` bins of 4096 bytes filled with 0xAA.
fn dirty_hive(bins: usize) -> Vec<u8> {
    let mut h = base_block(10, 9, 0, (bins * BIN) as u32, TIME);
    for i in 0..bins {
        h.extend(bin(i * BIN, BIN, 0xAA));
    }
    h
}

struct TestEntry {
    seq: u32,
    hive_bins: u32,
    pages: Vec<(u32, Vec<u8>)>,
}

fn entry(seq: u32, hive_bins: usize, pages: Vec<(usize, Vec<u8>)>) -> TestEntry {
    TestEntry {
        seq,
        hive_bins: hive_bins as u32,
        pages: pages.into_iter().map(|(o, d)| (o as u32, d)).collect(),
    }
}

/// A new-format log: base block copy (first sector) then the entries, hashed as Windows does.
fn new_log(base_seq: u32, entries: &[TestEntry]) -> Vec<u8> {
    let mut log = base_block(base_seq, base_seq, 6, 0, 0);
    log.truncate(SECTOR);
    for e in entries {
        let mut raw = vec![0u8; 40];
        raw[..4].copy_from_slice(b"HvLE");
        put_u32(&mut raw, 12, e.seq);
        put_u32(&mut raw, 16, e.hive_bins);
        put_u32(&mut raw, 20, e.pages.len() as u32);
        for (off, data) in &e.pages {
            raw.extend(off.to_le_bytes());
            raw.extend((data.len() as u32).to_le_bytes());
        }
        for (_, data) in &e.pages {
            raw.extend(data);
        }
        raw.resize(raw.len().next_multiple_of(SECTOR), 0);
        let size = raw.len() as u32;
        put_u32(&mut raw, 4, size);
        let h1 = marvin32(REGISTRY_SEED, &raw[40..]);
        raw[24..32].copy_from_slice(&h1.to_le_bytes());
        let h2 = marvin32(REGISTRY_SEED, &raw[..32]);
        raw[32..40].copy_from_slice(&h2.to_le_bytes());
        log.extend(raw);
    }
    log
}

fn logs(list: Vec<(&str, Vec<u8>)>) -> Vec<(String, Vec<u8>)> {
    list.into_iter().map(|(n, b)| (n.to_string(), b)).collect()
}

/// The header invariants `replay_logs` promises on Ok.
fn assert_consistent(hive: &[u8]) {
    assert_eq!(u32_at(hive, SEQ1), u32_at(hive, SEQ2), "sequence numbers");
    assert_eq!(
        u32_at(hive, CHECKSUM),
        Some(header_checksum(hive)),
        "checksum"
    );
    let size = u32_at(hive, HIVE_BINS_SIZE).unwrap() as usize;
    assert!(
        hive.len() >= BASE_BLOCK_LEN + size,
        "hive shorter than its hive-bins size"
    );
}

#[test]
fn new_format_applies_both_logs_in_sequence_order_and_grows_the_hive() {
    let mut hive = dirty_hive(2);
    // LOG2 holds the earlier entries (9, 10); LOG1 continues with 11, which adds a third bin.
    let log2 = new_log(
        9,
        &[
            entry(9, 2 * BIN, vec![(0, bin(0, BIN, 1))]),
            entry(10, 2 * BIN, vec![(BIN, bin(BIN, BIN, 2))]),
        ],
    );
    let log1 = new_log(
        11,
        &[entry(
            11,
            3 * BIN,
            vec![(0, bin(0, BIN, 3)), (2 * BIN, bin(2 * BIN, BIN, 4))],
        )],
    );
    let out = replay_logs(&mut hive, &logs(vec![("h.LOG1", log1), ("h.LOG2", log2)])).unwrap();
    assert_eq!(out.format, LogFormat::New);
    assert_eq!(out.applied, 3);
    assert_eq!(out.logs_used, ["h.LOG2", "h.LOG1"]);
    assert_consistent(&hive);
    assert_eq!(u32_at(&hive, SEQ1), Some(11));
    assert_eq!(u32_at(&hive, HIVE_BINS_SIZE), Some(3 * BIN as u32));
    assert_eq!(hive.len(), BASE_BLOCK_LEN + 3 * BIN);
    // Entry 11 overwrote entry 9's page: the later entry wins.
    assert_eq!(hive[BASE_BLOCK_LEN + 100], 3);
    assert_eq!(hive[BASE_BLOCK_LEN + BIN + 100], 2);
    assert_eq!(hive[BASE_BLOCK_LEN + 2 * BIN + 100], 4);
}

#[test]
fn new_format_log_older_than_the_hive_is_refused() {
    let mut hive = dirty_hive(1);
    let before = hive.clone();
    let log = new_log(5, &[entry(5, BIN, vec![(0, bin(0, BIN, 1))])]);
    let err = replay_logs(&mut hive, &logs(vec![("h.LOG1", log)])).unwrap_err();
    assert!(err.contains("h.LOG1 is older than the hive"), "{err}");
    assert_eq!(hive, before);
}

#[test]
fn new_format_stops_at_a_gap_between_logs() {
    let mut hive = dirty_hive(1);
    let log1 = new_log(9, &[entry(9, BIN, vec![(0, bin(0, BIN, 1))])]);
    let log2 = new_log(12, &[entry(12, BIN, vec![(0, bin(0, BIN, 2))])]);
    let out = replay_logs(&mut hive, &logs(vec![("h.LOG1", log1), ("h.LOG2", log2)])).unwrap();
    assert_eq!((out.applied, out.logs_used.len()), (1, 1));
    assert_eq!(hive[BASE_BLOCK_LEN + 100], 1);
    assert_eq!(u32_at(&hive, SEQ2), Some(9));
    assert_consistent(&hive);
}

#[test]
fn new_format_stops_before_an_entry_that_fails_its_checksum() {
    let mut hive = dirty_hive(1);
    let mut log = new_log(
        9,
        &[
            entry(9, BIN, vec![(0, bin(0, BIN, 1))]),
            entry(10, BIN, vec![(0, bin(0, BIN, 2))]),
        ],
    );
    let second = SECTOR + u32_at(&log, SECTOR + 4).unwrap() as usize;
    log[second + 200] ^= 0x10;
    let out = replay_logs(&mut hive, &logs(vec![("h.LOG1", log.clone())])).unwrap();
    assert_eq!(out.applied, 1);
    assert_eq!(hive[BASE_BLOCK_LEN + 100], 1);

    let mut hive = dirty_hive(1);
    log[SECTOR + 200] ^= 0x10;
    let err = replay_logs(&mut hive, &logs(vec![("h.LOG1", log)])).unwrap_err();
    assert!(err.contains("h.LOG1 entry 1 fails its checksum"), "{err}");
}

#[test]
fn new_format_refuses_pages_outside_the_hive_even_with_right_hashes() {
    let mut hive = dirty_hive(1);
    let log = new_log(9, &[entry(9, BIN, vec![(0xFFFF_F000, vec![7; BIN])])]);
    let err = replay_logs(&mut hive, &logs(vec![("h.LOG1", log)])).unwrap_err();
    assert!(err.contains("lies outside the hive"), "{err}");
}

#[test]
fn new_format_refuses_growth_its_pages_do_not_fill() {
    let mut hive = dirty_hive(1);
    // Claims 2 GiB of hive bins while carrying one page.
    let log = new_log(9, &[entry(9, 0x8000_0000, vec![(0, bin(0, BIN, 1))])]);
    let err = replay_logs(&mut hive, &logs(vec![("h.LOG1", log)])).unwrap_err();
    assert!(err.contains("would grow the hive"), "{err}");
    assert_eq!(hive.len(), BASE_BLOCK_LEN + BIN);
    // And a size beyond the 2 GiB cap, or not a multiple of 4096, is bogus outright.
    for size in [0xFFFF_F000usize, BIN + 512] {
        let log = new_log(9, &[entry(9, size, vec![(0, bin(0, BIN, 1))])]);
        let err = replay_logs(&mut hive, &logs(vec![("h.LOG1", log)])).unwrap_err();
        assert!(err.contains("bogus hive-bins data size"), "{err}");
    }
}

#[test]
fn a_primary_with_a_bad_checksum_takes_its_base_block_from_the_latest_log() {
    let mut hive = dirty_hive(1);
    hive[CHECKSUM] ^= 1;
    let old = new_log(7, &[entry(7, BIN, vec![(0, bin(0, BIN, 1))])]);
    let latest = new_log(20, &[entry(20, BIN, vec![(0, bin(0, BIN, 2))])]);
    let out = replay_logs(&mut hive, &logs(vec![("h.LOG1", old), ("h.LOG2", latest)])).unwrap();
    assert_eq!(out.logs_used, ["h.LOG2"]);
    assert_eq!(u32_at(&hive, FILE_TYPE), Some(0));
    assert_eq!(u32_at(&hive, SEQ1), Some(20));
    assert_eq!(hive[BASE_BLOCK_LEN + 100], 2);
    assert_consistent(&hive);
}

#[test]
fn missing_empty_and_foreign_logs_are_explained() {
    let mut hive = dirty_hive(1);
    assert_eq!(
        replay_logs(&mut hive, &[]).unwrap_err(),
        "no transaction log beside the hive"
    );
    let err = replay_logs(&mut hive, &logs(vec![("h.LOG", vec![])])).unwrap_err();
    assert_eq!(err, "log h.LOG is empty or unreadable");
    let err = replay_logs(&mut hive, &logs(vec![("h.LOG1", dirty_hive(1))])).unwrap_err();
    assert_eq!(err, "log h.LOG1 is not a transaction log (file type 0)");
    let mut torn = new_log(9, &[]);
    put_u32(&mut torn, SEQ2, 8);
    let err = replay_logs(&mut hive, &logs(vec![("h.LOG1", torn.clone())])).unwrap_err();
    assert_eq!(err, "log h.LOG1 has a base block that fails its checksum");
    let sum = header_checksum(&torn);
    put_u32(&mut torn, CHECKSUM, sum);
    let err = replay_logs(&mut hive, &logs(vec![("h.LOG1", torn)])).unwrap_err();
    assert_eq!(
        err,
        "log h.LOG1 was not completely written (sequence numbers 9 and 8 differ)"
    );
}

/// An old-format log: base block copy, `DIRT` + bitmap from the second sector, then the pages
/// of the set bits, packed from the next sector boundary.
fn old_log(time: u64, hive_bins: usize, pages: &[(usize, Vec<u8>)]) -> Vec<u8> {
    let mut log = base_block(30, 30, 1, hive_bins as u32, time);
    log.truncate(SECTOR);
    let mut bitmap = vec![0u8; hive_bins / 512 / 8];
    let mut data: Vec<u8> = Vec::new();
    let mut sorted: Vec<_> = pages.iter().collect();
    sorted.sort_by_key(|(o, _)| *o);
    for (off, page) in sorted {
        for (k, chunk) in page.chunks(512).enumerate() {
            let bit = off / 512 + k;
            bitmap[bit / 8] |= 1 << (bit % 8);
            data.extend(chunk);
        }
    }
    log.extend(b"DIRT");
    log.extend(&bitmap);
    log.resize(log.len().next_multiple_of(SECTOR), 0);
    log.extend(data);
    log
}

#[test]
fn old_format_writes_each_dirty_page_where_its_bit_says() {
    let mut hive = dirty_hive(2);
    // Bin 1 rewritten whole, one 512-byte page of bin 0 (its 3rd), and a new third bin.
    let pages = [
        (BIN, bin(BIN, BIN, 5)),
        (1024, vec![6u8; 512]),
        (2 * BIN, bin(2 * BIN, BIN, 7)),
    ];
    let log = old_log(TIME, 3 * BIN, &pages);
    let out = replay_logs(&mut hive, &logs(vec![("h.LOG", log)])).unwrap();
    assert_eq!(out.format, LogFormat::Old);
    assert_eq!(out.applied, 8 + 1 + 8);
    assert_consistent(&hive);
    assert_eq!(u32_at(&hive, SEQ2), Some(10));
    assert_eq!(u32_at(&hive, HIVE_BINS_SIZE), Some(3 * BIN as u32));
    let at = |o: usize| hive[BASE_BLOCK_LEN + o];
    assert_eq!((at(600), at(1100), at(1600)), (0xAA, 6, 0xAA));
    assert_eq!((at(BIN + 100), at(2 * BIN + 100)), (5, 7));
}

#[test]
fn old_format_needs_the_hive_timestamp_and_whole_pages() {
    let mut hive = dirty_hive(1);
    let before = hive.clone();
    let log = old_log(TIME + 1, BIN, &[(0, bin(0, BIN, 1))]);
    let err = replay_logs(&mut hive, &logs(vec![("h.LOG1", log)])).unwrap_err();
    assert!(err.contains("timestamp differs"), "{err}");
    let mut log = old_log(TIME, BIN, &[(0, bin(0, BIN, 1))]);
    log.truncate(log.len() - 1);
    let err = replay_logs(&mut hive, &logs(vec![("h.LOG1", log)])).unwrap_err();
    assert!(
        err.contains("is truncated: its dirty vector marks 8 pages"),
        "{err}"
    );
    assert_eq!(hive, before);
}

#[test]
fn old_format_stops_at_an_invalid_dirty_bin_and_tries_the_next_log() {
    let mut hive = dirty_hive(2);
    let mut bad = bin(BIN, BIN, 5);
    put_u32(&mut bad, 4, 0x1234); // wrong own offset
    let log1 = old_log(TIME, 2 * BIN, &[(0, bin(0, BIN, 4)), (BIN, bad)]);
    let out = replay_logs(&mut hive, &logs(vec![("h.LOG1", log1)])).unwrap();
    assert_eq!(out.applied, 8, "only the pages before the bad bin");
    assert_eq!(
        (hive[BASE_BLOCK_LEN + 100], hive[BASE_BLOCK_LEN + BIN + 100]),
        (4, 0xAA)
    );
    assert_consistent(&hive);

    let mut hive = dirty_hive(1);
    let mut bad = bin(0, BIN, 5);
    bad[..4].copy_from_slice(b"nope");
    let log1 = old_log(TIME, BIN, &[(0, bad)]);
    let log2 = old_log(TIME, BIN, &[(0, bin(0, BIN, 6))]);
    let out = replay_logs(&mut hive, &logs(vec![("h.LOG1", log1), ("h.LOG2", log2)])).unwrap();
    assert_eq!(out.logs_used, ["h.LOG2"]);
    assert_eq!(hive[BASE_BLOCK_LEN + 100], 6);
}

/// Every prefix of a log, and a log with any single byte changed, gives Ok with a consistent
/// hive or Err with the hive untouched; never a panic.
#[test]
fn truncated_or_flipped_logs_never_panic() {
    let new = new_log(
        9,
        &[
            entry(9, BIN, vec![(0, bin(0, BIN, 1))]),
            entry(10, 2 * BIN, vec![(BIN, bin(BIN, BIN, 2))]),
        ],
    );
    let old = old_log(
        TIME,
        2 * BIN,
        &[(0, bin(0, BIN, 1)), (BIN, bin(BIN, BIN, 2))],
    );
    for log in [new, old] {
        let mut variants: Vec<Vec<u8>> = (0..log.len())
            .step_by(61)
            .map(|n| log[..n].to_vec())
            .collect();
        for at in (0..log.len()).step_by(7).chain(0..700) {
            for mask in [0x01, 0x80, 0xFF] {
                let mut v = log.clone();
                v[at] ^= mask;
                variants.push(v);
            }
        }
        for v in variants {
            let mut hive = dirty_hive(1);
            let before = hive.clone();
            match replay_logs(&mut hive, &logs(vec![("h.LOG1", v)])) {
                Ok(_) => assert_consistent(&hive),
                Err(e) => {
                    assert!(!e.is_empty());
                    assert_eq!(hive, before);
                }
            }
        }
    }
}

#[test]
fn a_truncated_or_foreign_primary_is_refused() {
    let log = new_log(9, &[entry(9, BIN, vec![(0, bin(0, BIN, 1))])]);
    for mut hive in [vec![], b"regf".to_vec(), vec![0u8; BASE_BLOCK_LEN]] {
        assert!(replay_logs(&mut hive, &logs(vec![("h.LOG1", log.clone())])).is_err());
    }
}
