//! Where decoded audio goes: mixdown, priming trim, duration accounting and resampling.
//!
//! Decoders hand over one packet's worth of audio at a time. The sink mixes it to mono,
//! drops encoder priming (Opus pre-skip, MP4 edit lists), stops at the declared end of
//! the presentation, and streams the rest through the 16 kHz resampler. If the sample
//! rate changes mid-stream (chained streams, odd MP3s) the resampler is flushed and a new
//! one started, so every segment keeps its true duration.

use symphonia::core::audio::AudioBufferRef;

use super::mixdown::{mix_decoded, mix_interleaved};
use super::mp4_edits::TrackEdit;
use super::resample::StreamResampler;
use super::{AudioError, MAX_DURATION_S};

/// Encoder priming to remove, possibly known only once the decoded rate is known.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Trim {
    None,
    /// Frames at the decoded rate (Opus pre-skip, always 48 kHz).
    Frames {
        skip: u64,
    },
    /// An MP4 edit, converted once the decoder reports its output rate.
    Mp4(TrackEdit),
}

/// Rates outside this range are header corruption, not audio (one test file claims
/// 1 092 676 Hz); resampling them would only produce noise or absurd buffer sizes.
const MIN_RATE: u32 = 1_000;
const MAX_RATE: u32 = 768_000;

struct Segment {
    rate: u32,
    resampler: StreamResampler,
}

pub(crate) struct PcmSink {
    trim: Trim,
    skip_left: u64,
    /// Frames still allowed through (end of the MP4 presentation), once known.
    keep_left: Option<u64>,
    trim_resolved: bool,
    /// Reused mixdown buffer.
    mono: Vec<f32>,
    segment: Option<Segment>,
    /// Output and duration of segments already flushed.
    done_pcm: Vec<f32>,
    done_duration_s: f64,
    /// Seconds decoded before our own trimming, to compare with the container's length.
    raw_duration_s: f64,
    first_rate: Option<u32>,
    first_channels: Option<usize>,
}

impl PcmSink {
    pub fn new(trim: Trim) -> Self {
        Self {
            trim,
            skip_left: 0,
            keep_left: None,
            trim_resolved: false,
            mono: Vec::new(),
            segment: None,
            done_pcm: Vec::new(),
            done_duration_s: 0.0,
            raw_duration_s: 0.0,
            first_rate: None,
            first_channels: None,
        }
    }

    /// Accepts a buffer decoded by symphonia.
    pub fn push_decoded(&mut self, decoded: &AudioBufferRef<'_>) -> Result<(), AudioError> {
        let spec = decoded.spec();
        let (rate, channels) = (spec.rate, spec.channels.count());
        self.mono.clear();
        mix_decoded(decoded, &mut self.mono);
        self.consume_mono(rate, channels)
    }

    /// Accepts interleaved samples (from libopus), keeping frames `[trim_start, len - trim_end)`
    /// as the demuxer's gapless trim information asks.
    pub fn push_interleaved(
        &mut self,
        samples: &[f32],
        channels: usize,
        rate: u32,
        trim_start: usize,
        trim_end: usize,
    ) -> Result<(), AudioError> {
        let channels = channels.max(1);
        let frames = samples.len() / channels;
        let start = trim_start.min(frames);
        let end = frames.saturating_sub(trim_end).max(start);
        self.mono.clear();
        mix_interleaved(
            &samples[start * channels..end * channels],
            channels,
            &mut self.mono,
        );
        self.consume_mono(rate, channels)
    }

    fn consume_mono(&mut self, rate: u32, channels: usize) -> Result<(), AudioError> {
        if self.mono.is_empty() {
            return Ok(());
        }
        if !(MIN_RATE..=MAX_RATE).contains(&rate) {
            return Err(AudioError::DecodeFailed {
                reason: format!("implausible sample rate {rate} Hz in the header"),
            });
        }
        self.first_rate.get_or_insert(rate);
        self.first_channels.get_or_insert(channels);
        self.raw_duration_s += self.mono.len() as f64 / f64::from(rate);
        self.resolve_trim(rate);

        let mut start = 0usize;
        if self.skip_left > 0 {
            let skip = usize::try_from(self.skip_left)
                .unwrap_or(usize::MAX)
                .min(self.mono.len());
            self.skip_left -= skip as u64;
            start = skip;
        }
        let mut end = self.mono.len();
        if let Some(keep) = self.keep_left.as_mut() {
            let allowed = usize::try_from(*keep)
                .unwrap_or(usize::MAX)
                .min(end - start);
            *keep -= allowed as u64;
            end = start + allowed;
        }
        if start == end {
            return Ok(());
        }

        if self.segment.as_ref().is_some_and(|s| s.rate != rate) {
            self.flush_segment();
        }
        if self.segment.is_none() {
            let resampler = StreamResampler::new(rate).map_err(|e| AudioError::DecodeFailed {
                reason: format!("cannot resample from {rate} Hz: {e}"),
            })?;
            self.segment = Some(Segment { rate, resampler });
        }
        if let Some(segment) = self.segment.as_mut() {
            segment.resampler.push(&self.mono[start..end]);
        }
        if self.duration_s() > MAX_DURATION_S {
            return Err(AudioError::TooLong {
                limit_s: MAX_DURATION_S,
            });
        }
        Ok(())
    }

    /// Converts the priming trim into frames at the first decoded rate.
    fn resolve_trim(&mut self, rate: u32) {
        if self.trim_resolved {
            return;
        }
        self.trim_resolved = true;
        match self.trim {
            Trim::None => {}
            Trim::Frames { skip } => self.skip_left = skip,
            Trim::Mp4(edit) => {
                let (skip, keep) = edit.in_frames(rate);
                // An edit skipping more than 10 s is not priming; do not silently eat audio.
                if skip <= u64::from(rate) * 10 {
                    self.skip_left = skip;
                    self.keep_left = keep;
                }
            }
        }
    }

    fn flush_segment(&mut self) {
        if let Some(segment) = self.segment.take() {
            self.done_duration_s += segment.resampler.frames_in() as f64 / f64::from(segment.rate);
            let pcm = segment.resampler.finish();
            self.done_pcm.extend_from_slice(&pcm);
        }
    }

    /// True duration so far: kept frames over their own sample rate.
    pub fn duration_s(&self) -> f64 {
        let current = self
            .segment
            .as_ref()
            .map_or(0.0, |s| s.resampler.frames_in() as f64 / f64::from(s.rate));
        self.done_duration_s + current
    }

    /// Seconds decoded before priming/presentation trimming.
    pub fn raw_duration_s(&self) -> f64 {
        self.raw_duration_s
    }

    pub fn has_output(&self) -> bool {
        self.duration_s() > 0.0
    }

    pub fn first_rate(&self) -> Option<u32> {
        self.first_rate
    }

    pub fn first_channels(&self) -> Option<usize> {
        self.first_channels
    }

    /// Flushes the resampler and returns (16 kHz mono PCM, true duration in seconds).
    pub fn finish(mut self) -> (Vec<f32>, f64) {
        self.flush_segment();
        (self.done_pcm, self.done_duration_s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opus_style_pre_skip_and_packet_trims() {
        let mut sink = PcmSink::new(Trim::Frames { skip: 312 });
        let stereo = vec![0.5f32; 960 * 2];
        sink.push_interleaved(&stereo, 2, 48_000, 0, 0).unwrap();
        // The last packet is trimmed to its granule position by the demuxer.
        sink.push_interleaved(&stereo, 2, 48_000, 0, 600).unwrap();
        let (pcm, duration) = sink.finish();
        let frames = 960 - 312 + 960 - 600;
        assert!((duration - frames as f64 / 48_000.0).abs() < 1e-9);
        assert_eq!(pcm.len(), (frames as f64 / 3.0).round() as usize);
    }

    #[test]
    fn mp4_edit_keeps_only_the_presentation() {
        let edit = TrackEdit {
            track_index: 0,
            skip: 1024,
            media_timescale: 16_000,
            keep: Some(1000),
            movie_timescale: 1000,
        };
        let mut sink = PcmSink::new(Trim::Mp4(edit));
        let packet = vec![0.1f32; 1024];
        for _ in 0..20 {
            sink.push_interleaved(&packet, 1, 16_000, 0, 0).unwrap();
        }
        let (pcm, duration) = sink.finish();
        assert_eq!(pcm.len(), 16_000);
        assert!((duration - 1.0).abs() < 1e-9);
    }

    #[test]
    fn absurd_sample_rate_is_an_error() {
        let mut sink = PcmSink::new(Trim::None);
        let err = sink
            .push_interleaved(&[0.0; 441], 1, 1_092_676, 0, 0)
            .unwrap_err();
        assert!(matches!(err, AudioError::DecodeFailed { .. }));
    }

    #[test]
    fn rate_change_starts_a_new_segment() {
        let mut sink = PcmSink::new(Trim::None);
        sink.push_interleaved(&vec![0.0; 8_000], 1, 8_000, 0, 0)
            .unwrap();
        sink.push_interleaved(&vec![0.0; 48_000], 1, 48_000, 0, 0)
            .unwrap();
        let (pcm, duration) = sink.finish();
        assert!((duration - 2.0).abs() < 1e-9);
        assert_eq!(pcm.len(), 32_000);
    }
}
