//! GNU ddrescue's mapfile, read and written exactly, so that `ddrescue` can continue a
//! rescue Lifeboat began (and the other way round) and `ddrescuelog` can read its maps.
//!
//! The format (ddrescue manual, "Mapfile structure"): comment lines (`#` at the start of a
//! line or after white space begins a comment), then a status line `current_pos
//! current_status current_pass`, then one line per block, `pos size status`, the blocks
//! touching and in order. Numbers are C integer constants (decimal, `0x` hex, `0` octal);
//! the pass is decimal. Lifeboat writes what ddrescue writes: `0x%08X` numbers, the same
//! columns and the same heading comments.
//!
//! A mapfile is hostile input (it may come from another machine or be edited by hand): a
//! line that is not one of these, blocks that overlap or leave a gap, numbers that overflow,
//! more blocks than [`MAP_MAX_BLOCKS`] or a file larger than [`MAPFILE_MAX_BYTES`] are
//! refused with an error naming the line. Maps are saved atomically: written beside the
//! target, flushed to the disk, then renamed over it.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::map::{Map, Status};

/// Blocks a map may hold. A map of a 2 TB disk with damage spread over all of it has tens
/// of thousands; ddrescue itself slows to a crawl long before four million. Held in memory
/// this is ~200 MB, which a WinPE machine can spare.
pub const MAP_MAX_BLOCKS: usize = 4_000_000;
/// Size of a mapfile: four million blocks of ~30 characters, and room for comments.
pub const MAPFILE_MAX_BYTES: u64 = 256 << 20;

/// What ddrescue was doing when the map was saved: the status line's character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// `?`: copying non-tried blocks (passes 1 to 5).
    Copying,
    /// `*`: trimming non-trimmed blocks.
    Trimming,
    /// `/`: scraping non-scraped blocks.
    Scraping,
    /// `-`: retrying bad sectors.
    Retrying,
    /// `F`: ddrescue's fill mode.
    Filling,
    /// `G`: ddrescue's generate mode.
    Generating,
    /// `+`: finished.
    Finished,
}

impl Phase {
    const SYMBOLS: [(Phase, char); 7] = [
        (Phase::Copying, '?'),
        (Phase::Trimming, '*'),
        (Phase::Scraping, '/'),
        (Phase::Retrying, '-'),
        (Phase::Filling, 'F'),
        (Phase::Generating, 'G'),
        (Phase::Finished, '+'),
    ];

    pub fn symbol(self) -> char {
        Phase::SYMBOLS
            .iter()
            .find(|(p, _)| *p == self)
            .map_or('?', |(_, c)| *c)
    }

    pub fn from_symbol(c: char) -> Option<Phase> {
        Phase::SYMBOLS
            .iter()
            .find(|(_, s)| *s == c)
            .map(|(p, _)| *p)
    }
}

/// The status line: where the rescue was and in which pass of which phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// The start of the block being read in a forward pass, its end in a backward one.
    pub pos: u64,
    pub phase: Phase,
    /// The pass in the phase, from 1.
    pub pass: u32,
}

impl Position {
    pub const START: Position = Position {
        pos: 0,
        phase: Phase::Copying,
        pass: 1,
    };

    /// ddrescue's status message for this position (`Copying non-tried blocks... Pass 1
    /// (forwards)`): odd passes run forwards, even passes backwards.
    pub fn message(&self) -> String {
        let dir = if self.pass % 2 == 1 {
            "forwards"
        } else {
            "backwards"
        };
        match self.phase {
            Phase::Copying => format!("Copying non-tried blocks... Pass {} ({dir})", self.pass),
            Phase::Trimming => "Trimming failed blocks... (forwards)".to_string(),
            Phase::Scraping => "Scraping failed blocks... (forwards)".to_string(),
            Phase::Retrying => format!("Retrying bad sectors... Retry {} ({dir})", self.pass),
            Phase::Filling => "Filling specified blocks...".to_string(),
            Phase::Generating => "Generating approximate mapfile...".to_string(),
            Phase::Finished => "Finished".to_string(),
        }
    }
}

/// A mapfile's content: the status line and the map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapfile {
    pub position: Position,
    pub map: Map,
}

/// The heading comments Lifeboat writes.
#[derive(Debug, Clone)]
pub struct Header {
    /// `Lifeboat 0.1.0`.
    pub program: String,
    /// The command that made the map, as typed.
    pub command_line: String,
    pub start: SystemTime,
}

/// What is wrong with a line of a mapfile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// The first line that is not a comment is not `pos status pass`.
    StatusLine,
    /// A block line is not `pos size status`.
    BlockLine,
    /// A block does not start where the one before it ended (overlap or gap).
    NotContiguous,
    /// A position or size beyond ddrescue's range (2^63 - 1).
    TooLarge,
    /// More blocks than [`MAP_MAX_BLOCKS`].
    TooManyBlocks,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Problem::StatusLine => {
                "not a status line (want `current_pos current_status current_pass`, such as `0x00120000 ? 1`)"
            }
            Problem::BlockLine => {
                "not a block line (want `pos size status`, status one of ? * / - +)"
            }
            Problem::NotContiguous => {
                "this block does not start where the one before it ends (blocks overlap or leave a gap)"
            }
            Problem::TooLarge => "a position or size larger than 2^63 - 1 bytes",
            Problem::TooManyBlocks => "more blocks than Lifeboat reads in one map (4 million)",
        })
    }
}

/// Why a mapfile cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum MapError {
    #[error("{}: cannot read the map: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: larger than {} MiB, not a ddrescue mapfile Lifeboat can read", path.display(), MAPFILE_MAX_BYTES >> 20)]
    TooBig { path: PathBuf },
    #[error("{}, line {line}: {problem}; fix or remove the map", path.display())]
    Bad {
        path: PathBuf,
        line: usize,
        problem: Problem,
    },
    #[error("{}: the map describes {extent} bytes with data past the end of the source ({size} bytes): is it this source's map?", path.display())]
    Beyond {
        path: PathBuf,
        extent: u64,
        size: u64,
    },
    #[error("{}: cannot save the map: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl MapError {
    /// The line and the problem, for a map refused for what it holds.
    pub fn problem(&self) -> Option<(usize, Problem)> {
        match self {
            MapError::Bad { line, problem, .. } => Some((*line, *problem)),
            _ => None,
        }
    }
}

/// A line's fault, before the file's name is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineError {
    pub line: usize,
    pub problem: Problem,
}

/// A block as a line lists it, before it is checked against the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listed {
    pub pos: u64,
    pub size: u64,
    pub status: Status,
}

/// The text of a mapfile, checked line by line: the status line (absent in an empty
/// mapfile, which ddrescue treats as a new rescue) and the blocks, contiguous and in
/// range. Blocks of size 0 are kept (ddrescue writes one for an empty source).
pub fn parse(text: &[u8]) -> Result<(Option<Position>, Vec<Listed>), LineError> {
    parse_at_most(text, MAP_MAX_BLOCKS)
}

fn parse_at_most(
    text: &[u8],
    max_blocks: usize,
) -> Result<(Option<Position>, Vec<Listed>), LineError> {
    let mut position = None;
    let mut blocks: Vec<Listed> = Vec::new();
    for (i, raw) in text.split(|&b| b == b'\n').enumerate() {
        let line = i + 1;
        let fault = |problem| LineError { line, problem };
        let words = words(raw);
        if words.is_empty() {
            continue;
        }
        if position.is_none() {
            position = Some(status_line(&words).map_err(fault)?);
            continue;
        }
        let b = block_line(&words).map_err(fault)?;
        if let Some(last) = blocks.last() {
            if last.pos + last.size != b.pos {
                return Err(fault(Problem::NotContiguous));
            }
        }
        if blocks.len() >= max_blocks {
            return Err(fault(Problem::TooManyBlocks));
        }
        blocks.push(b);
    }
    Ok((position, blocks))
}

/// The words of a line before its comment. A `#` cannot be part of a word, so a comment
/// starts at the first one (the manual allows one at the start or after white space).
fn words(raw: &[u8]) -> Vec<&[u8]> {
    let text = raw.split(|&b| b == b'#').next().unwrap_or_default();
    text.split(|b| b.is_ascii_whitespace())
        .filter(|w| !w.is_empty())
        .collect()
}

fn status_line(words: &[&[u8]]) -> Result<Position, Problem> {
    let bad = Problem::StatusLine;
    let (pos, phase, pass) = match words {
        [pos, phase] => (pos, phase, None),
        [pos, phase, pass] => (pos, phase, Some(pass)),
        _ => return Err(bad),
    };
    let pos = number(pos).map_err(|p| p.unwrap_or(bad))?;
    let phase = one_char(phase).and_then(Phase::from_symbol).ok_or(bad)?;
    // Versions before 1.21 wrote no pass: ddrescue then starts at pass 1.
    let pass = match pass {
        None => 1,
        Some(w) => decimal_pass(w).ok_or(bad)?,
    };
    Ok(Position { pos, phase, pass })
}

fn block_line(words: &[&[u8]]) -> Result<Listed, Problem> {
    let bad = Problem::BlockLine;
    let [pos, size, status] = words else {
        return Err(bad);
    };
    let pos = number(pos).map_err(|p| p.unwrap_or(bad))?;
    let size = number(size).map_err(|p| p.unwrap_or(bad))?;
    let status = one_char(status).and_then(Status::from_symbol).ok_or(bad)?;
    if pos.checked_add(size).is_none_or(|e| e > i64::MAX as u64) {
        return Err(Problem::TooLarge);
    }
    Ok(Listed { pos, size, status })
}

fn one_char(w: &[u8]) -> Option<char> {
    match w {
        [c] => Some(char::from(*c)),
        _ => None,
    }
}

/// A C integer constant as `strtoll(…, 0)` reads it, whole: `0x1F`, `017`, `15`. At most
/// 2^63 - 1, as ddrescue's positions are `long long`. The error is `TooLarge`, or `None`
/// for what is not a number (the caller names the kind of line).
fn number(w: &[u8]) -> Result<u64, Option<Problem>> {
    let (digits, radix) = match w {
        [b'0', b'x' | b'X', rest @ ..] => (rest, 16),
        [b'0', rest @ ..] if !rest.is_empty() => (rest, 8),
        _ => (w, 10),
    };
    if digits.is_empty() {
        return Err(None);
    }
    let mut v: u64 = 0;
    for &c in digits {
        let d = char::from(c).to_digit(radix).ok_or(None)?;
        v = v
            .checked_mul(u64::from(radix))
            .and_then(|v| v.checked_add(u64::from(d)))
            .filter(|&v| v <= i64::MAX as u64)
            .ok_or(Some(Problem::TooLarge))?;
    }
    Ok(v)
}

/// The pass: a positive decimal `int`.
fn decimal_pass(w: &[u8]) -> Option<u32> {
    if !w.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let v: u32 = std::str::from_utf8(w).ok()?.parse().ok()?;
    (1..=i32::MAX as u32).contains(&v).then_some(v)
}

/// The map of a source of `size` bytes from a mapfile's blocks, as ddrescue builds it: the
/// part before the first block and after the last is not tried; blocks of size 0 say
/// nothing. A block past the source's end is an error (giving its end) unless it is only
/// "not tried" (a map made with a larger `--size`), and sectors cut by a block edge are
/// joined.
pub fn fit(blocks: &[Listed], size: u64, sector: u32) -> Result<Map, u64> {
    let mut map = Map::new(size);
    for b in blocks.iter().filter(|b| b.size > 0) {
        if b.pos + b.size > size && b.status != Status::NonTried {
            return Err(b.pos + b.size);
        }
        map.set(b.pos..b.pos + b.size, b.status);
    }
    map.join_subsectors(u64::from(sector));
    Ok(map)
}

/// Reads the mapfile at `path` for a source of `size` bytes with sectors of `sector`
/// bytes. `None` when there is no mapfile or it is empty: a new rescue.
pub fn read(path: &Path, size: u64, sector: u32) -> Result<Option<Mapfile>, MapError> {
    let io = |source| MapError::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(e)),
    };
    let mut text = Vec::new();
    use std::io::Read as _;
    file.take(MAPFILE_MAX_BYTES + 1)
        .read_to_end(&mut text)
        .map_err(io)?;
    if text.len() as u64 > MAPFILE_MAX_BYTES {
        return Err(MapError::TooBig {
            path: path.to_path_buf(),
        });
    }
    let (position, blocks) = parse(&text).map_err(|e| MapError::Bad {
        path: path.to_path_buf(),
        line: e.line,
        problem: e.problem,
    })?;
    let Some(position) = position else {
        return Ok(None);
    };
    let map = fit(&blocks, size, sector).map_err(|extent| MapError::Beyond {
        path: path.to_path_buf(),
        extent,
        size,
    })?;
    Ok(Some(Mapfile { position, map }))
}

/// The text of a mapfile, as ddrescue lays it out.
pub fn render(p: &Position, map: &Map, header: &Header, now: SystemTime) -> String {
    let mut s = String::with_capacity(400 + map.len() * 32);
    let _ = writeln!(s, "# Mapfile. Created by {}", header.program);
    let _ = writeln!(s, "# Command line: {}", header.command_line);
    let _ = writeln!(s, "# Start time:   {}", utc(header.start));
    let _ = writeln!(s, "# Current time: {}", utc(now));
    let _ = writeln!(s, "# {}", p.message());
    s.push_str("# current_pos  current_status  current_pass\n");
    let _ = writeln!(
        s,
        "0x{:08X}     {}               {}",
        p.pos,
        p.phase.symbol(),
        p.pass
    );
    s.push_str("#      pos        size  status\n");
    if map.is_empty() {
        // ddrescue's map of an empty source.
        s.push_str("0x00000000  0x00000000  ?\n");
    }
    for b in map.blocks() {
        let _ = writeln!(
            s,
            "0x{:08X}  0x{:08X}  {}",
            b.pos,
            b.size,
            b.status.symbol()
        );
    }
    s
}

/// Saves the mapfile at `path` atomically: the text goes to a file beside it, which is
/// flushed to the disk and then renamed over `path`, so a crash leaves the old map or the
/// new one, never a torn one.
pub fn save(path: &Path, position: &Position, map: &Map, header: &Header) -> Result<(), MapError> {
    let err = |source| MapError::Write {
        path: path.to_path_buf(),
        source,
    };
    let text = render(position, map, header, SystemTime::now());
    let name = path
        .file_name()
        .map_or_else(|| "map".into(), |n| n.to_string_lossy().into_owned());
    let tmp = path.with_file_name(format!(".{name}.lifeboat-tmp"));
    let written = std::fs::File::create(&tmp).and_then(|mut f| {
        f.write_all(text.as_bytes())?;
        f.sync_all()
    });
    if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, path)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(err(e));
    }
    sync_folder(path);
    Ok(())
}

/// Makes a rename durable: on Unix the folder's entry is flushed too. A failure here is
/// not reported (the map itself is complete either way).
fn sync_folder(path: &Path) {
    #[cfg(unix)]
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// `YYYY-MM-DD HH:MM:SS` in UTC, the layout of ddrescue's heading times.
fn utc(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A map GNU ddrescue 1.27 wrote (the manual's example, "Mapfile structure").
    const DDRESCUE_MAP: &str = "\
# Mapfile. Created by GNU ddrescue version 1.27
# Command line: ddrescue -d -c18 /dev/fd0 fdimage mapfile
# Start time:   2015-07-21 09:37:44
# Current time: 2015-07-21 09:38:19
# Copying non-tried blocks... Pass 1 (forwards)
# current_pos  current_status  current_pass
0x00120000     ?               1
#      pos        size  status
0x00000000  0x00117000  +
0x00117000  0x00000200  -
0x00117200  0x00001000  /
0x00118200  0x00007E00  *
0x00120000  0x00048000  ?
";

    fn err(text: &str) -> LineError {
        parse(text.as_bytes()).unwrap_err()
    }

    #[test]
    fn ddrescues_own_map_reads_and_writes_back_byte_for_byte_below_the_heading() {
        let (pos, blocks) = parse(DDRESCUE_MAP.as_bytes()).unwrap();
        let position = pos.unwrap();
        assert_eq!(position.pos, 0x120000);
        assert_eq!(position.phase, Phase::Copying);
        assert_eq!(position.pass, 1);
        let map = fit(&blocks, 0x168000, 512).unwrap();
        let header = Header {
            program: "GNU ddrescue version 1.27".into(),
            command_line: "ddrescue -d -c18 /dev/fd0 fdimage mapfile".into(),
            start: SystemTime::UNIX_EPOCH,
        };
        let text = render(&position, &map, &header, SystemTime::UNIX_EPOCH);
        let tail = |t: &str| t.lines().skip(4).collect::<Vec<_>>().join("\n");
        assert_eq!(tail(&text), tail(DDRESCUE_MAP));
        assert!(text.contains("# Start time:   1970-01-01 00:00:00\n"));
    }

    #[test]
    fn the_forms_ddrescue_accepts_are_read() {
        // No pass (before 1.21), octal and decimal, comments after a line, CRLF, blank
        // lines, tabs, and blocks of one status one after the other.
        let text = "\n# c\n  0 + \r\n0 010 +   # eight\r\n\n8\t0x8\t+\n16 16 -#x\n";
        let (pos, blocks) = parse(text.as_bytes()).unwrap();
        assert_eq!(pos.unwrap().pass, 1);
        assert_eq!(blocks.len(), 3);
        let map = fit(&blocks, 32, 1).unwrap();
        let got: Vec<_> = map.blocks().map(|b| (b.pos, b.size, b.status)).collect();
        assert_eq!(
            got,
            [(0, 16, Status::Finished), (16, 16, Status::BadSector)]
        );
        assert_eq!(parse(b"").unwrap(), (None, vec![]));
        assert_eq!(parse(b"# only a comment\n").unwrap(), (None, vec![]));
        assert_eq!(parse(b"0 F 1\n").unwrap().0.unwrap().phase, Phase::Filling);
    }

    #[test]
    fn hostile_maps_are_refused_naming_the_line() {
        use Problem::*;
        let cases: &[(&str, usize, Problem)] = &[
            ("0 x 1\n", 1, StatusLine),
            ("0 + 0\n", 1, StatusLine),
            ("0 + 2147483648\n", 1, StatusLine),
            ("0 + 1 extra\n", 1, StatusLine),
            ("garbage\n", 1, StatusLine),
            ("0x10000000000000000 + 1\n", 1, TooLarge),
            ("0 + 1\n0 0x1000 x\n", 2, BlockLine),
            ("0 + 1\n0 0x1000 F\n", 2, BlockLine),
            ("0 + 1\n-1 0x1000 +\n", 2, BlockLine),
            ("0 + 1\n0 1e3 +\n", 2, BlockLine),
            ("0 + 1\n0 08 +\n", 2, BlockLine),
            ("0 + 1\n0 0x1000+\n", 2, BlockLine),
            ("0 + 1\n0 0x1000 + extra\n", 2, BlockLine),
            ("0 + 1\n0 0x1é +\n", 2, BlockLine),
            ("0 + 1\n0 0x1000 +\n0x1200 0x10 +\n", 3, NotContiguous),
            ("0 + 1\n0 0x1000 +\n0x800 0x1000 -\n", 3, NotContiguous),
            ("0 + 1\n1 0x7FFFFFFFFFFFFFFF +\n", 2, TooLarge),
            ("0 + 1\n0 0x8000000000000000 +\n", 2, TooLarge),
            ("0 + 1\n0 99999999999999999999999 +\n", 2, TooLarge),
        ];
        for (text, line, problem) in cases {
            assert_eq!(
                err(text),
                LineError {
                    line: *line,
                    problem: *problem
                },
                "{text:?}"
            );
        }
    }

    #[test]
    fn more_blocks_than_the_limit_are_refused_at_the_line_past_it() {
        let mut text = String::from("0 + 1\n");
        for i in 0..=100u64 {
            let _ = writeln!(text, "{i} 1 {}", if i % 2 == 0 { '+' } else { '-' });
        }
        assert!(parse_at_most(text.as_bytes(), 101).is_ok());
        assert_eq!(
            parse_at_most(text.as_bytes(), 100),
            Err(LineError {
                line: 102,
                problem: Problem::TooManyBlocks
            })
        );
    }

    #[test]
    fn a_map_is_fitted_to_its_source() {
        let listed = |v: &[(u64, u64, char)]| -> Vec<Listed> {
            v.iter()
                .map(|&(pos, size, c)| Listed {
                    pos,
                    size,
                    status: Status::from_symbol(c).unwrap(),
                })
                .collect()
        };
        // Before the first block and after the last: not tried.
        let m = fit(&listed(&[(1024, 512, '+')]), 4096, 512).unwrap();
        assert_eq!(m.bytes(Status::NonTried), 4096 - 512);
        // Data past the end: refused; only "not tried" past the end: cut.
        assert_eq!(fit(&listed(&[(0, 8192, '+')]), 4096, 512), Err(8192));
        let m = fit(&listed(&[(0, 512, '+'), (512, 8192, '?')]), 4096, 512).unwrap();
        assert_eq!(m.size(), 4096);
        // An empty source's map.
        let m = fit(&listed(&[(0, 0, '?')]), 0, 512).unwrap();
        assert!(m.is_empty());
    }

    #[test]
    fn saving_replaces_the_map_whole_and_reading_it_back_gives_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("disk.map");
        std::fs::write(&path, "old").unwrap();
        let mut map = Map::new(10_000);
        map.set(512..1024, Status::BadSector);
        map.set(0..512, Status::Finished);
        let mf = Mapfile {
            position: Position {
                pos: 1024,
                phase: Phase::Retrying,
                pass: 2,
            },
            map,
        };
        let header = Header {
            program: "Lifeboat test".into(),
            command_line: "lifeboat image a b --map disk.map".into(),
            start: SystemTime::now(),
        };
        save(&path, &mf.position, &mf.map, &header).unwrap();
        let back = read(&path, 10_000, 512).unwrap().unwrap();
        assert_eq!(back, mf);
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary file is left beside the map");
        assert!(read(&dir.path().join("none.map"), 1, 512)
            .unwrap()
            .is_none());
        let bad = dir.path().join("bad.map");
        std::fs::write(&bad, "0 + 1\n0 10 +\n20 10 -\n").unwrap();
        let e = read(&bad, 100, 1).unwrap_err();
        assert_eq!(e.problem(), Some((3, Problem::NotContiguous)));
        assert!(e.to_string().contains("bad.map, line 3"), "{e}");
    }
}
