//! Log-mel spectrogram, computed the way faster-whisper computes it so that the
//! encoder sees the same numbers: 160 zero samples appended, centred STFT with
//! reflect padding, periodic Hann window, power spectrum, Slaney mel filterbank,
//! log10 clamped to (global max - 8), then scaled by (x + 4) / 4.

use super::config::{HOP_SAMPLES, N_FFT, WINDOW_FRAMES};
use rayon::prelude::*;
use realfft::RealFftPlanner;

/// A whole recording's log-mel features, stored mel-bin major (`[n_mels][n_frames]`).
#[derive(Debug, Clone)]
pub struct MelSpectrogram {
    pub n_mels: usize,
    pub n_frames: usize,
    pub data: Vec<f32>,
}

impl MelSpectrogram {
    /// Frames that carry audio; the last computed frame only covers the appended padding.
    pub fn content_frames(&self) -> usize {
        self.n_frames.saturating_sub(1)
    }

    /// One encoder input of exactly [`WINDOW_FRAMES`] frames starting at `start_frame`,
    /// holding `len_frames` real frames and zeros after them (as the reference pads).
    pub fn window(&self, start_frame: usize, len_frames: usize) -> Vec<f32> {
        let mut out = vec![0f32; self.n_mels * WINDOW_FRAMES];
        let len = len_frames
            .min(WINDOW_FRAMES)
            .min(self.n_frames.saturating_sub(start_frame));
        for bin in 0..self.n_mels {
            let src = &self.data[bin * self.n_frames + start_frame..][..len];
            out[bin * WINDOW_FRAMES..][..len].copy_from_slice(src);
        }
        out
    }
}

/// Slaney-style mel filterbank (librosa's default), `[n_mels][N_FFT / 2 + 1]`.
pub fn mel_filterbank(sample_rate: usize, n_mels: usize) -> Vec<f64> {
    let n_bins = N_FFT / 2 + 1;
    // Slaney's scale: linear below 1 kHz, logarithmic above.
    let f_sp = 200.0 / 3.0;
    let min_log_hz = 1000.0;
    let min_log_mel = min_log_hz / f_sp;
    let log_step = 6.4f64.ln() / 27.0;
    let hz_to_mel = |hz: f64| {
        if hz >= min_log_hz {
            min_log_mel + (hz / min_log_hz).ln() / log_step
        } else {
            hz / f_sp
        }
    };
    let mel_to_hz = |mel: f64| {
        if mel >= min_log_mel {
            min_log_hz * (log_step * (mel - min_log_mel)).exp()
        } else {
            f_sp * mel
        }
    };
    let max_mel = hz_to_mel(sample_rate as f64 / 2.0);
    let edges_hz: Vec<f64> = (0..n_mels + 2)
        .map(|i| mel_to_hz(max_mel * i as f64 / (n_mels + 1) as f64))
        .collect();
    let bin_hz = |k: usize| k as f64 * sample_rate as f64 / N_FFT as f64;
    let mut weights = vec![0f64; n_mels * n_bins];
    for m in 0..n_mels {
        let (lo, centre, hi) = (edges_hz[m], edges_hz[m + 1], edges_hz[m + 2]);
        // Normalise each triangle to equal area so bands carry comparable energy.
        let norm = 2.0 / (hi - lo);
        for k in 0..n_bins {
            let f = bin_hz(k);
            let rising = (f - lo) / (centre - lo);
            let falling = (hi - f) / (hi - centre);
            weights[m * n_bins + k] = rising.min(falling).max(0.0) * norm;
        }
    }
    weights
}

/// Index into a signal of length `n` extended by mirror reflection (no edge repeat),
/// valid for any offset, as numpy's `reflect` padding does for short signals too.
fn reflect_index(i: isize, n: usize) -> usize {
    if n == 1 {
        return 0;
    }
    let period = 2 * (n as isize - 1);
    let mut j = i.rem_euclid(period);
    if j >= n as isize {
        j = period - j;
    }
    j as usize
}

/// Computes the log-mel spectrogram of 16 kHz mono audio.
pub fn log_mel_spectrogram(pcm_16k: &[f32], filters: &[f64], n_mels: usize) -> MelSpectrogram {
    let n_bins = N_FFT / 2 + 1;
    // Reference pads 160 zeros at the end, then centres the STFT with reflect padding.
    let padded_len = pcm_16k.len() + HOP_SAMPLES;
    let sample = |i: isize| -> f64 {
        let idx = reflect_index(i, padded_len);
        pcm_16k.get(idx).copied().unwrap_or(0.0) as f64
    };
    let half = (N_FFT / 2) as isize;
    let total_frames = 1 + padded_len / HOP_SAMPLES;
    // The reference drops the last STFT frame.
    let n_frames = total_frames - 1;
    let hann: Vec<f64> = (0..N_FFT)
        .map(|k| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * k as f64 / N_FFT as f64).cos())
        .collect();
    let fft = RealFftPlanner::<f64>::new().plan_fft_forward(N_FFT);

    // Frame-major mel energies, computed in parallel chunks of frames.
    let mut mel_frames = vec![0f64; n_frames * n_mels];
    mel_frames
        .par_chunks_mut(n_mels * 256)
        .enumerate()
        .for_each(|(chunk_idx, out)| {
            let mut frame = fft.make_input_vec();
            let mut spectrum = fft.make_output_vec();
            let mut scratch = fft.make_scratch_vec();
            let mut power = vec![0f64; n_bins];
            for (local, mel_out) in out.chunks_mut(n_mels).enumerate() {
                let t = chunk_idx * 256 + local;
                let start = (t * HOP_SAMPLES) as isize - half;
                for (k, v) in frame.iter_mut().enumerate() {
                    *v = sample(start + k as isize) * hann[k];
                }
                fft.process_with_scratch(&mut frame, &mut spectrum, &mut scratch)
                    .expect("FFT buffers are sized by the planner");
                for (p, c) in power.iter_mut().zip(&spectrum) {
                    *p = c.norm_sqr();
                }
                for (m, mel) in mel_out.iter_mut().enumerate() {
                    let row = &filters[m * n_bins..(m + 1) * n_bins];
                    *mel = row.iter().zip(&power).map(|(w, p)| w * p).sum();
                }
            }
        });

    let mut data = vec![0f32; n_mels * n_frames];
    let mut max_log = f64::NEG_INFINITY;
    for v in mel_frames.iter_mut() {
        *v = v.max(1e-10).log10();
        max_log = max_log.max(*v);
    }
    let floor = max_log - 8.0;
    for t in 0..n_frames {
        for m in 0..n_mels {
            let v = mel_frames[t * n_mels + m].max(floor);
            data[m * n_frames + t] = ((v + 4.0) / 4.0) as f32;
        }
    }
    MelSpectrogram {
        n_mels,
        n_frames,
        data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_count_follows_reference() {
        let filters = mel_filterbank(16_000, 80);
        let mel = log_mel_spectrogram(&vec![0.1f32; 16_000], &filters, 80);
        // 1 s of audio: 100 content frames plus the one covering the appended padding.
        assert_eq!(mel.content_frames(), 100);
        assert_eq!(mel.data.len(), 80 * mel.n_frames);
    }

    #[test]
    fn filterbank_triangles_are_normalised_and_cover_the_band() {
        let filters = mel_filterbank(16_000, 80);
        let n_bins = N_FFT / 2 + 1;
        for m in 0..80 {
            let row = &filters[m * n_bins..(m + 1) * n_bins];
            assert!(row.iter().any(|&w| w > 0.0), "band {m} is empty");
            assert!(row.iter().all(|&w| w >= 0.0));
        }
        // First band peaks near 33 Hz (bin 1 at 40 Hz spacing); librosa's value there is ~0.0245.
        assert!((filters[1] - 0.024_6).abs() < 1e-3, "got {}", filters[1]);
    }

    #[test]
    fn tiny_inputs_do_not_panic() {
        let filters = mel_filterbank(16_000, 80);
        for len in [0usize, 1, 2, 199, 200, 401] {
            let mel = log_mel_spectrogram(&vec![0.5f32; len], &filters, 80);
            assert!(mel.data.iter().all(|v| v.is_finite()));
        }
    }

    #[test]
    fn sine_energy_lands_in_the_right_band() {
        let filters = mel_filterbank(16_000, 80);
        let pcm: Vec<f32> = (0..16_000)
            .map(|i| (2.0 * std::f32::consts::PI * 440.0 * i as f32 / 16_000.0).sin())
            .collect();
        let mel = log_mel_spectrogram(&pcm, &filters, 80);
        let t = 50;
        let loudest = (0..80)
            .max_by(|&a, &b| {
                mel.data[a * mel.n_frames + t].total_cmp(&mel.data[b * mel.n_frames + t])
            })
            .unwrap();
        // 440 Hz sits in the linear part of the scale: mel 6.6 of 45.2, band ~ 6.6/45.2*81 - 1.
        assert!((9..=12).contains(&loudest), "loudest band {loudest}");
    }
}
