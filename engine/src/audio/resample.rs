//! Streaming resampling of mono PCM to Whisper's 16 kHz with rubato.
//!
//! Audio is pushed in as it is decoded, so the full-rate signal is never held in memory.
//! Common rates (8, 11.025, 22.05, 24, 32, 44.1, 48, 96 kHz, ...) reduce to a small integer
//! ratio and use rubato's FFT resampler, which is fast and has a long anti-aliasing filter.
//! Rates whose reduced ratio is unwieldy (e.g. 44 056 Hz) fall back to the sinc resampler,
//! which handles any ratio.
//!
//! The FFT resampler delays its output by a known number of samples, which we drop; the
//! tail is flushed with silence. The result is aligned with the input (checked with impulses
//! in the tests) and exactly `round(n * 16000 / source_rate)` samples long.

use rubato::{
    calculate_cutoff, FftFixedInOut, Resampler as _, SincFixedIn, SincInterpolationParameters,
    SincInterpolationType, WindowFunction,
};

use super::WHISPER_SAMPLE_RATE;

/// Target input chunk for the FFT resampler; the real chunk is a multiple of the reduced
/// input rate. It also sets the filter length (longer = sharper cutoff).
const FFT_CHUNK: usize = 1024;

/// Above this reduced input rate the FFT sizes get unreasonable, so use sinc instead.
const MAX_FFT_REDUCED_RATE: u32 = 4096;

/// Input chunk for the sinc resampler.
const SINC_CHUNK: usize = 1024;

enum Engine {
    /// Source is already 16 kHz.
    Passthrough,
    Fft(Box<FftFixedInOut<f32>>),
    Sinc(Box<SincFixedIn<f32>>),
}

/// Resamples a mono stream to 16 kHz as it arrives.
pub(crate) struct StreamResampler {
    engine: Engine,
    source_rate: u32,
    /// Input not yet consumed by the engine (less than one chunk after each push).
    pending: Vec<f32>,
    /// Reused engine output buffer.
    scratch: Vec<f32>,
    /// Leading output samples still to discard (the engine's delay).
    delay_left: usize,
    frames_in: u64,
    out: Vec<f32>,
}

impl StreamResampler {
    pub fn new(source_rate: u32) -> Result<Self, String> {
        let target = WHISPER_SAMPLE_RATE;
        if source_rate == 0 {
            return Err("sample rate 0".into());
        }
        let engine = if source_rate == target {
            Engine::Passthrough
        } else if source_rate / gcd(source_rate, target) <= MAX_FFT_REDUCED_RATE {
            // rubato rounds the chunk to whole multiples of the reduced input rate. An even
            // multiple makes both FFT sizes even, so the filter is centred on a whole output
            // sample and the reported delay is exact (odd sizes leave a half-sample shift).
            let reduced_in = (source_rate / gcd(source_rate, target)) as usize;
            let multiples = FFT_CHUNK.div_ceil(reduced_in).next_multiple_of(2);
            let fft = FftFixedInOut::<f32>::new(
                source_rate as usize,
                target as usize,
                multiples * reduced_in,
                1,
            )
            .map_err(|e| e.to_string())?;
            Engine::Fft(Box::new(fft))
        } else {
            let sinc_len = 256;
            let window = WindowFunction::BlackmanHarris2;
            let params = SincInterpolationParameters {
                sinc_len,
                f_cutoff: calculate_cutoff(sinc_len, window),
                interpolation: SincInterpolationType::Cubic,
                oversampling_factor: 256,
                window,
            };
            let ratio = f64::from(target) / f64::from(source_rate);
            let sinc = SincFixedIn::<f32>::new(ratio, 1.0, params, SINC_CHUNK, 1)
                .map_err(|e| e.to_string())?;
            Engine::Sinc(Box::new(sinc))
        };
        let (delay, scratch_len) = match &engine {
            Engine::Passthrough => (0, 0),
            Engine::Fft(r) => (r.output_delay(), r.output_frames_max()),
            // rubato's sinc resampler reports half its filter as delay, but its output is
            // already centred on the input (measured with impulses), so nothing is dropped.
            Engine::Sinc(r) => (0, r.output_frames_max()),
        };
        Ok(Self {
            engine,
            source_rate,
            pending: Vec::new(),
            scratch: vec![0.0; scratch_len],
            delay_left: delay,
            frames_in: 0,
            out: Vec::new(),
        })
    }

    /// Number of source-rate frames pushed so far.
    pub fn frames_in(&self) -> u64 {
        self.frames_in
    }

    pub fn push(&mut self, samples: &[f32]) {
        self.frames_in += samples.len() as u64;
        if let Engine::Passthrough = self.engine {
            self.out.extend_from_slice(samples);
            return;
        }
        self.pending.extend_from_slice(samples);
        let mut consumed = 0;
        loop {
            let need = self.input_frames_next();
            if self.pending.len() - consumed < need {
                break;
            }
            let produced = {
                let input = [&self.pending[consumed..consumed + need]];
                let mut output = [&mut self.scratch[..]];
                let result = match &mut self.engine {
                    Engine::Fft(r) => r.process_into_buffer(&input, &mut output, None),
                    Engine::Sinc(r) => r.process_into_buffer(&input, &mut output, None),
                    Engine::Passthrough => unreachable!("handled above"),
                };
                // Buffers are sized from the engine's own maxima, so this cannot fail; if it
                // somehow does, drop the chunk rather than loop forever.
                result.unwrap_or((need, 0))
            };
            consumed += produced.0.max(1);
            self.emit(produced.1);
        }
        self.pending.drain(..consumed);
    }

    /// Flushes the tail and returns exactly `round(frames_in * 16000 / source_rate)` samples.
    pub fn finish(mut self) -> Vec<f32> {
        let expected = expected_len(self.frames_in, self.source_rate);
        if !matches!(self.engine, Engine::Passthrough) {
            // Every flush round yields output, so this many rounds always suffice; the bound
            // only guards against a resampler that stops producing.
            let max_rounds = expected.saturating_sub(self.out.len()) + self.delay_left + 8;
            let pending = std::mem::take(&mut self.pending);
            let input = [&pending[..]];
            let mut wave_in = (!pending.is_empty()).then_some(&input[..]);
            for _ in 0..max_rounds {
                if self.out.len() >= expected {
                    break;
                }
                let mut output = [&mut self.scratch[..]];
                let result = match &mut self.engine {
                    Engine::Fft(r) => r.process_partial_into_buffer(wave_in, &mut output, None),
                    Engine::Sinc(r) => r.process_partial_into_buffer(wave_in, &mut output, None),
                    Engine::Passthrough => unreachable!("checked above"),
                };
                wave_in = None;
                match result {
                    Ok((_, produced)) if produced > 0 => self.emit(produced),
                    _ => break,
                }
            }
        }
        // Should the flush fall short, pad rather than return a misaligned length.
        self.out.resize(expected, 0.0);
        self.out
    }

    fn input_frames_next(&self) -> usize {
        match &self.engine {
            Engine::Fft(r) => r.input_frames_next(),
            Engine::Sinc(r) => r.input_frames_next(),
            Engine::Passthrough => 0,
        }
    }

    /// Appends `produced` samples from the scratch buffer, minus any delay still to drop.
    fn emit(&mut self, produced: usize) {
        let skip = self.delay_left.min(produced);
        self.delay_left -= skip;
        self.out.extend_from_slice(&self.scratch[skip..produced]);
    }
}

/// Output length for `frames` input frames: `round(frames * 16000 / rate)`.
pub(crate) fn expected_len(frames: u64, rate: u32) -> usize {
    let rate = u128::from(rate.max(1));
    let scaled = (u128::from(frames) * u128::from(WHISPER_SAMPLE_RATE) + rate / 2) / rate;
    usize::try_from(scaled).unwrap_or(usize::MAX)
}

fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq: f32, rate: u32, frames: usize) -> Vec<f32> {
        (0..frames)
            .map(|i| (2.0 * std::f32::consts::PI * freq * i as f32 / rate as f32).sin() * 0.5)
            .collect()
    }

    fn resample_in_pieces(input: &[f32], rate: u32, piece: usize) -> Vec<f32> {
        let mut r = StreamResampler::new(rate).unwrap();
        for chunk in input.chunks(piece) {
            r.push(chunk);
        }
        r.finish()
    }

    #[test]
    fn lengths_are_exact_for_common_and_odd_rates() {
        for &rate in &[
            8_000, 11_025, 22_050, 44_100, 48_000, 96_000, 44_056, 16_000,
        ] {
            for &frames in &[0usize, 1, 7, 999, 12_345, 100_000] {
                let input = sine(440.0, rate, frames);
                let out = resample_in_pieces(&input, rate, 777);
                assert_eq!(
                    out.len(),
                    expected_len(frames as u64, rate),
                    "rate {rate} n {frames}"
                );
            }
        }
    }

    /// Where an impulse lands in the output, refined to a fraction of a sample.
    fn impulse_position(rate: u32, at: usize) -> f64 {
        let mut input = vec![0.0f32; rate as usize];
        input[at] = 1.0;
        let out = resample_in_pieces(&input, rate, 1000);
        let peak = (1..out.len() - 1)
            .max_by(|&a, &b| out[a].total_cmp(&out[b]))
            .unwrap();
        let (y0, y1, y2) = (out[peak - 1], out[peak], out[peak + 1]);
        peak as f64 + f64::from(0.5 * (y0 - y2) / (y0 - 2.0 * y1 + y2))
    }

    #[test]
    fn output_is_aligned_with_input() {
        // FFT-resampled rates land within a sample; the sinc fallback within a few.
        for &(rate, tolerance) in &[
            (8_000, 0.05),
            (22_050, 0.05),
            (44_100, 0.05),
            (48_000, 0.05),
            (96_000, 0.05),
            (11_025, 0.05),
            (32_000, 0.05),
            (44_056, 3.0),
            (5_001, 3.0),
            (700_001, 3.0),
        ] {
            // Put the impulse where it maps to a whole output sample, so the peak is
            // symmetric and its refined position exact.
            let reduced_in = (rate / gcd(rate, 16_000)) as usize;
            let at = if reduced_in < rate as usize / 3 {
                rate as usize / 3 / reduced_in * reduced_in
            } else {
                rate as usize / 3
            };
            let expected = at as f64 * 16_000.0 / f64::from(rate);
            let got = impulse_position(rate, at);
            assert!(
                (got - expected).abs() <= tolerance,
                "rate {rate}: {got} vs {expected}"
            );
        }
    }

    #[test]
    fn expected_len_rounds() {
        assert_eq!(expected_len(441, 44_100), 160);
        assert_eq!(expected_len(3, 48_000), 1);
        assert_eq!(expected_len(1, 48_000), 0);
        assert_eq!(expected_len(2, 48_000), 1);
    }
}
