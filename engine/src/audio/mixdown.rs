//! Channel mixdown: every frame becomes the mean of all its channels.
//!
//! Averaging (rather than keeping channel 0) matters for speech: phone-call and interview
//! recordings often put each speaker on their own channel, and some files have a silent
//! left channel. Samples are appended to a caller-owned buffer so that no allocation
//! happens per packet once the buffer has grown to the largest packet size.

use symphonia::core::audio::{AudioBuffer, AudioBufferRef, Signal};
use symphonia::core::conv::IntoSample;
use symphonia::core::sample::Sample;

/// Appends the mono mixdown of a decoded symphonia buffer to `out`.
pub(crate) fn mix_decoded(decoded: &AudioBufferRef<'_>, out: &mut Vec<f32>) {
    match decoded {
        AudioBufferRef::U8(buf) => mix_planar(buf, out),
        AudioBufferRef::U16(buf) => mix_planar(buf, out),
        AudioBufferRef::U24(buf) => mix_planar(buf, out),
        AudioBufferRef::U32(buf) => mix_planar(buf, out),
        AudioBufferRef::S8(buf) => mix_planar(buf, out),
        AudioBufferRef::S16(buf) => mix_planar(buf, out),
        AudioBufferRef::S24(buf) => mix_planar(buf, out),
        AudioBufferRef::S32(buf) => mix_planar(buf, out),
        AudioBufferRef::F32(buf) => {
            let start = out.len();
            mix_planar(buf, out);
            zero_non_finite(&mut out[start..]);
        }
        AudioBufferRef::F64(buf) => {
            let start = out.len();
            mix_planar(buf, out);
            zero_non_finite(&mut out[start..]);
        }
    }
}

fn mix_planar<S>(buf: &AudioBuffer<S>, out: &mut Vec<f32>)
where
    S: Sample + IntoSample<f32>,
{
    let frames = buf.frames();
    let channels = buf.spec().channels.count();
    let start = out.len();
    out.resize(start + frames, 0.0);
    let dst = &mut out[start..];
    if channels == 0 {
        return;
    }
    for ch in 0..channels {
        for (acc, &sample) in dst.iter_mut().zip(buf.chan(ch)) {
            *acc += sample.into_sample();
        }
    }
    if channels > 1 {
        let scale = 1.0 / channels as f32;
        dst.iter_mut().for_each(|s| *s *= scale);
    }
}

/// Appends the mono mixdown of interleaved samples (as produced by libopus) to `out`.
pub(crate) fn mix_interleaved(samples: &[f32], channels: usize, out: &mut Vec<f32>) {
    match channels {
        0 => {}
        1 => out.extend_from_slice(samples),
        n => {
            let scale = 1.0 / n as f32;
            out.extend(
                samples
                    .chunks_exact(n)
                    .map(|frame| frame.iter().sum::<f32>() * scale),
            );
        }
    }
}

/// Float WAVs can carry NaN or infinity; one such sample would poison the resampler and
/// every mel frame it touches, so it becomes silence instead.
fn zero_non_finite(samples: &mut [f32]) {
    for s in samples.iter_mut().filter(|s| !s.is_finite()) {
        *s = 0.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use symphonia::core::audio::{AsAudioBufferRef, Channels, SignalSpec};

    #[test]
    fn averages_all_channels() {
        let spec = SignalSpec::new(16_000, Channels::FRONT_LEFT | Channels::FRONT_RIGHT);
        let mut buf = AudioBuffer::<i16>::new(4, spec);
        buf.render_reserved(Some(4));
        buf.chan_mut(0).copy_from_slice(&[0, 0, 0, 0]);
        buf.chan_mut(1).copy_from_slice(&[16384, -16384, 0, 32767]);
        let mut out = vec![9.0];
        mix_decoded(&buf.as_audio_buffer_ref(), &mut out);
        assert_eq!(out.len(), 5);
        assert_eq!(out[0], 9.0, "existing samples are kept");
        assert!((out[1] - 0.25).abs() < 1e-6);
        assert!((out[2] + 0.25).abs() < 1e-6);
        assert!((out[4] - 0.5).abs() < 1e-4);
    }

    #[test]
    fn interleaved_mean_and_non_finite_floats() {
        let mut out = Vec::new();
        mix_interleaved(&[1.0, 0.0, 0.5, 0.5, -1.0, 1.0], 2, &mut out);
        assert_eq!(out, vec![0.5, 0.5, 0.0]);

        let spec = SignalSpec::new(16_000, Channels::FRONT_LEFT);
        let mut buf = AudioBuffer::<f32>::new(3, spec);
        buf.render_reserved(Some(3));
        buf.chan_mut(0)
            .copy_from_slice(&[f32::NAN, 0.25, f32::INFINITY]);
        let mut out = Vec::new();
        mix_decoded(&buf.as_audio_buffer_ref(), &mut out);
        assert_eq!(out, vec![0.0, 0.25, 0.0]);
    }
}
