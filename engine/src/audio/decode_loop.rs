//! The packet loop: pull packets from the demuxer, decode them, feed the sink, and decide
//! what to do when the stream is damaged.
//!
//! Policy: an isolated bad packet is skipped (one glitch should not cost the whole
//! recording); a run of failures, an I/O error or a demuxer that gives up ends decoding,
//! keeping everything decoded so far. Every loop is bounded, so no input can hang us.

use std::panic::{self, AssertUnwindSafe};

use symphonia::core::codecs::{CodecParameters, Decoder, DecoderOptions};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::{FormatReader, Packet};

use super::opus_decoder::{OpusPacketDecoder, OPUS_RATE};
use super::pcm_sink::PcmSink;
use super::AudioError;

/// Failures in a row (demuxer or decoder) after which the rest of the stream is deemed
/// unreadable. Damage in real files spans a few packets; garbage spans all of them.
const MAX_CONSECUTIVE_ERRORS: usize = 32;

/// Skipped-packet warnings logged per file; the rest are only counted.
const MAX_LOGGED_SKIPS: usize = 5;

/// Fresh decoders we build after a decoder panics, before giving up on the stream.
const MAX_DECODER_REBUILDS: usize = 8;

/// The decoder that turns packets of the chosen track into PCM.
pub(crate) enum PacketDecoder {
    /// A symphonia decoder, with what is needed to build a fresh one.
    Symphonia {
        decoder: Box<dyn Decoder>,
        params: CodecParameters,
    },
    Opus(OpusPacketDecoder),
}

impl PacketDecoder {
    /// Replaces a decoder whose state is unknown (it panicked) with a new one.
    fn rebuild(&mut self) -> bool {
        match self {
            PacketDecoder::Symphonia { decoder, params } => {
                match symphonia::default::get_codecs().make(params, &DecoderOptions::default()) {
                    Ok(fresh) => {
                        *decoder = fresh;
                        true
                    }
                    Err(_) => false,
                }
            }
            // libopus reports errors instead of panicking; nothing to rebuild.
            PacketDecoder::Opus(_) => false,
        }
    }
}

/// How the loop ended.
#[derive(Debug, Default)]
pub(crate) struct LoopOutcome {
    /// Decoding stopped before the end of the stream, or packets were dropped.
    pub damaged: bool,
    /// The last error seen, to explain a file from which nothing could be decoded.
    pub last_error: Option<String>,
    pub skipped_packets: usize,
}

enum PacketError {
    /// This packet is bad; later ones may be fine.
    Corrupt(String),
    /// The decoder lacks a feature this stream uses.
    Unsupported(&'static str),
    /// Stop everything (e.g. the duration limit was hit).
    Fatal(AudioError),
}

/// Decodes every packet of `track_id` (whose codec is named `codec`). `max_packets` bounds
/// the loop even if a demuxer were to return packets forever.
pub(crate) fn run(
    reader: &mut dyn FormatReader,
    track_id: u32,
    codec: &str,
    decoder: &mut PacketDecoder,
    sink: &mut PcmSink,
    max_packets: u64,
) -> Result<LoopOutcome, AudioError> {
    let mut outcome = LoopOutcome::default();
    let mut consecutive_errors = 0usize;
    let mut rebuilds = 0usize;
    let mut finished = false;

    for _ in 0..max_packets {
        // symphonia can panic on damaged input. After a panic the demuxer or decoder state is
        // unknown, so we stop there and keep what was decoded (both are only dropped after).
        let next = panic::catch_unwind(AssertUnwindSafe(|| reader.next_packet()));
        let Ok(next) = next else {
            outcome.last_error = Some("the demuxer failed on damaged data".into());
            break;
        };
        let packet = match next {
            Ok(packet) => packet,
            // symphonia signals the end of every stream this way, complete or cut short;
            // the caller compares the decoded length with the header to tell them apart.
            Err(SymphoniaError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                finished = true;
                break;
            }
            // A chained Ogg stream changes its track list; we transcribe the first stream.
            Err(SymphoniaError::ResetRequired) => {
                tracing::warn!("stream changes its tracks mid-file; keeping the first part");
                finished = true;
                break;
            }
            Err(SymphoniaError::DecodeError(msg)) => {
                outcome.last_error = Some(format!("damaged stream: {msg}"));
                consecutive_errors += 1;
                if consecutive_errors > MAX_CONSECUTIVE_ERRORS {
                    break;
                }
                continue;
            }
            Err(e) => {
                outcome.last_error = Some(e.to_string());
                break;
            }
        };
        // Other tracks (video, commentary) and empty packets carry nothing for us; libopus
        // would even synthesise concealment audio for an empty packet.
        if packet.track_id() != track_id || packet.data.is_empty() {
            continue;
        }
        let decoded =
            panic::catch_unwind(AssertUnwindSafe(|| decode_packet(decoder, &packet, sink)));
        let Ok(decoded) = decoded else {
            // A decoder panic is a corrupt packet we cannot skip in place: its state is
            // unknown, so carry on with a fresh decoder (a short glitch beats losing the rest).
            skip_packet(
                &mut outcome,
                &packet,
                "the decoder failed on damaged data".into(),
            );
            rebuilds += 1;
            if rebuilds > MAX_DECODER_REBUILDS || !decoder.rebuild() {
                break;
            }
            continue;
        };
        match decoded {
            Ok(()) => consecutive_errors = 0,
            Err(PacketError::Fatal(e)) => return Err(e),
            Err(PacketError::Unsupported(feature)) if !sink.has_output() => {
                return Err(AudioError::UnsupportedCodec {
                    codec: format!("{codec} ({feature})"),
                });
            }
            Err(PacketError::Unsupported(feature)) => {
                skip_packet(
                    &mut outcome,
                    &packet,
                    format!("unsupported feature: {feature}"),
                );
                consecutive_errors += 1;
            }
            Err(PacketError::Corrupt(reason)) => {
                skip_packet(&mut outcome, &packet, reason);
                consecutive_errors += 1;
            }
        }
        if consecutive_errors > MAX_CONSECUTIVE_ERRORS {
            break;
        }
    }

    outcome.damaged = !finished || outcome.skipped_packets > 0;
    if outcome.damaged {
        tracing::warn!(
            skipped_packets = outcome.skipped_packets,
            last_error = outcome.last_error.as_deref().unwrap_or("none"),
            "audio stream is damaged; keeping the part that decoded"
        );
    }
    Ok(outcome)
}

fn skip_packet(outcome: &mut LoopOutcome, packet: &Packet, reason: String) {
    outcome.skipped_packets += 1;
    if outcome.skipped_packets <= MAX_LOGGED_SKIPS {
        tracing::warn!(ts = packet.ts(), %reason, "skipping undecodable audio packet");
    }
    outcome.last_error = Some(reason);
}

fn decode_packet(
    decoder: &mut PacketDecoder,
    packet: &Packet,
    sink: &mut PcmSink,
) -> Result<(), PacketError> {
    match decoder {
        PacketDecoder::Symphonia { decoder, .. } => match decoder.decode(packet) {
            Ok(decoded) => sink.push_decoded(&decoded).map_err(PacketError::Fatal),
            Err(SymphoniaError::Unsupported(feature)) => Err(PacketError::Unsupported(feature)),
            Err(SymphoniaError::ResetRequired) => {
                decoder.reset();
                Err(PacketError::Corrupt("decoder had to be reset".into()))
            }
            // A decoder hitting the end of a packet early means the packet is cut or corrupt.
            Err(e) => Err(PacketError::Corrupt(e.to_string())),
        },
        PacketDecoder::Opus(decoder) => {
            let channels = decoder.channels();
            let samples = decoder
                .decode(&packet.data)
                .map_err(|e| PacketError::Corrupt(format!("Opus: {e}")))?;
            sink.push_interleaved(
                samples,
                channels,
                OPUS_RATE,
                packet.trim_start() as usize,
                packet.trim_end() as usize,
            )
            .map_err(PacketError::Fatal)
        }
    }
}
