//! Content sniffing: decides what container a byte stream holds from its leading bytes.
//!
//! The file name is never consulted: users upload MP3s named `.wav` and the like. We sniff
//! ourselves instead of relying on symphonia's probe alone because the probe scans up to
//! 1 MiB for *any* two-byte marker, so text or headerless PCM can be mistaken for ADTS or
//! MPEG audio. Here a container must start at the beginning of the stream (after ID3v2
//! tags), and a bare MPEG/ADTS stream must show several consecutive, consistent frame
//! headers before we believe it.

use std::io::{self, Read, Seek, SeekFrom};

/// How many bytes after the tags we inspect. Enough for every header signature and for
/// finding an MPEG stream behind some leading junk.
const WINDOW_LEN: usize = 64 * 1024;

/// Upper bound on stacked ID3v2 tags; real files have one, a loop over a hostile file must end.
const MAX_ID3_TAGS: usize = 8;

/// Consecutive frame headers needed to accept a bare MPEG/ADTS stream.
const FRAMES_TO_CONFIRM: usize = 3;

/// Containers we can hand to a symphonia demuxer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Container {
    Wav,
    Aiff,
    Caf,
    Flac,
    MpegAudio,
    Adts,
    Ogg,
    Matroska,
    Mp4,
}

/// What sniffing found out about a stream we can demux.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sniffed {
    pub container: Container,
    /// Byte offset at which the container starts (after ID3v2 tags or junk before MPEG frames).
    pub start: u64,
    /// For bare MPEG audio: the first frame carries a Xing/Info/VBRI header, so the frame
    /// count the demuxer reports is exact rather than estimated from the bitrate.
    pub mpeg_length_tag: bool,
    /// For WAV: facts from the `fmt `/`data` chunks, used to name unsupported codecs.
    pub wav: Option<WavInfo>,
}

/// The interesting fields of a WAV header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WavInfo {
    /// `wFormatTag`, or the first two bytes of the sub-format GUID for WAVE_FORMAT_EXTENSIBLE.
    pub format_tag: u16,
    /// Length of the `data` chunk, when it lies inside the sniffed window. Streaming writers
    /// put 0 or 0xFFFF_FFFF here, so it is only a hint.
    pub data_len: Option<u32>,
}

/// The verdict of sniffing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SniffOutcome {
    Audio(Sniffed),
    /// A container we recognise but cannot decode; the string names it for the user.
    Unsupported(&'static str),
    /// ID3 tags and nothing after them (an MP3 cut inside its tag, or a tag-only file).
    TagOnly,
    NotAudio,
}

/// Sniffs `source` (any position) and leaves it positioned at the start.
pub(crate) fn sniff<R: Read + Seek>(source: &mut R) -> io::Result<SniffOutcome> {
    let start = skip_id3v2_tags(source)?;
    let window = read_at(source, start, WINDOW_LEN)?;
    source.seek(SeekFrom::Start(0))?;
    if start > 0 && window.is_empty() {
        return Ok(SniffOutcome::TagOnly);
    }
    Ok(classify(&window, start))
}

/// How far from the end we look for the last Ogg page (pages are at most ~64 KiB).
const OGG_TAIL_LEN: u64 = 80 * 1024;

/// What the last page of an Ogg file says about the stream's end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OggTail {
    /// The file ends with a whole page carrying the end-of-stream flag.
    pub complete: bool,
    /// Serial number (symphonia's track id) and granule position of that last page: the
    /// stream's total length in samples, for detecting pages lost mid-stream.
    pub serial: u32,
    pub granule: u64,
}

/// Reads the last page of an Ogg file. symphonia reports no length for a cut Ogg file, or
/// when damage stops its own end-of-file scan, so this is how we notice lost audio.
pub(crate) fn ogg_tail<R: Read + Seek>(source: &mut R) -> io::Result<Option<OggTail>> {
    let len = source.seek(SeekFrom::End(0))?;
    let tail_start = len.saturating_sub(OGG_TAIL_LEN);
    let tail = read_at(source, tail_start, OGG_TAIL_LEN as usize)?;
    source.seek(SeekFrom::Start(0))?;
    Ok(parse_ogg_tail(&tail))
}

fn parse_ogg_tail(tail: &[u8]) -> Option<OggTail> {
    // Walk back from the end to the last capture pattern that starts a valid page header.
    let mut end = tail.len();
    while let Some(pos) = tail[..end].windows(4).rposition(|w| w == b"OggS") {
        let page = &tail[pos..];
        if let Some(page_len) = ogg_page_len(page) {
            let granule = u64::from_le_bytes(page[6..14].try_into().ok()?);
            let serial = u32::from_le_bytes(page[14..18].try_into().ok()?);
            return Some(OggTail {
                // The page must be whole, flagged last, and be the last thing in the file.
                complete: page_len == page.len() && page[5] & 0x04 != 0,
                serial,
                granule,
            });
        }
        end = pos + 3;
    }
    None
}

/// Length of the Ogg page at the start of `page`, if its header is readable.
fn ogg_page_len(page: &[u8]) -> Option<usize> {
    // Capture pattern, version 0, then fixed fields up to the segment count at byte 26.
    if page.len() < 27 || page[4] != 0 {
        return None;
    }
    let segments = usize::from(page[26]);
    let table = page.get(27..27 + segments)?;
    Some(27 + segments + table.iter().map(|&b| usize::from(b)).sum::<usize>())
}

/// Returns the offset just past any ID3v2 tags at the start of the stream.
fn skip_id3v2_tags<R: Read + Seek>(source: &mut R) -> io::Result<u64> {
    let mut offset = 0u64;
    for _ in 0..MAX_ID3_TAGS {
        let header = read_at(source, offset, 10)?;
        match id3v2_tag_len(&header) {
            Some(len) => offset += len,
            None => break,
        }
    }
    Ok(offset)
}

/// Total length of the ID3v2 tag starting at `h`, if `h` is a valid tag header.
fn id3v2_tag_len(h: &[u8]) -> Option<u64> {
    if h.len() < 10 || &h[0..3] != b"ID3" || h[3] == 0xFF || h[4] == 0xFF {
        return None;
    }
    // The size is "syncsafe": four 7-bit groups, so a set top bit means this is not a tag.
    if h[6..10].iter().any(|b| b & 0x80 != 0) {
        return None;
    }
    let size = h[6..10]
        .iter()
        .fold(0u64, |acc, &b| (acc << 7) | u64::from(b));
    let footer = if h[5] & 0x10 != 0 { 10 } else { 0 };
    Some(10 + size + footer)
}

fn read_at<R: Read + Seek>(source: &mut R, offset: u64, len: usize) -> io::Result<Vec<u8>> {
    source.seek(SeekFrom::Start(offset))?;
    let mut buf = Vec::with_capacity(len);
    source.take(len as u64).read_to_end(&mut buf)?;
    Ok(buf)
}

/// Classifies the bytes found at `start` (after tags).
fn classify(w: &[u8], start: u64) -> SniffOutcome {
    let audio = |container| {
        SniffOutcome::Audio(Sniffed {
            container,
            start,
            mpeg_length_tag: false,
            wav: None,
        })
    };
    let at = |offset: usize, magic: &[u8]| w.get(offset..offset + magic.len()) == Some(magic);

    if at(0, b"RIFF") {
        return if at(8, b"WAVE") {
            SniffOutcome::Audio(Sniffed {
                container: Container::Wav,
                start,
                mpeg_length_tag: false,
                wav: parse_wav_info(w),
            })
        } else if at(8, b"AVI ") {
            SniffOutcome::Unsupported("AVI video")
        } else if at(8, b"RMID") {
            SniffOutcome::Unsupported("MIDI")
        } else {
            SniffOutcome::NotAudio
        };
    }
    if (at(0, b"RF64") || at(0, b"BW64")) && at(8, b"WAVE") {
        return SniffOutcome::Unsupported("RF64/BW64 (64-bit WAV)");
    }
    if at(0, b"RIFX") && at(8, b"WAVE") {
        return SniffOutcome::Unsupported("Big-endian RIFX WAV");
    }
    if at(0, b"FORM") && (at(8, b"AIFF") || at(8, b"AIFC")) {
        return audio(Container::Aiff);
    }
    if at(0, b"fLaC") {
        return audio(Container::Flac);
    }
    if at(0, b"OggS") {
        return audio(Container::Ogg);
    }
    if at(0, &[0x1A, 0x45, 0xDF, 0xA3]) {
        return audio(Container::Matroska);
    }
    if at(0, b"caff") {
        return audio(Container::Caf);
    }
    if is_iso_bmff(w) {
        return audio(Container::Mp4);
    }
    if let Some(name) = unsupported_signature(w) {
        return SniffOutcome::Unsupported(name);
    }
    match find_frame_stream(w) {
        Some((container, offset)) => {
            let mpeg_length_tag =
                container == Container::MpegAudio && has_mpeg_length_tag(&w[offset..]);
            SniffOutcome::Audio(Sniffed {
                container,
                start: start + offset as u64,
                mpeg_length_tag,
                wav: None,
            })
        }
        None => SniffOutcome::NotAudio,
    }
}

/// MP4/M4A/MOV/3GP: an ISO base media file starts with a box whose type is one of a few
/// well-known top-level boxes (`ftyp` normally; old QuickTime files start with others).
fn is_iso_bmff(w: &[u8]) -> bool {
    if w.len() < 8 {
        return false;
    }
    let size = u32::from_be_bytes([w[0], w[1], w[2], w[3]]);
    let kind = &w[4..8];
    // Size 1 means a 64-bit size follows; otherwise a box is at least its 8-byte header.
    let plausible_size = size == 1 || size >= 8;
    plausible_size
        && matches!(
            kind,
            b"ftyp" | b"moov" | b"mdat" | b"free" | b"skip" | b"wide"
        )
}

/// Signatures of audio formats symphonia cannot read, so users get a precise message
/// instead of "not audio".
fn unsupported_signature(w: &[u8]) -> Option<&'static str> {
    const ASF_GUID: [u8; 8] = [0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11];
    let starts = |magic: &[u8]| w.starts_with(magic);
    if starts(b"#!AMR-WB") {
        Some("AMR-WB")
    } else if starts(b"#!AMR") {
        Some("AMR")
    } else if starts(b".snd") {
        Some("Sun/NeXT AU")
    } else if starts(&ASF_GUID) {
        Some("WMA/ASF")
    } else if starts(b"wvpk") {
        Some("WavPack")
    } else if starts(b"MAC ") {
        Some("Monkey's Audio")
    } else if starts(b"MPCK") || starts(b"MP+") {
        Some("Musepack")
    } else if starts(b"TTA1") {
        Some("TTA")
    } else if starts(b"MThd") {
        Some("MIDI")
    } else if starts(b"DSD ") || starts(b"FRM8") {
        Some("DSD (DSF/DSDIFF)")
    } else {
        None
    }
}

/// Walks the RIFF chunks inside the window to find the format tag and data length.
fn parse_wav_info(w: &[u8]) -> Option<WavInfo> {
    let mut pos = 12usize;
    let mut format_tag = None;
    let mut data_len = None;
    // Every iteration advances by at least 8 bytes, so this ends within the window.
    while pos + 8 <= w.len() {
        let id = &w[pos..pos + 4];
        let len = u32::from_le_bytes([w[pos + 4], w[pos + 5], w[pos + 6], w[pos + 7]]);
        let body = pos + 8;
        if id == b"fmt " && body + 2 <= w.len() {
            let mut tag = u16::from_le_bytes([w[body], w[body + 1]]);
            // WAVE_FORMAT_EXTENSIBLE keeps the real format in the first two bytes of a GUID.
            if tag == 0xFFFE && body + 26 <= w.len() {
                tag = u16::from_le_bytes([w[body + 24], w[body + 25]]);
            }
            format_tag = Some(tag);
        } else if id == b"data" {
            data_len = Some(len);
            break;
        }
        // Chunks are padded to even length.
        let advance = 8u64 + u64::from(len) + u64::from(len & 1);
        pos = match usize::try_from(pos as u64 + advance) {
            Ok(next) => next,
            Err(_) => break,
        };
    }
    format_tag.map(|format_tag| WavInfo {
        format_tag,
        data_len,
    })
}

/// Names WAV format tags that symphonia has no decoder for. `None` means "try decoding".
pub(crate) fn unsupported_wav_codec(format_tag: u16) -> Option<String> {
    let name = match format_tag {
        // Formats symphonia decodes: PCM, MS ADPCM, IEEE float, A-law, mu-law, IMA ADPCM.
        0x0001 | 0x0002 | 0x0003 | 0x0006 | 0x0007 | 0x0011 => return None,
        0x0010 => "OKI ADPCM",
        0x0014 => "G.723 ADPCM",
        0x0017 => "Dialogic OKI ADPCM",
        0x0022 => "DSP Group TrueSpeech",
        0x0031 => "GSM 6.10",
        0x0032 => "MSN Audio (GSM 6.10)",
        0x0040 => "G.721 ADPCM",
        0x0042 => "G.723.1",
        0x0045 | 0x0064 => "G.726 ADPCM",
        0x0050 => "MPEG audio in WAV",
        0x0055 => "MP3 in WAV",
        0x0065 => "G.722 ADPCM",
        0x0092 | 0x2000 => "AC-3",
        0x00FF | 0x1600 | 0x1610 => "AAC in WAV",
        0x0160..=0x0163 => "Windows Media Audio",
        0x0130 => "ACELP.net",
        0x2001 => "DTS",
        other => return Some(format!("WAV format 0x{other:04X}")),
    };
    Some(name.to_string())
}

/// Finds the first offset in the window where a run of consistent MPEG audio or ADTS frame
/// headers starts.
fn find_frame_stream(w: &[u8]) -> Option<(Container, usize)> {
    let last = w.len().saturating_sub(4);
    (0..last).find_map(|offset| {
        if w[offset] != 0xFF {
            return None;
        }
        if frame_chain_ok(w, offset, parse_mpeg_header) {
            Some((Container::MpegAudio, offset))
        } else if frame_chain_ok(w, offset, parse_adts_header) {
            Some((Container::Adts, offset))
        } else {
            None
        }
    })
}

/// A parsed frame header: a key that must stay the same between frames, and the frame length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FrameHeader {
    key: u32,
    len: usize,
}

/// Checks that `FRAMES_TO_CONFIRM` consistent frames start at `offset`, or that the frames
/// there run exactly to the end of the stream (a very short file).
fn frame_chain_ok(w: &[u8], offset: usize, parse: fn(&[u8]) -> Option<FrameHeader>) -> bool {
    let Some(first) = parse(&w[offset..]) else {
        return false;
    };
    let mut pos = offset + first.len;
    for _ in 1..FRAMES_TO_CONFIRM {
        if pos >= w.len() {
            // Ran off the window: accept only if the window is the whole rest of the file
            // (we cannot tell here), so require the chain to end exactly at its end.
            return pos == w.len() && w.len() < WINDOW_LEN;
        }
        match parse(&w[pos..]) {
            Some(next) if next.key == first.key => pos += next.len,
            _ => return trailing_id3v1(w, pos) && w.len() < WINDOW_LEN,
        }
    }
    true
}

/// True when the bytes at `pos` are exactly a 128-byte ID3v1 tag ending the stream.
fn trailing_id3v1(w: &[u8], pos: usize) -> bool {
    w.len() == pos + 128 && w[pos..].starts_with(b"TAG")
}

/// Parses an MPEG-1/2/2.5 Layer I/II/III frame header.
fn parse_mpeg_header(h: &[u8]) -> Option<FrameHeader> {
    if h.len() < 4 || h[0] != 0xFF || h[1] & 0xE0 != 0xE0 {
        return None;
    }
    let version = (h[1] >> 3) & 0x03; // 0: MPEG-2.5, 1: reserved, 2: MPEG-2, 3: MPEG-1
    let layer = (h[1] >> 1) & 0x03; // 1: III, 2: II, 3: I, 0: reserved
    let bitrate_index = usize::from(h[2] >> 4);
    let rate_index = usize::from((h[2] >> 2) & 0x03);
    let padding = usize::from((h[2] >> 1) & 0x01);
    if version == 1 || layer == 0 || bitrate_index == 0 || bitrate_index == 15 || rate_index == 3 {
        return None;
    }
    // Emphasis value 2 is reserved; real encoders never write it.
    if h[3] & 0x03 == 2 {
        return None;
    }
    const RATES: [[u32; 3]; 3] = [
        [11_025, 12_000, 8_000],  // MPEG-2.5
        [22_050, 24_000, 16_000], // MPEG-2
        [44_100, 48_000, 32_000], // MPEG-1
    ];
    let rate = match version {
        0 => RATES[0][rate_index],
        2 => RATES[1][rate_index],
        _ => RATES[2][rate_index],
    };
    // Bitrates in kbit/s, index 1..=14 (ISO/IEC 11172-3 and 13818-3 tables).
    const V1_L1: [u32; 14] = [
        32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448,
    ];
    const V1_L2: [u32; 14] = [
        32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384,
    ];
    const V1_L3: [u32; 14] = [
        32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
    ];
    const V2_L1: [u32; 14] = [
        32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256,
    ];
    const V2_L23: [u32; 14] = [8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
    let table = match (version == 3, layer) {
        (true, 3) => &V1_L1,
        (true, 2) => &V1_L2,
        (true, _) => &V1_L3,
        (false, 3) => &V2_L1,
        (false, _) => &V2_L23,
    };
    let bitrate = table[bitrate_index - 1] * 1000;
    let len = match layer {
        3 => (12 * bitrate / rate) as usize * 4 + padding * 4,
        2 => (144 * bitrate / rate) as usize + padding,
        _ if version == 3 => (144 * bitrate / rate) as usize + padding,
        _ => (72 * bitrate / rate) as usize + padding,
    };
    Some(FrameHeader {
        key: (u32::from(version) << 8) | (u32::from(layer) << 4) | rate_index as u32,
        len,
    })
}

/// Parses an ADTS (raw AAC stream) frame header.
fn parse_adts_header(h: &[u8]) -> Option<FrameHeader> {
    if h.len() < 7 || h[0] != 0xFF || h[1] & 0xF6 != 0xF0 {
        return None;
    }
    let profile = h[2] >> 6;
    let rate_index = (h[2] >> 2) & 0x0F;
    let channels = ((h[2] & 0x01) << 2) | (h[3] >> 6);
    let len = (usize::from(h[3] & 0x03) << 11) | (usize::from(h[4]) << 3) | usize::from(h[5] >> 5);
    let header_len = if h[1] & 0x01 == 0 { 9 } else { 7 };
    if rate_index > 12 || len <= header_len {
        return None;
    }
    Some(FrameHeader {
        key: (u32::from(profile) << 8) | (u32::from(rate_index) << 4) | u32::from(channels),
        len,
    })
}

/// Whether the MPEG frame at the start of `w` carries a Xing/Info/VBRI header, which gives
/// an exact frame count (otherwise symphonia estimates the length from the bitrate).
fn has_mpeg_length_tag(w: &[u8]) -> bool {
    let Some(header) = parse_mpeg_header(w) else {
        return false;
    };
    let frame = &w[..header.len.min(w.len())];
    // The tag sits after the side information (at most 36 bytes in); search a little past it.
    let area = &frame[..frame.len().min(64)];
    area.windows(4)
        .any(|id| id == b"Xing" || id == b"Info" || id == b"VBRI")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn sniff_bytes(bytes: &[u8]) -> SniffOutcome {
        sniff(&mut Cursor::new(bytes)).unwrap()
    }

    /// A valid MPEG-1 Layer III header: 128 kbit/s, 44.1 kHz, no padding (417-byte frames).
    fn mp3_frames(n: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for _ in 0..n {
            let mut frame = vec![0u8; 417];
            frame[..4].copy_from_slice(&[0xFF, 0xFB, 0x90, 0x00]);
            out.extend_from_slice(&frame);
        }
        out
    }

    #[test]
    fn mpeg_header_frame_length() {
        let h = parse_mpeg_header(&[0xFF, 0xFB, 0x90, 0x00]).unwrap();
        assert_eq!(h.len, 417);
        // MPEG-2 Layer III, 64 kbit/s at 16 kHz: 72 * 64000 / 16000 = 288.
        let h = parse_mpeg_header(&[0xFF, 0xF3, 0x88, 0x00]).unwrap();
        assert_eq!(h.len, 288);
    }

    #[test]
    fn bare_mp3_is_found_even_after_junk_and_tags() {
        let mut bytes = b"ID3\x03\x00\x00\x00\x00\x00\x05hello".to_vec();
        bytes.extend_from_slice(&[0u8; 7]);
        bytes.extend(mp3_frames(5));
        match sniff_bytes(&bytes) {
            SniffOutcome::Audio(s) => {
                assert_eq!(s.container, Container::MpegAudio);
                assert_eq!(s.start, 15 + 7);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn text_and_lone_sync_words_are_not_audio() {
        assert_eq!(
            sniff_bytes(b"hello, this is not audio"),
            SniffOutcome::NotAudio
        );
        // One plausible header followed by garbage must not count as an MP3 stream.
        let mut bytes = mp3_frames(1);
        bytes.extend(std::iter::repeat_n(0x55u8, 2000));
        assert_eq!(sniff_bytes(&bytes), SniffOutcome::NotAudio);
    }

    #[test]
    fn wav_format_tag_is_reported() {
        let mut wav = b"RIFF\x00\x00\x00\x00WAVEfmt \x14\x00\x00\x00".to_vec();
        wav.extend_from_slice(&[0x31, 0x00]); // GSM 6.10
        wav.extend_from_slice(&[0u8; 18]);
        wav.extend_from_slice(b"data\x10\x00\x00\x00");
        match sniff_bytes(&wav) {
            SniffOutcome::Audio(s) => {
                let info = s.wav.unwrap();
                assert_eq!(info.format_tag, 0x31);
                assert_eq!(info.data_len, Some(16));
                assert_eq!(unsupported_wav_codec(0x31).as_deref(), Some("GSM 6.10"));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(unsupported_wav_codec(0x0001), None);
    }

    fn ogg_page(eos: bool, body: &[u8]) -> Vec<u8> {
        let mut page = b"OggS\0".to_vec();
        page.push(if eos { 0x04 } else { 0x00 });
        page.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]); // granule position
        page.extend_from_slice(&[0u8; 12]); // serial, sequence, checksum
        page.push(1);
        page.push(body.len() as u8);
        page.extend_from_slice(body);
        page
    }

    #[test]
    fn ogg_completeness_needs_a_whole_final_eos_page() {
        let complete_of = |bytes: &[u8]| parse_ogg_tail(bytes).is_some_and(|t| t.complete);
        let mut file = ogg_page(false, b"head");
        file.extend(ogg_page(true, b"last packet"));
        assert!(complete_of(&file));
        assert_eq!(
            parse_ogg_tail(&file).unwrap().granule,
            0x0807_0605_0403_0201
        );
        assert!(!complete_of(&file[..file.len() - 3]));
        assert!(!complete_of(&ogg_page(false, b"no eos")));
        assert_eq!(parse_ogg_tail(b"no pages at all"), None);
    }

    #[test]
    fn tag_without_audio() {
        assert_eq!(
            sniff_bytes(b"ID3\x03\x00\x00\x00\x00\x00\x02ab"),
            SniffOutcome::TagOnly
        );
    }

    #[test]
    fn recognises_unsupported_containers() {
        assert_eq!(sniff_bytes(b"#!AMR\n"), SniffOutcome::Unsupported("AMR"));
        assert_eq!(
            sniff_bytes(b"RF64\xff\xff\xff\xffWAVEds64"),
            SniffOutcome::Unsupported("RF64/BW64 (64-bit WAV)")
        );
    }
}
