//! Opus packet decoding with libopus (symphonia demuxes Opus but has no decoder for it).
//!
//! The identification header (`OpusHead`, found in the codec extra data of Ogg, WebM/MKV
//! and MP4 tracks) gives the channel count, the pre-skip (encoder lookahead that must be
//! dropped to get the true duration) and an output gain. We always decode at 48 kHz: that
//! is Opus's native rate, and the header's "input sample rate" is informational only.

use super::AudioError;

/// The rate libopus decodes at, and the unit of pre-skip and Ogg granule positions.
pub(crate) const OPUS_RATE: u32 = 48_000;

/// The longest Opus packet is 120 ms.
const MAX_FRAMES_PER_PACKET: usize = OPUS_RATE as usize * 120 / 1000;

/// Parsed `OpusHead` fields that matter for decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OpusHead {
    /// Output channel count declared by the header.
    pub channels: u8,
    /// Samples at 48 kHz to drop from the start of the decoded stream.
    pub pre_skip: u16,
    /// Gain to apply, in Q7.8 dB.
    pub output_gain_q8: i16,
    /// Channels the single Opus stream decodes to (1 or 2).
    pub coded_channels: u8,
}

/// Byte order of the multi-byte header fields: little-endian in `OpusHead` (Ogg, Matroska),
/// big-endian in MP4's `dOps` box, which symphonia passes on with an `OpusHead` prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeadByteOrder {
    Little,
    Big,
}

impl OpusHead {
    pub fn parse(extra: &[u8], order: HeadByteOrder) -> Result<Self, AudioError> {
        let invalid = |reason: &str| AudioError::DecodeFailed {
            reason: format!("invalid Opus header: {reason}"),
        };
        if extra.len() < 19 || &extra[0..8] != b"OpusHead" {
            return Err(invalid("missing OpusHead"));
        }
        let u16_at = |i: usize| match order {
            HeadByteOrder::Little => u16::from_le_bytes([extra[i], extra[i + 1]]),
            HeadByteOrder::Big => u16::from_be_bytes([extra[i], extra[i + 1]]),
        };
        let channels = extra[9];
        let pre_skip = u16_at(10);
        let output_gain_q8 = u16_at(16) as i16;
        let mapping_family = extra[18];
        if channels == 0 {
            return Err(invalid("zero channels"));
        }
        let coded_channels = if mapping_family == 0 {
            // Family 0 is one mono or stereo stream.
            if channels > 2 {
                return Err(invalid("more than 2 channels in mapping family 0"));
            }
            channels
        } else {
            let (Some(&streams), Some(&coupled)) = (extra.get(19), extra.get(20)) else {
                return Err(invalid("truncated channel mapping table"));
            };
            // libopus' multistream API is not exposed by the `opus` crate; one stream (as in
            // every mono/stereo file) decodes with the plain decoder.
            if streams != 1 {
                return Err(AudioError::UnsupportedCodec {
                    codec: format!("Opus with {channels} channels ({streams} streams)"),
                });
            }
            if coupled > 0 {
                2
            } else {
                1
            }
        };
        Ok(Self {
            channels,
            pre_skip,
            output_gain_q8,
            coded_channels,
        })
    }
}

/// Decodes Opus packets to interleaved f32 at 48 kHz, reusing one output buffer.
pub(crate) struct OpusPacketDecoder {
    decoder: opus::Decoder,
    channels: usize,
    buf: Vec<f32>,
}

impl OpusPacketDecoder {
    pub fn new(head: &OpusHead) -> Result<Self, AudioError> {
        let layout = if head.coded_channels == 2 {
            opus::Channels::Stereo
        } else {
            opus::Channels::Mono
        };
        let init_failed = |e: opus::Error| AudioError::DecodeFailed {
            reason: format!("cannot start the Opus decoder: {e}"),
        };
        let mut decoder = opus::Decoder::new(OPUS_RATE, layout).map_err(init_failed)?;
        if head.output_gain_q8 != 0 {
            decoder
                .set_gain(i32::from(head.output_gain_q8))
                .map_err(init_failed)?;
        }
        let channels = usize::from(head.coded_channels);
        Ok(Self {
            decoder,
            channels,
            buf: vec![0.0; MAX_FRAMES_PER_PACKET * channels],
        })
    }

    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Decodes one packet and returns its interleaved samples.
    pub fn decode(&mut self, packet: &[u8]) -> Result<&[f32], opus::Error> {
        let frames = self.decoder.decode_float(packet, &mut self.buf, false)?;
        Ok(&self.buf[..frames * self.channels])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(channels: u8, family: u8, tail: &[u8]) -> Vec<u8> {
        let mut h = b"OpusHead".to_vec();
        h.push(1); // version
        h.push(channels);
        h.extend_from_slice(&312u16.to_le_bytes());
        h.extend_from_slice(&16_000u32.to_le_bytes());
        h.extend_from_slice(&0i16.to_le_bytes());
        h.push(family);
        h.extend_from_slice(tail);
        h
    }

    #[test]
    fn parses_pre_skip_and_channels() {
        let parsed = OpusHead::parse(&head(2, 0, &[]), HeadByteOrder::Little).unwrap();
        assert_eq!(parsed.pre_skip, 312);
        assert_eq!(parsed.coded_channels, 2);
        // The same bytes read big-endian (as from MP4's dOps) give a different pre-skip.
        let parsed = OpusHead::parse(&head(1, 0, &[]), HeadByteOrder::Big).unwrap();
        assert_eq!(parsed.pre_skip, 312u16.swap_bytes());
    }

    #[test]
    fn multistream_is_unsupported() {
        let err = OpusHead::parse(
            &head(6, 1, &[4, 2, 0, 4, 1, 2, 3, 5]),
            HeadByteOrder::Little,
        )
        .unwrap_err();
        assert!(matches!(err, AudioError::UnsupportedCodec { .. }), "{err}");
    }

    #[test]
    fn decodes_an_encoded_packet() {
        // Round trip a 20 ms sine through libopus to check the wiring, not libopus itself.
        let mut encoder =
            opus::Encoder::new(OPUS_RATE, opus::Channels::Mono, opus::Application::Audio).unwrap();
        let pcm: Vec<f32> = (0..960)
            .map(|i| (i as f32 * 2.0 * std::f32::consts::PI * 440.0 / 48_000.0).sin() * 0.5)
            .collect();
        let packet = encoder.encode_vec_float(&pcm, 4000).unwrap();
        let parsed = OpusHead::parse(&head(1, 0, &[]), HeadByteOrder::Little).unwrap();
        let mut decoder = OpusPacketDecoder::new(&parsed).unwrap();
        assert_eq!(decoder.decode(&packet).unwrap().len(), 960);
    }
}
