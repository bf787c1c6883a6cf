//! Opening the symphonia demuxer for a sniffed container, choosing the audio track, and
//! naming codecs for `DecodedAudio::codec` and for error messages.

use symphonia::core::codecs::{self as c, CodecParameters, CodecType};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::{FormatOptions, FormatReader, Track};
use symphonia::core::io::{MediaSource, MediaSourceStream, MediaSourceStreamOptions};
use symphonia::default::formats::{
    AdtsReader, AiffReader, CafReader, FlacReader, IsoMp4Reader, MkvReader, MpaReader, OggReader,
    WavReader,
};

use super::probe::Container;

/// Wraps the input for the demuxer of `container`, positioned at byte `start`.
///
/// Matroska is read as a forward-only stream: when seekable, symphonia 0.5 follows the
/// SeekHead to Cues at the end of the file, and on a truncated file that jump lands past
/// the end and panics. Everything we need (Info, Tracks) precedes the first Cluster in
/// files from ffmpeg, mkvmerge and browsers, so nothing is lost by not seeking.
pub(crate) fn media_stream<S: MediaSource + 'static>(
    container: Container,
    source: S,
) -> MediaSourceStream {
    let options = MediaSourceStreamOptions::default();
    if container == Container::Matroska {
        MediaSourceStream::new(Box::new(ForwardOnly(source)), options)
    } else {
        MediaSourceStream::new(Box::new(source), options)
    }
}

/// A source that hides its ability to seek.
struct ForwardOnly<S>(S);

impl<S: std::io::Read> std::io::Read for ForwardOnly<S> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}

impl<S: std::io::Seek> std::io::Seek for ForwardOnly<S> {
    fn seek(&mut self, pos: std::io::SeekFrom) -> std::io::Result<u64> {
        self.0.seek(pos)
    }
}

impl<S: MediaSource> MediaSource for ForwardOnly<S> {
    fn is_seekable(&self) -> bool {
        false
    }

    fn byte_len(&self) -> Option<u64> {
        None
    }
}

/// Instantiates the demuxer for `container` directly, so symphonia's own marker scan can
/// never pick a different (wrong) format for the same bytes.
pub(crate) fn open_reader(
    container: Container,
    source: MediaSourceStream,
) -> Result<Box<dyn FormatReader>, SymphoniaError> {
    // Gapless mode makes the MP3 and Ogg demuxers mark encoder delay and padding on packets,
    // which the MP3 and Vorbis decoders then trim, giving the true duration.
    let opts = FormatOptions {
        enable_gapless: true,
        ..Default::default()
    };
    Ok(match container {
        Container::Wav => Box::new(WavReader::try_new(source, &opts)?),
        Container::Aiff => Box::new(AiffReader::try_new(source, &opts)?),
        Container::Caf => Box::new(CafReader::try_new(source, &opts)?),
        Container::Flac => Box::new(FlacReader::try_new(source, &opts)?),
        Container::MpegAudio => Box::new(MpaReader::try_new(source, &opts)?),
        Container::Adts => Box::new(AdtsReader::try_new(source, &opts)?),
        Container::Ogg => Box::new(OggReader::try_new(source, &opts)?),
        Container::Matroska => Box::new(MkvReader::try_new(source, &opts)?),
        Container::Mp4 => Box::new(IsoMp4Reader::try_new(source, &opts)?),
    })
}

/// Human-readable container name for messages.
pub(crate) fn container_name(container: Container) -> &'static str {
    match container {
        Container::Wav => "WAV",
        Container::Aiff => "AIFF",
        Container::Caf => "CAF",
        Container::Flac => "FLAC",
        Container::MpegAudio => "MP3",
        Container::Adts => "AAC (ADTS)",
        Container::Ogg => "Ogg",
        Container::Matroska => "Matroska/WebM",
        Container::Mp4 => "MP4/M4A",
    }
}

/// The first track that carries a codec we know to be audio. Video tracks (MP4, WebM) have
/// no codec type in symphonia and are skipped.
pub(crate) fn select_audio_track(tracks: &[Track]) -> Option<&Track> {
    tracks
        .iter()
        .find(|t| t.codec_params.codec != c::CODEC_TYPE_NULL)
}

/// Short codec name in ffmpeg's vocabulary (`pcm_s16le`, `mp3`, `aac`, ...).
pub(crate) fn codec_name(codec: CodecType) -> String {
    let name = match codec {
        c::CODEC_TYPE_PCM_S32LE | c::CODEC_TYPE_PCM_S32LE_PLANAR => "pcm_s32le",
        c::CODEC_TYPE_PCM_S32BE | c::CODEC_TYPE_PCM_S32BE_PLANAR => "pcm_s32be",
        c::CODEC_TYPE_PCM_S24LE | c::CODEC_TYPE_PCM_S24LE_PLANAR => "pcm_s24le",
        c::CODEC_TYPE_PCM_S24BE | c::CODEC_TYPE_PCM_S24BE_PLANAR => "pcm_s24be",
        c::CODEC_TYPE_PCM_S16LE | c::CODEC_TYPE_PCM_S16LE_PLANAR => "pcm_s16le",
        c::CODEC_TYPE_PCM_S16BE | c::CODEC_TYPE_PCM_S16BE_PLANAR => "pcm_s16be",
        c::CODEC_TYPE_PCM_S8 | c::CODEC_TYPE_PCM_S8_PLANAR => "pcm_s8",
        c::CODEC_TYPE_PCM_U32LE | c::CODEC_TYPE_PCM_U32LE_PLANAR => "pcm_u32le",
        c::CODEC_TYPE_PCM_U32BE | c::CODEC_TYPE_PCM_U32BE_PLANAR => "pcm_u32be",
        c::CODEC_TYPE_PCM_U24LE | c::CODEC_TYPE_PCM_U24LE_PLANAR => "pcm_u24le",
        c::CODEC_TYPE_PCM_U24BE | c::CODEC_TYPE_PCM_U24BE_PLANAR => "pcm_u24be",
        c::CODEC_TYPE_PCM_U16LE | c::CODEC_TYPE_PCM_U16LE_PLANAR => "pcm_u16le",
        c::CODEC_TYPE_PCM_U16BE | c::CODEC_TYPE_PCM_U16BE_PLANAR => "pcm_u16be",
        c::CODEC_TYPE_PCM_U8 | c::CODEC_TYPE_PCM_U8_PLANAR => "pcm_u8",
        c::CODEC_TYPE_PCM_F32LE | c::CODEC_TYPE_PCM_F32LE_PLANAR => "pcm_f32le",
        c::CODEC_TYPE_PCM_F32BE | c::CODEC_TYPE_PCM_F32BE_PLANAR => "pcm_f32be",
        c::CODEC_TYPE_PCM_F64LE | c::CODEC_TYPE_PCM_F64LE_PLANAR => "pcm_f64le",
        c::CODEC_TYPE_PCM_F64BE | c::CODEC_TYPE_PCM_F64BE_PLANAR => "pcm_f64be",
        c::CODEC_TYPE_PCM_ALAW => "pcm_alaw",
        c::CODEC_TYPE_PCM_MULAW => "pcm_mulaw",
        c::CODEC_TYPE_ADPCM_G722 => "adpcm_g722",
        c::CODEC_TYPE_ADPCM_G726 | c::CODEC_TYPE_ADPCM_G726LE => "adpcm_g726",
        c::CODEC_TYPE_ADPCM_MS => "adpcm_ms",
        c::CODEC_TYPE_ADPCM_IMA_WAV => "adpcm_ima_wav",
        c::CODEC_TYPE_ADPCM_IMA_QT => "adpcm_ima_qt",
        c::CODEC_TYPE_VORBIS => "vorbis",
        c::CODEC_TYPE_MP1 => "mp1",
        c::CODEC_TYPE_MP2 => "mp2",
        c::CODEC_TYPE_MP3 => "mp3",
        c::CODEC_TYPE_AAC => "aac",
        c::CODEC_TYPE_OPUS => "opus",
        c::CODEC_TYPE_SPEEX => "speex",
        c::CODEC_TYPE_MUSEPACK => "musepack",
        c::CODEC_TYPE_ATRAC1 => "atrac1",
        c::CODEC_TYPE_ATRAC3 => "atrac3",
        c::CODEC_TYPE_ATRAC3PLUS => "atrac3plus",
        c::CODEC_TYPE_ATRAC9 => "atrac9",
        c::CODEC_TYPE_EAC3 => "eac3",
        c::CODEC_TYPE_AC4 => "ac4",
        c::CODEC_TYPE_DCA => "dts",
        c::CODEC_TYPE_WMA => "wma",
        c::CODEC_TYPE_FLAC => "flac",
        c::CODEC_TYPE_WAVPACK => "wavpack",
        c::CODEC_TYPE_MONKEYS_AUDIO => "ape",
        c::CODEC_TYPE_ALAC => "alac",
        c::CODEC_TYPE_TTA => "tta",
        other => return format!("codec {other}"),
    };
    name.to_string()
}

/// Names a codec symphonia refused, as precisely as the parameters allow (users can act on
/// "AAC with 6 channels" but not on "aac too complex").
pub(crate) fn describe_unsupported(params: &CodecParameters, detail: &str) -> String {
    if params.codec == c::CODEC_TYPE_AAC {
        if let Some(described) = params.extra_data.as_deref().and_then(describe_aac_config) {
            return described;
        }
    }
    match params.codec {
        c::CODEC_TYPE_NULL => format!("unknown ({detail})"),
        c::CODEC_TYPE_SPEEX => "Speex".to_string(),
        c::CODEC_TYPE_EAC3 => "E-AC-3".to_string(),
        c::CODEC_TYPE_DCA => "DTS".to_string(),
        c::CODEC_TYPE_WMA => "Windows Media Audio".to_string(),
        other => format!("{} ({detail})", codec_name(other)),
    }
}

/// Describes the AAC flavours symphonia (AAC-LC, mono/stereo only) cannot decode, from the
/// AudioSpecificConfig (ISO/IEC 14496-3 1.6.2.1). Returns `None` for plain AAC-LC stereo.
fn describe_aac_config(asc: &[u8]) -> Option<String> {
    let mut bits = BitCursor { data: asc, pos: 0 };
    let mut object_type = bits.read(5)?;
    if object_type == 31 {
        object_type = 32 + bits.read(6)?;
    }
    if bits.read(4)? == 15 {
        bits.read(24)?;
    }
    let channel_config = bits.read(4)?;
    let profile = match object_type {
        2 => None,
        1 => Some("AAC Main"),
        3 => Some("AAC SSR"),
        4 => Some("AAC LTP"),
        5 => Some("HE-AAC (SBR)"),
        29 => Some("HE-AAC v2 (PS)"),
        23 => Some("AAC-LD"),
        39 => Some("AAC-ELD"),
        42 => Some("xHE-AAC (USAC)"),
        _ => Some("AAC (unusual object type)"),
    };
    let channels = match channel_config {
        7 => 8,
        n => n,
    };
    let layout = match channels {
        6 => " (5.1 surround)",
        8 => " (7.1 surround)",
        _ => "",
    };
    match (profile, channels > 2) {
        (None, false) => None,
        (Some(p), false) => Some(p.to_string()),
        (None, true) => Some(format!("AAC with {channels} channels{layout}")),
        (Some(p), true) => Some(format!("{p} with {channels} channels{layout}")),
    }
}

/// Minimal MSB-first bit reader for the AudioSpecificConfig.
struct BitCursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl BitCursor<'_> {
    fn read(&mut self, n: usize) -> Option<u32> {
        let mut value = 0u32;
        for _ in 0..n {
            let byte = *self.data.get(self.pos / 8)?;
            let bit = (byte >> (7 - self.pos % 8)) & 1;
            value = (value << 1) | u32::from(bit);
            self.pos += 1;
        }
        Some(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_multichannel_and_he_aac() {
        // AAC-LC, 48 kHz (index 3), 6 channels: 00010 0011 0110 000
        assert_eq!(
            describe_aac_config(&[0x11, 0xB0]).as_deref(),
            Some("AAC with 6 channels (5.1 surround)")
        );
        // AAC-LC stereo at 44.1 kHz is plain and decodable.
        assert_eq!(describe_aac_config(&[0x12, 0x10]), None);
        // HE-AAC (object type 5) stereo.
        assert_eq!(
            describe_aac_config(&[0x29, 0x90]).as_deref(),
            Some("HE-AAC (SBR)")
        );
    }

    #[test]
    fn ffmpeg_style_codec_names() {
        assert_eq!(codec_name(c::CODEC_TYPE_PCM_S16LE), "pcm_s16le");
        assert_eq!(codec_name(c::CODEC_TYPE_PCM_MULAW), "pcm_mulaw");
        assert_eq!(codec_name(c::CODEC_TYPE_OPUS), "opus");
    }
}
