//! Rejects container headers whose declared sizes cannot fit in the file.
//!
//! symphonia allocates a buffer of the size a header declares *before* reading it. Matroska
//! sizes are 56-bit and MP4/CAF sizes 64-bit, so a 100-byte upload can ask for a terabyte:
//! the allocation fails and Rust aborts the whole process, which no `catch_unwind` can stop.
//! Before handing such files to symphonia we walk their structure and check every size
//! against the bytes that really exist. (32-bit sizes elsewhere are bounded at 4 GiB, which
//! the allocator reserves lazily and releases when the read fails.)

use std::io::{self, BufReader, Read, Seek, SeekFrom};

use super::probe::Container;

/// Elements or boxes beyond the end of the file are normal when an upload was cut short;
/// only claims larger than this are treated as hostile. Real audio frames, codec headers
/// and tags are far smaller.
const MAX_PLAUSIBLE_OVERRUN: u64 = 16 * 1024 * 1024;

/// MP4 index boxes larger than this are not read into memory.
const MAX_INDEX_BOX: u64 = 64 * 1024 * 1024;

/// Bounds on nesting, so hostile files cannot make the walk recurse without end.
const MAX_DEPTH: usize = 16;

/// Checks the structure of `container` in `source` (of `len` bytes); `Err` explains which
/// size is impossible. Leaves `source` at the start.
pub(crate) fn check<R: Read + Seek>(
    container: Container,
    source: &mut R,
    len: u64,
) -> io::Result<Result<(), String>> {
    let verdict = match container {
        Container::Matroska => check_matroska(&mut BufReader::new(&mut *source), len)?,
        Container::Mp4 => check_mp4(source, len)?,
        Container::Caf => check_caf(source, len)?,
        Container::Wav => check_riff(source, len)?,
        _ => Ok(()),
    };
    source.seek(SeekFrom::Start(0))?;
    Ok(verdict)
}

// ---------------------------------------------------------------------------------------
// Matroska / WebM (EBML)

/// EBML master elements (they contain other elements) from the Matroska specification.
const EBML_MASTERS: &[u32] = &[
    0x1A45_DFA3, // EBML
    0x1853_8067, // Segment
    0x114D_9B74, // SeekHead
    0x4DBB,      // Seek
    0x1549_A966, // Info
    0x6924,      // ChapterTranslate
    0x1F43_B675, // Cluster
    0x5854,      // SilentTracks
    0xA0,        // BlockGroup
    0x75A1,      // BlockAdditions
    0xA6,        // BlockMore
    0x8E,        // Slices
    0xE8,        // TimeSlice
    0x1654_AE6B, // Tracks
    0xAE,        // TrackEntry
    0x6624,      // TrackTranslate
    0xE0,        // Video
    0x55B0,      // Colour
    0x55D0,      // MasteringMetadata
    0x7670,      // Projection
    0xE1,        // Audio
    0xE2,        // TrackOperation
    0xE3,        // TrackCombinePlanes
    0xE4,        // TrackPlane
    0xE9,        // TrackJoinBlocks
    0x41E4,      // BlockAdditionMapping
    0x6D80,      // ContentEncodings
    0x6240,      // ContentEncoding
    0x5034,      // ContentCompression
    0x5035,      // ContentEncryption
    0x47E7,      // ContentEncAESSettings
    0x1C53_BB6B, // Cues
    0xBB,        // CuePoint
    0xB7,        // CueTrackPositions
    0xDB,        // CueReference
    0x1941_A469, // Attachments
    0x61A7,      // AttachedFile
    0x1043_A770, // Chapters
    0x45B9,      // EditionEntry
    0xB6,        // ChapterAtom
    0x8F,        // ChapterTrack
    0x80,        // ChapterDisplay
    0x6944,      // ChapProcess
    0x6911,      // ChapProcessCommand
    0x1254_C367, // Tags
    0x7373,      // Tag
    0x63C0,      // Targets
    0x67C8,      // SimpleTag
];

/// Reads one EBML variable-length integer; returns (value with marker removed, length,
/// all-value-bits-set) or `None` at end of file or on an invalid leading byte.
fn read_vint<R: Read>(r: &mut R, keep_marker: bool) -> io::Result<Option<(u64, u64, bool)>> {
    let mut first = [0u8; 1];
    if r.read(&mut first)? == 0 {
        return Ok(None);
    }
    let len = first[0].leading_zeros() as u64 + 1;
    if len > 8 {
        return Ok(None);
    }
    let mut value = u64::from(first[0]);
    if !keep_marker {
        value &= (1u64 << (8 - len)) - 1;
    }
    for _ in 1..len {
        let mut byte = [0u8; 1];
        if r.read(&mut byte)? == 0 {
            return Ok(None);
        }
        value = (value << 8) | u64::from(byte[0]);
    }
    let all_ones = !keep_marker && value == (1u64 << (7 * len)) - 1;
    Ok(Some((value, len, all_ones)))
}

fn check_matroska<R: Read + Seek>(
    r: &mut BufReader<R>,
    len: u64,
) -> io::Result<Result<(), String>> {
    r.seek(SeekFrom::Start(0))?;
    // Open master elements as (id, end); unknown sizes end at the end of the file.
    let mut open: Vec<(u32, u64)> = Vec::new();
    let mut pos = 0u64;
    let mut block = Vec::new();
    // Every element header takes at least two bytes, so this bounds the walk.
    for _ in 0..len / 2 + 1 {
        while open.last().is_some_and(|&(_, end)| pos >= end) {
            open.pop();
        }
        if pos >= len {
            break;
        }
        let Some((id, id_len, _)) = read_vint(r, true)? else {
            break;
        };
        let Some((size, size_len, unknown)) = read_vint(r, false)? else {
            break;
        };
        let id = id as u32;
        // A Segment-level element closes any open element of unknown size below the
        // Segment: live recordings (browser MediaRecorder) write every Cluster that way.
        if SEGMENT_CHILDREN.contains(&id) {
            while open
                .last()
                .is_some_and(|&(open_id, _)| open_id != SEGMENT_ID)
            {
                open.pop();
            }
        }
        let data_pos = pos + id_len + size_len;
        let remaining = len.saturating_sub(data_pos);
        if EBML_MASTERS.contains(&id) {
            // Masters may be of unknown size (live streams) or run past the end of a cut
            // file; their children are checked one by one.
            let end = if unknown {
                len
            } else {
                data_pos.saturating_add(size).min(len)
            };
            if open.len() >= MAX_DEPTH {
                return Ok(Err("Matroska elements are nested too deeply".into()));
            }
            open.push((id, end));
            pos = data_pos;
            continue;
        }
        if unknown || (size > remaining && size - remaining > MAX_PLAUSIBLE_OVERRUN) {
            return Ok(Err(format!(
                "a Matroska element (id 0x{id:X}) claims {size} bytes but the file has {remaining} left"
            )));
        }
        pos = data_pos.saturating_add(size);
        if pos >= len {
            break;
        }
        // Blocks carry their own frame sizes (lacing), which symphonia also allocates as
        // declared; a block is small, so read it and check them.
        if (id == SIMPLE_BLOCK_ID || id == BLOCK_ID) && size <= MAX_PLAUSIBLE_OVERRUN {
            block.resize(size as usize, 0);
            r.read_exact(&mut block)?;
            if !lacing_fits(&block) {
                return Ok(Err(
                    "a Matroska block lists frames larger than itself".into()
                ));
            }
        } else {
            r.seek_relative(size as i64)?;
        }
    }
    Ok(Ok(()))
}

const SEGMENT_ID: u32 = 0x1853_8067;
const SIMPLE_BLOCK_ID: u32 = 0xA3;
const BLOCK_ID: u32 = 0xA1;

/// Elements that only ever sit directly inside the Segment.
const SEGMENT_CHILDREN: &[u32] = &[
    0x114D_9B74, // SeekHead
    0x1549_A966, // Info
    0x1654_AE6B, // Tracks
    0x1F43_B675, // Cluster
    0x1C53_BB6B, // Cues
    0x1941_A469, // Attachments
    0x1043_A770, // Chapters
    0x1254_C367, // Tags
];

/// Whether the laced frame sizes in a (Simple)Block fit inside it.
fn lacing_fits(block: &[u8]) -> bool {
    let mut r = block;
    // Track number (vint), 16-bit timecode, flags.
    let Ok(Some((_, track_len, _))) = read_vint(&mut r, false) else {
        return false;
    };
    let Some(&flags) = block.get(track_len as usize + 2) else {
        return false;
    };
    let lacing = (flags >> 1) & 0b11;
    if lacing == 0 || lacing == 0b10 {
        // No lacing, or fixed-size lacing (sizes derived from the block length).
        return true;
    }
    let mut r = &block[(track_len as usize + 3).min(block.len())..];
    let Some((&count, rest)) = r.split_first() else {
        return false;
    };
    r = rest;
    let total = block.len() as u64;
    let mut sum = 0u64;
    let mut last = 0i128;
    for i in 0..usize::from(count) {
        let size: i128 = if lacing == 0b01 {
            // Xiph lacing: runs of 255 plus a final byte.
            let mut size = 0i128;
            loop {
                let Some((&byte, rest)) = r.split_first() else {
                    return false;
                };
                r = rest;
                size += i128::from(byte);
                if byte != 255 {
                    break;
                }
            }
            size
        } else {
            // EBML lacing: the first size, then signed differences.
            let Ok(Some((value, vlen, _))) = read_vint(&mut r, false) else {
                return false;
            };
            if i == 0 {
                i128::from(value)
            } else {
                let bias = (1i128 << (7 * vlen - 1)) - 1;
                last + i128::from(value) - bias
            }
        };
        if size < 0 || size > i128::from(total) {
            return false;
        }
        last = size;
        sum += size as u64;
        if sum > total {
            return false;
        }
    }
    true
}

// ---------------------------------------------------------------------------------------
// MP4 / MOV

/// Boxes that hold only other boxes.
const MP4_CONTAINERS: &[&[u8; 4]] = &[
    b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"dinf", b"udta", b"mvex", b"moof",
    b"traf", b"mfra", b"tref", b"ilst", b"wave",
];

/// Audio sample entries whose fixed fields are followed by child boxes (esds, dOps, ...).
const MP4_SAMPLE_ENTRIES: &[&[u8; 4]] = &[
    b"mp4a", b"Opus", b"fLaC", b"alac", b"lpcm", b"sowt", b"twos", b"raw ", b"ulaw", b"alaw",
    b"in24", b"in32", b"fl32", b"fl64", b"enca", b"ac-3", b"ec-3", b"samr", b"sawb",
];

fn check_mp4<R: Read + Seek>(r: &mut R, len: u64) -> io::Result<Result<(), String>> {
    let mut pos = 0u64;
    for _ in 0..4096 {
        if pos + 8 > len {
            break;
        }
        r.seek(SeekFrom::Start(pos))?;
        let mut header = [0u8; 16];
        let got = read_full(r, &mut header)?;
        let Some((kind, size, header_len)) = parse_box_header(&header[..got], len - pos) else {
            break;
        };
        if matches!(&kind, b"moov" | b"moof") {
            if pos + size > len {
                // A cut file: symphonia reports the missing index; nothing to read safely.
                break;
            }
            if size > MAX_INDEX_BOX {
                return Ok(Err(format!(
                    "the MP4 {} box is implausibly large",
                    fourcc(&kind)
                )));
            }
            let mut body = vec![0u8; (size - header_len) as usize];
            r.seek(SeekFrom::Start(pos + header_len))?;
            r.read_exact(&mut body)?;
            if let Err(e) = check_mp4_children(&body, 0, &kind) {
                return Ok(Err(e));
            }
        }
        pos = match pos.checked_add(size) {
            Some(next) => next,
            None => break,
        };
    }
    Ok(Ok(()))
}

/// Parses a box header; `avail` is how many bytes the enclosing space has. Size 0 means
/// "to the end". Returns (type, total size, header length).
fn parse_box_header(h: &[u8], avail: u64) -> Option<([u8; 4], u64, u64)> {
    if h.len() < 8 {
        return None;
    }
    let kind = [h[4], h[5], h[6], h[7]];
    let size32 = u64::from(u32::from_be_bytes([h[0], h[1], h[2], h[3]]));
    let (size, header_len) = match size32 {
        0 => (avail, 8),
        1 if h.len() >= 16 => (u64::from_be_bytes(h[8..16].try_into().ok()?), 16),
        1 => return None,
        n => (n, 8),
    };
    (size >= header_len).then_some((kind, size, header_len))
}

fn fourcc(kind: &[u8; 4]) -> String {
    kind.iter()
        .map(|&b| if b.is_ascii_graphic() { b as char } else { '?' })
        .collect()
}

/// Checks that every child box fits in its parent and every table fits in its box.
fn check_mp4_children(data: &[u8], depth: usize, parent: &[u8; 4]) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err("MP4 boxes are nested too deeply".into());
    }
    let mut pos = 0usize;
    while pos + 8 <= data.len() {
        let rest = &data[pos..];
        let (kind, size, header_len) = parse_box_header(rest, rest.len() as u64)
            .ok_or_else(|| "an MP4 box header is invalid".to_string())?;
        if size > rest.len() as u64 {
            return Err(format!(
                "the MP4 {} box claims {size} bytes but its parent has {} left",
                fourcc(&kind),
                rest.len()
            ));
        }
        let body = &rest[header_len as usize..size as usize];
        if parent == b"ilst" {
            // Metadata items ("©nam", "covr", ...) hold `data` boxes that symphonia reads
            // into buffers of their declared size.
            check_mp4_children(body, depth + 1, &kind)?;
        } else {
            check_mp4_box(&kind, body, depth)?;
        }
        pos += size as usize;
    }
    Ok(())
}

fn check_mp4_box(kind: &[u8; 4], body: &[u8], depth: usize) -> Result<(), String> {
    let be32 = |at: usize| -> Option<u64> {
        body.get(at..at + 4)
            .map(|b| u64::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]])))
    };
    // Tables: (offset of the entry count, bytes per entry, offset of the first entry).
    let table = match kind {
        b"stco" | b"stss" => Some((4, 4, 8)),
        b"co64" | b"stts" | b"ctts" => Some((4, 8, 8)),
        b"stsc" => Some((4, 12, 8)),
        b"elst" => Some((4, if body.first() == Some(&1) { 20 } else { 12 }, 8)),
        // stsz lists sizes only when the common sample size is 0.
        b"stsz" if be32(4) == Some(0) => Some((8, 4, 12)),
        b"trun" => {
            let flags = be32(0).unwrap_or(0) & 0x00FF_FFFF;
            let first = 8 + 4 * usize::from(flags & 0x1 != 0) + 4 * usize::from(flags & 0x4 != 0);
            let per_sample = 4 * (flags & 0xF00).count_ones() as u64;
            Some((4, per_sample, first))
        }
        _ => None,
    };
    if let Some((count_at, entry_len, first)) = table {
        let count =
            be32(count_at).ok_or_else(|| format!("the MP4 {} box is too short", fourcc(kind)))?;
        let needed = (first as u64).saturating_add(count.saturating_mul(entry_len));
        if needed > body.len() as u64 {
            return Err(format!(
                "the MP4 {} table lists {count} entries but holds {} bytes",
                fourcc(kind),
                body.len()
            ));
        }
        return Ok(());
    }
    if MP4_CONTAINERS.contains(&kind) {
        return check_mp4_children(body, depth + 1, kind);
    }
    match kind {
        // ISO `meta` is a full box (version and flags first); QuickTime's is not.
        b"meta" => {
            let offset = if body.get(4..8) == Some(b"hdlr") {
                0
            } else {
                4
            };
            check_mp4_children(body.get(offset..).unwrap_or_default(), depth + 1, kind)
        }
        b"stsd" => check_mp4_children(body.get(8..).unwrap_or_default(), depth + 1, kind),
        _ if MP4_SAMPLE_ENTRIES.contains(&kind) => {
            // Sound sample entry: 28 bytes of fields in version 0; QuickTime versions 1 and 2
            // add 16 and 36 bytes.
            let version = body
                .get(8..10)
                .map_or(0, |v| u16::from_be_bytes([v[0], v[1]]));
            let offset = match version {
                1 => 44,
                2 => 64,
                _ => 28,
            };
            check_mp4_children(body.get(offset..).unwrap_or_default(), depth + 1, kind)
        }
        _ => Ok(()),
    }
}

fn read_full<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

// ---------------------------------------------------------------------------------------
// CAF and RIFF/WAV (flat chunk lists)

fn check_caf<R: Read + Seek>(r: &mut R, len: u64) -> io::Result<Result<(), String>> {
    let mut pos = 8u64; // after "caff", version and flags
    for _ in 0..4096 {
        if pos + 12 > len {
            break;
        }
        r.seek(SeekFrom::Start(pos))?;
        let mut header = [0u8; 12];
        r.read_exact(&mut header)?;
        let kind = [header[0], header[1], header[2], header[3]];
        let size = i64::from_be_bytes(header[4..12].try_into().unwrap_or_default());
        let remaining = len - pos - 12;
        if &kind == b"data" && (size == -1 || size as u64 > remaining) {
            // Audio data of unknown length, or cut short: it is the last chunk either way.
            break;
        }
        if size < 0 || size as u64 > remaining {
            return Ok(Err(format!(
                "the CAF {} chunk claims {size} bytes but the file has {remaining} left",
                fourcc(&kind)
            )));
        }
        if &kind == b"pakt" && size >= 8 {
            // Each packet description takes at least one byte.
            let mut packets = [0u8; 8];
            r.read_exact(&mut packets)?;
            if i64::from_be_bytes(packets) as u64 > size as u64 {
                return Ok(Err(
                    "the CAF packet table lists more packets than it holds".into()
                ));
            }
        }
        pos += 12 + size as u64;
    }
    Ok(Ok(()))
}

fn check_riff<R: Read + Seek>(r: &mut R, len: u64) -> io::Result<Result<(), String>> {
    let mut pos = 12u64; // after "RIFF", size and "WAVE"
    for _ in 0..4096 {
        if pos + 8 > len {
            break;
        }
        r.seek(SeekFrom::Start(pos))?;
        let mut header = [0u8; 8];
        r.read_exact(&mut header)?;
        let kind = [header[0], header[1], header[2], header[3]];
        let size = u64::from(u32::from_le_bytes([
            header[4], header[5], header[6], header[7],
        ]));
        if &kind == b"data" {
            break;
        }
        let remaining = len - pos - 8;
        // symphonia reads LIST/INFO chunks into a buffer of the declared size.
        if size > remaining && size - remaining > MAX_PLAUSIBLE_OVERRUN {
            return Ok(Err(format!(
                "the WAV {} chunk claims {size} bytes but the file has {remaining} left",
                fourcc(&kind)
            )));
        }
        pos += 8 + size + (size & 1);
    }
    Ok(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn run(container: Container, bytes: &[u8]) -> Result<(), String> {
        check(container, &mut Cursor::new(bytes), bytes.len() as u64).unwrap()
    }

    /// EBML element with an 8-byte size field.
    fn element(id: &[u8], size: u64, payload: &[u8]) -> Vec<u8> {
        let mut out = id.to_vec();
        out.extend_from_slice(&(size | (1 << 56)).to_be_bytes());
        out.extend_from_slice(payload);
        out
    }

    #[test]
    fn matroska_with_a_terabyte_codec_private_is_rejected() {
        let header = element(
            &[0x1A, 0x45, 0xDF, 0xA3],
            14,
            &element(&[0x42, 0x82], 4, b"webm"),
        );
        let private = element(&[0x63, 0xA2], 1 << 40, b"OpusHead");
        let entry = element(&[0xAE], 1 << 41, &private);
        let tracks = element(&[0x16, 0x54, 0xAE, 0x6B], 1 << 42, &entry);
        let mut file = header;
        file.extend_from_slice(&[
            0x18, 0x53, 0x80, 0x67, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        ]);
        file.extend(tracks);
        let verdict = run(Container::Matroska, &file);
        assert!(verdict.unwrap_err().contains("0x63A2"));
    }

    #[test]
    fn block_lacing_must_fit_in_the_block() {
        // Track 1, timecode 0, EBML lacing, two frames: first size 3 fits, 2^40 does not.
        assert!(lacing_fits(&[
            0x81, 0, 0, 0x06, 1, 0x83, 0xAA, 0xBB, 0xCC, 0xDD
        ]));
        let mut hostile = vec![0x81, 0, 0, 0x06, 1, 0x01, 0, 0, 0, 0x10, 0, 0, 0];
        hostile.extend_from_slice(&[0u8; 8]);
        assert!(!lacing_fits(&hostile));
        // Xiph lacing, one 255+255+10 byte frame in a short block.
        assert!(!lacing_fits(&[0x81, 0, 0, 0x02, 1, 255, 255, 10, 0]));
    }

    #[test]
    fn live_stream_clusters_of_unknown_size_are_siblings() {
        const UNKNOWN: [u8; 8] = [0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];
        let mut file = vec![0x18, 0x53, 0x80, 0x67];
        file.extend_from_slice(&UNKNOWN);
        for _ in 0..40 {
            file.extend_from_slice(&[0x1F, 0x43, 0xB6, 0x75]);
            file.extend_from_slice(&UNKNOWN);
            file.extend(element(&[0xA3], 8, &[0x81, 0, 0, 0x80, 1, 2, 3, 4]));
        }
        assert_eq!(run(Container::Matroska, &file), Ok(()));
    }

    #[test]
    fn cut_matroska_is_accepted() {
        // A cluster whose block runs a little past the end, as in a cut upload.
        let block = element(&[0xA3], 4000, &[0u8; 100]);
        let cluster = element(&[0x1F, 0x43, 0xB6, 0x75], 100_000, &block);
        assert_eq!(run(Container::Matroska, &cluster), Ok(()));
    }

    fn mp4_box(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(body);
        out
    }

    #[test]
    fn mp4_table_larger_than_its_box_is_rejected() {
        let mut co64 = vec![0u8; 4];
        co64.extend_from_slice(&u32::MAX.to_be_bytes());
        let stbl = mp4_box(b"stbl", &mp4_box(b"co64", &co64));
        let moov = mp4_box(b"moov", &mp4_box(b"trak", &stbl));
        let file = [mp4_box(b"ftyp", b"isom\0\0\0\0"), moov].concat();
        assert!(run(Container::Mp4, &file).unwrap_err().contains("co64"));
    }

    #[test]
    fn mp4_child_larger_than_parent_is_rejected() {
        let mut hdlr = (1u32).to_be_bytes().to_vec();
        hdlr.extend_from_slice(b"hdlr");
        hdlr.extend_from_slice(&(1u64 << 40).to_be_bytes());
        let moov = mp4_box(b"moov", &mp4_box(b"trak", &hdlr));
        let file = [mp4_box(b"ftyp", b"isom\0\0\0\0"), moov].concat();
        assert!(run(Container::Mp4, &file).unwrap_err().contains("hdlr"));
    }

    #[test]
    fn wav_info_chunk_claiming_gigabytes_is_rejected() {
        let mut wav = b"RIFF\xff\xff\xff\xffWAVE".to_vec();
        wav.extend_from_slice(b"LIST\xf0\xff\xff\x7fINFO");
        assert!(run(Container::Wav, &wav).is_err());
    }
}
