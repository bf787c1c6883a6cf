//! MP4 edit lists (`moov/trak/edts/elst`): how much encoder priming to drop from a track.
//!
//! AAC encoders prepend ~1024-2112 samples of priming and pad the last frame; MP4 writers
//! record the real start and length of the audio in the edit list. symphonia parses the box
//! but does not apply it, so an AAC track would decode 60-130 ms too long. This module
//! reads just enough of the `moov` box to recover, per track, the priming to skip and the
//! presentation length to keep.

use std::io::{self, Read, Seek, SeekFrom};

/// `moov` boxes larger than this are not read (a normal one is a few hundred KiB at most).
const MAX_MOOV_LEN: u64 = 64 * 1024 * 1024;

/// Bound on top-level boxes walked before giving up on finding `moov`.
const MAX_TOP_LEVEL_BOXES: usize = 4096;

/// Bound on how deep we follow nested boxes; the boxes we need are at depth 4.
const MAX_DEPTH: usize = 6;

/// The edit of one track, in that track's units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TrackEdit {
    /// Position of the `trak` box in `moov`, which is the track id symphonia assigns.
    pub track_index: u32,
    /// Samples of priming to drop, in the media (`mdhd`) timescale.
    pub skip: u64,
    pub media_timescale: u32,
    /// Presentation length in the movie (`mvhd`) timescale, if the edit states one.
    pub keep: Option<u64>,
    pub movie_timescale: u32,
}

impl TrackEdit {
    /// Converts the edit into frame counts at the rate the decoder actually produces (which
    /// differs from the media timescale for e.g. HE-AAC decoded without SBR).
    pub fn in_frames(&self, decoded_rate: u32) -> (u64, Option<u64>) {
        let scale = |value: u64, timescale: u32| -> u64 {
            if timescale == 0 {
                return 0;
            }
            let scaled = u128::from(value) * u128::from(decoded_rate) / u128::from(timescale);
            u64::try_from(scaled).unwrap_or(u64::MAX)
        };
        let skip = scale(self.skip, self.media_timescale);
        let keep = self.keep.map(|k| scale(k, self.movie_timescale));
        (skip, keep)
    }
}

/// Reads the edit lists of all tracks. Any structural problem yields an empty list: the
/// demuxer reports real damage, and without edits we merely keep the priming.
pub(crate) fn read_track_edits<R: Read + Seek>(source: &mut R) -> io::Result<Vec<TrackEdit>> {
    let edits = match find_moov(source)? {
        Some(moov) => parse_moov(&moov),
        None => Vec::new(),
    };
    source.seek(SeekFrom::Start(0))?;
    Ok(edits)
}

/// Walks top-level boxes and returns the body of `moov`.
fn find_moov<R: Read + Seek>(source: &mut R) -> io::Result<Option<Vec<u8>>> {
    let file_len = source.seek(SeekFrom::End(0))?;
    let mut pos = 0u64;
    for _ in 0..MAX_TOP_LEVEL_BOXES {
        if pos + 8 > file_len {
            return Ok(None);
        }
        source.seek(SeekFrom::Start(pos))?;
        let mut header = [0u8; 16];
        let got = read_up_to(source, &mut header)?;
        if got < 8 {
            return Ok(None);
        }
        let size32 = u64::from(be_u32(&header[0..4]));
        let kind = [header[4], header[5], header[6], header[7]];
        let (size, header_len) = match size32 {
            0 => (file_len - pos, 8),
            1 if got >= 16 => (be_u64(&header[8..16]), 16),
            _ => (size32, 8),
        };
        if size < header_len {
            return Ok(None);
        }
        if &kind == b"moov" {
            let body_len = size - header_len;
            if body_len > MAX_MOOV_LEN || pos + size > file_len {
                return Ok(None);
            }
            source.seek(SeekFrom::Start(pos + header_len))?;
            let mut body = vec![0u8; body_len as usize];
            source.read_exact(&mut body)?;
            return Ok(Some(body));
        }
        pos = match pos.checked_add(size) {
            Some(next) => next,
            None => return Ok(None),
        };
    }
    Ok(None)
}

fn read_up_to<R: Read>(source: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match source.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

fn be_u32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

fn be_u64(b: &[u8]) -> u64 {
    u64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
}

/// Iterates over the child boxes in `data`, yielding `(type, body)`; stops at the first
/// malformed header.
fn boxes(data: &[u8]) -> impl Iterator<Item = ([u8; 4], &[u8])> {
    let mut pos = 0usize;
    std::iter::from_fn(move || {
        let rest = data.get(pos..)?;
        if rest.len() < 8 {
            return None;
        }
        let size32 = be_u32(&rest[0..4]) as usize;
        let kind = [rest[4], rest[5], rest[6], rest[7]];
        let (size, header_len) = match size32 {
            0 => (rest.len(), 8),
            1 if rest.len() >= 16 => (usize::try_from(be_u64(&rest[8..16])).ok()?, 16),
            _ => (size32, 8),
        };
        if size < header_len || size > rest.len() {
            return None;
        }
        pos += size;
        Some((kind, &rest[header_len..size]))
    })
}

/// Finds the first box of `kind` along a path of nested boxes.
fn find_path<'a>(data: &'a [u8], path: &[&[u8; 4]]) -> Option<&'a [u8]> {
    if path.len() > MAX_DEPTH {
        return None;
    }
    let (first, rest) = path.split_first()?;
    let body = boxes(data).find(|(kind, _)| kind == *first)?.1;
    if rest.is_empty() {
        Some(body)
    } else {
        find_path(body, rest)
    }
}

fn parse_moov(moov: &[u8]) -> Vec<TrackEdit> {
    let Some(movie_timescale) = find_path(moov, &[b"mvhd"]).and_then(header_timescale) else {
        return Vec::new();
    };
    boxes(moov)
        .filter(|(kind, _)| kind == b"trak")
        .zip(0u32..)
        .filter_map(|((_, trak), index)| parse_trak(trak, index, movie_timescale))
        .collect()
}

fn parse_trak(trak: &[u8], track_index: u32, movie_timescale: u32) -> Option<TrackEdit> {
    let media_timescale = find_path(trak, &[b"mdia", b"mdhd"]).and_then(header_timescale)?;
    let elst = find_path(trak, &[b"edts", b"elst"])?;
    let (skip, keep) = parse_elst(elst)?;
    Some(TrackEdit {
        track_index,
        skip,
        media_timescale,
        keep,
        movie_timescale,
    })
}

/// `mvhd` and `mdhd` share a layout up to the timescale: version/flags, then two times that
/// are 32-bit in version 0 and 64-bit in version 1.
fn header_timescale(body: &[u8]) -> Option<u32> {
    let offset = match *body.first()? {
        0 => 12,
        1 => 20,
        _ => return None,
    };
    let timescale = be_u32(body.get(offset..offset + 4)?);
    (timescale > 0).then_some(timescale)
}

/// Returns (media time to skip, presentation length) for the common single-edit case.
/// Leading empty edits (media_time == -1) insert silence, which we do not reproduce; edit
/// lists with several real edits are rare and ambiguous, so they are ignored.
fn parse_elst(body: &[u8]) -> Option<(u64, Option<u64>)> {
    let version = *body.first()?;
    let count = be_u32(body.get(4..8)?) as usize;
    let entry_len = if version == 1 { 20 } else { 12 };
    let mut real_edits = Vec::new();
    for i in 0..count.min(64) {
        let entry = body.get(8 + i * entry_len..8 + (i + 1) * entry_len)?;
        let (duration, media_time) = if version == 1 {
            (be_u64(&entry[0..8]), be_u64(&entry[8..16]) as i64)
        } else {
            (
                u64::from(be_u32(&entry[0..4])),
                i64::from(be_u32(&entry[4..8]) as i32),
            )
        };
        if media_time >= 0 {
            real_edits.push((media_time as u64, duration));
        }
    }
    match real_edits.as_slice() {
        [(skip, duration)] => Some((*skip, (*duration > 0).then_some(*duration))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn make_box(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(body);
        out
    }

    fn v0_header(timescale_offset_value: u32) -> Vec<u8> {
        let mut body = vec![0u8; 12];
        body.extend_from_slice(&timescale_offset_value.to_be_bytes());
        body.extend_from_slice(&[0u8; 8]);
        body
    }

    #[test]
    fn reads_aac_priming_edit() {
        let mvhd = make_box(b"mvhd", &v0_header(1000));
        let mdhd = make_box(b"mdhd", &v0_header(16_000));
        let mut elst_body = vec![0u8, 0, 0, 0, 0, 0, 0, 1];
        elst_body.extend_from_slice(&11_000u32.to_be_bytes());
        elst_body.extend_from_slice(&1024u32.to_be_bytes());
        elst_body.extend_from_slice(&0x0001_0000u32.to_be_bytes());
        let edts = make_box(b"edts", &make_box(b"elst", &elst_body));
        let mdia = make_box(b"mdia", &mdhd);
        let trak = make_box(b"trak", &[edts, mdia].concat());
        let moov = make_box(b"moov", &[mvhd, trak].concat());
        let file = [
            make_box(b"ftyp", b"M4A \0\0\0\0"),
            make_box(b"mdat", &[0; 32]),
            moov,
        ]
        .concat();

        let edits = read_track_edits(&mut Cursor::new(file)).unwrap();
        assert_eq!(edits.len(), 1);
        let edit = edits[0];
        assert_eq!(edit.track_index, 0);
        assert_eq!(edit.in_frames(16_000), (1024, Some(176_000)));
        // Decoding HE-AAC without SBR halves the rate; the edit must scale with it.
        assert_eq!(edit.in_frames(8_000), (512, Some(88_000)));
    }

    #[test]
    fn garbage_gives_no_edits() {
        let edits = read_track_edits(&mut Cursor::new(vec![0xAB; 100])).unwrap();
        assert!(edits.is_empty());
    }
}
