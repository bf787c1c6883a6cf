//! Audio intake: turns an uploaded file (any common format) into 16 kHz mono `f32` PCM.
//!
//! Pipeline: sniff the container from the bytes ([`probe`]), demux with symphonia
//! ([`demux`]), decode packets with symphonia or libopus ([`opus_decoder`]) in a bounded,
//! damage-tolerant loop ([`decode_loop`]), then mix down, trim encoder priming and resample
//! while streaming ([`pcm_sink`], [`mixdown`], [`resample`]).
//!
//! The reported duration is always counted from decoded frames, never taken from the
//! header, because truncated and hand-edited files routinely lie about their length.

mod decode_loop;
mod demux;
mod error;
mod header_guard;
mod mixdown;
mod mp4_edits;
mod opus_decoder;
mod pcm_sink;
mod probe;
mod resample;

use std::fs::File;
use std::io::{Cursor, ErrorKind};
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use symphonia::core::codecs::{DecoderOptions, CODEC_TYPE_OPUS};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::Track;
use symphonia::core::io::{MediaSource, ReadBytes};
use symphonia::core::units::TimeBase;

pub use error::AudioError;

use decode_loop::PacketDecoder;
use mp4_edits::TrackEdit;
use opus_decoder::{HeadByteOrder, OpusHead, OpusPacketDecoder};
use pcm_sink::{PcmSink, Trim};
use probe::{Container, SniffOutcome, Sniffed};

/// The sample rate Whisper expects.
pub const WHISPER_SAMPLE_RATE: u32 = 16_000;

/// Longest audio we decode. Past this, memory for the 16 kHz output (about 230 MB per
/// hour) and transcription time stop being reasonable for one request.
pub const MAX_DURATION_S: f64 = 4.0 * 3600.0;

/// Decoded audio, ready for feature extraction.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedAudio {
    /// Mono (mean of all channels), 16 kHz, roughly in [-1, 1].
    pub pcm_16k: Vec<f32>,
    /// True duration: decoded frames (after removing encoder priming) over the source rate.
    pub duration_s: f64,
    pub source_sample_rate: u32,
    pub source_channels: usize,
    /// Codec name in ffmpeg's vocabulary, e.g. "pcm_s16le", "mp3", "aac", "opus".
    pub codec: String,
    /// Decoding hit a corrupt or incomplete point; `pcm_16k` holds the valid part.
    pub truncated: bool,
}

/// Decodes the audio file at `path`. The format is detected from the content; the file
/// name and extension are ignored.
pub fn decode_file(path: &Path) -> Result<DecodedAudio, AudioError> {
    let io_error = |source| AudioError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io_error)?;
    let metadata = file.metadata().map_err(io_error)?;
    if !metadata.is_file() {
        // Pipes and devices report no length and cannot seek; read them into memory.
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut &file, &mut bytes).map_err(io_error)?;
        return decode_bytes(bytes);
    }
    if metadata.len() == 0 {
        return Err(AudioError::Empty);
    }
    decode_source(file, metadata.len(), Some(path))
}

/// Decodes audio held in memory (e.g. an HTTP upload).
pub fn decode_bytes(bytes: Vec<u8>) -> Result<DecodedAudio, AudioError> {
    if bytes.is_empty() {
        return Err(AudioError::Empty);
    }
    let len = bytes.len() as u64;
    decode_source(Cursor::new(bytes), len, None)
}

fn decode_source<S: MediaSource + 'static>(
    mut source: S,
    byte_len: u64,
    path: Option<&Path>,
) -> Result<DecodedAudio, AudioError> {
    let io_error = |source: std::io::Error| AudioError::Io {
        path: path.map_or_else(|| PathBuf::from("<memory>"), Path::to_path_buf),
        source,
    };

    let sniffed = match probe::sniff(&mut source).map_err(io_error)? {
        SniffOutcome::Audio(sniffed) => sniffed,
        SniffOutcome::Unsupported(format) => {
            return Err(AudioError::UnsupportedFormat {
                format: format.to_string(),
            })
        }
        SniffOutcome::TagOnly => return Err(AudioError::NoSamples),
        SniffOutcome::NotAudio => return Err(AudioError::NotAudio),
    };
    // symphonia would only say "unsupported wave format"; name the codec instead.
    if let Some(codec) = sniffed
        .wav
        .and_then(|wav| probe::unsupported_wav_codec(wav.format_tag))
    {
        return Err(AudioError::UnsupportedCodec { codec });
    }
    if let Err(reason) =
        header_guard::check(sniffed.container, &mut source, byte_len).map_err(io_error)?
    {
        return Err(AudioError::DecodeFailed {
            reason: format!(
                "damaged {} header: {reason}",
                demux::container_name(sniffed.container)
            ),
        });
    }
    let edits = if sniffed.container == Container::Mp4 {
        mp4_edits::read_track_edits(&mut source).map_err(io_error)?
    } else {
        Vec::new()
    };
    let ogg_tail = if sniffed.container == Container::Ogg {
        probe::ogg_tail(&mut source).map_err(io_error)?
    } else {
        None
    };

    let mut stream = demux::media_stream(sniffed.container, source);
    if sniffed.start > 0 {
        stream.ignore_bytes(sniffed.start).map_err(io_error)?;
    }
    // symphonia's demuxers can panic on hostile headers; one bad upload must not take down
    // the server, so a panic here becomes an ordinary "damaged file" error.
    let opened = panic::catch_unwind(AssertUnwindSafe(|| {
        demux::open_reader(sniffed.container, stream)
    }))
    .map_err(|_| AudioError::DecodeFailed {
        reason: format!(
            "the {} demuxer failed on a damaged header",
            demux::container_name(sniffed.container)
        ),
    })?;
    let mut reader = opened.map_err(|e| reader_error(e, sniffed.container, io_error))?;
    let track = demux::select_audio_track(reader.tracks())
        .ok_or(AudioError::NoAudioTrack)?
        .clone();
    let codec = demux::codec_name(track.codec_params.codec);
    let edit = edits.iter().find(|e| e.track_index == track.id).copied();
    let (mut decoder, trim, declared_channels) = make_decoder(&track, sniffed.container, edit)?;

    let mut sink = PcmSink::new(trim);
    // Every packet consumes input bytes, so this comfortably bounds an honest demuxer.
    let max_packets = byte_len.saturating_mul(2).saturating_add(4096);
    let outcome = decode_loop::run(
        reader.as_mut(),
        track.id,
        &codec,
        &mut decoder,
        &mut sink,
        max_packets,
    )?;

    let declared_s = match ogg_tail {
        Some(tail) if tail.serial == track.id => ogg_length_s(&track, tail.granule),
        _ => trusted_length_s(&track, &sniffed),
    };
    let ogg_cut_short =
        sniffed.container == Container::Ogg && !ogg_tail.is_some_and(|t| t.complete);
    let Some(source_sample_rate) = sink.first_rate().filter(|_| sink.has_output()) else {
        return Err(match outcome.last_error {
            Some(reason) if outcome.damaged => AudioError::DecodeFailed { reason },
            // The header promises audio but not one frame decoded: damage, not emptiness.
            _ if declared_s.is_some_and(|s| s > 0.0) => AudioError::DecodeFailed {
                reason: "no decodable audio frames were found".into(),
            },
            _ => AudioError::NoSamples,
        });
    };
    let shorter_than_header = ogg_cut_short
        || declared_s.is_some_and(|declared| {
            declared - sink.raw_duration_s() > (declared * 0.005).max(0.05)
        });
    if shorter_than_header {
        tracing::warn!(
            decoded_s = sink.raw_duration_s(),
            "audio ends before the length its header declares; keeping the part that decoded"
        );
    }
    let source_channels = declared_channels.or(sink.first_channels()).unwrap_or(1);
    let (pcm_16k, duration_s) = sink.finish();
    Ok(DecodedAudio {
        pcm_16k,
        duration_s,
        source_sample_rate,
        source_channels,
        codec,
        truncated: outcome.damaged || shorter_than_header,
    })
}

/// Builds the packet decoder, the priming trim, and (for Opus) the declared channel count.
fn make_decoder(
    track: &Track,
    container: Container,
    edit: Option<TrackEdit>,
) -> Result<(PacketDecoder, Trim, Option<usize>), AudioError> {
    let params = &track.codec_params;
    if params.codec == CODEC_TYPE_OPUS {
        let extra = params
            .extra_data
            .as_deref()
            .ok_or_else(|| AudioError::DecodeFailed {
                reason: "Opus track without an identification header".into(),
            })?;
        let order = if container == Container::Mp4 {
            HeadByteOrder::Big
        } else {
            HeadByteOrder::Little
        };
        let head = OpusHead::parse(extra, order)?;
        let decoder = OpusPacketDecoder::new(&head)?;
        // An MP4 edit list already accounts for pre-skip; applying both would cut speech.
        let trim = match edit {
            Some(edit) => Trim::Mp4(edit),
            None => Trim::Frames {
                skip: u64::from(head.pre_skip),
            },
        };
        return Ok((
            PacketDecoder::Opus(decoder),
            trim,
            Some(usize::from(head.channels)),
        ));
    }
    let decoder = symphonia::default::get_codecs()
        .make(params, &DecoderOptions::default())
        .map_err(|e| match e {
            SymphoniaError::Unsupported(detail) => AudioError::UnsupportedCodec {
                codec: demux::describe_unsupported(params, detail),
            },
            other => AudioError::DecodeFailed {
                reason: format!(
                    "cannot start the {} decoder: {other}",
                    demux::codec_name(params.codec)
                ),
            },
        })?;
    let trim = edit.map_or(Trim::None, Trim::Mp4);
    let decoder = PacketDecoder::Symphonia {
        decoder,
        params: params.clone(),
    };
    Ok((decoder, trim, None))
}

/// Maps a failure to open the demuxer to a user-facing error.
fn reader_error(
    error: SymphoniaError,
    container: Container,
    io_error: impl Fn(std::io::Error) -> AudioError,
) -> AudioError {
    let name = demux::container_name(container);
    match error {
        // ffmpeg and most recorders write the MP4 index (moov) after the audio, so a cut
        // MP4 has no index and its audio cannot be located.
        SymphoniaError::IoError(e)
            if e.kind() == ErrorKind::UnexpectedEof && container == Container::Mp4 =>
        {
            AudioError::DecodeFailed {
                reason: "the file is incomplete: its MP4 index (moov box) is missing".into(),
            }
        }
        SymphoniaError::IoError(e) if e.kind() == ErrorKind::UnexpectedEof => {
            AudioError::DecodeFailed {
                reason: format!("the file ends inside its {name} header"),
            }
        }
        SymphoniaError::IoError(e) => io_error(e),
        SymphoniaError::Unsupported(detail) => AudioError::UnsupportedFormat {
            format: format!("{name} variant: {detail}"),
        },
        SymphoniaError::DecodeError(detail) => AudioError::DecodeFailed {
            reason: format!("damaged {name} header: {detail}"),
        },
        other => AudioError::DecodeFailed {
            reason: format!("cannot read the {name} header: {other}"),
        },
    }
}

/// The length an Ogg stream declares through its last granule position: samples at the
/// codec rate (always 48 kHz for Opus, where it includes the pre-skip, as our raw count does),
/// counted from the stream's first timestamp (non-zero when a live capture was cut).
fn ogg_length_s(track: &Track, granule: u64) -> Option<f64> {
    let params = &track.codec_params;
    let rate = if params.codec == CODEC_TYPE_OPUS {
        opus_decoder::OPUS_RATE
    } else {
        params.sample_rate?
    };
    Some(granule.saturating_sub(params.start_ts) as f64 / f64::from(rate))
}

/// The stream length the container declares, in seconds, when that number is exact
/// (so a shortfall means the file was cut), or `None` when it is missing or an estimate.
fn trusted_length_s(track: &Track, sniffed: &Sniffed) -> Option<f64> {
    let params = &track.codec_params;
    let trusted = match sniffed.container {
        // Streaming writers put 0 or 0xFFFF_FFFF in the data chunk length.
        Container::Wav => sniffed
            .wav
            .and_then(|w| w.data_len)
            .is_some_and(|len| len != 0 && len != u32::MAX),
        // Without a Xing/Info/VBRI frame symphonia estimates the length from the bitrate.
        Container::MpegAudio => sniffed.mpeg_length_tag,
        Container::Adts => false,
        _ => true,
    };
    if !trusted {
        return None;
    }
    let frames = params.n_frames?;
    let time_base = params
        .time_base
        .or_else(|| params.sample_rate.map(|rate| TimeBase::new(1, rate)))?;
    let time = time_base.calc_time(frames);
    Some(time.seconds as f64 + time.frac)
}
