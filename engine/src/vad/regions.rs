//! Speech regions from per-chunk probabilities: hysteresis, short blips dropped,
//! close regions merged, and padding so word edges are not cut.

use super::silero::CHUNK_SAMPLES;

/// A stretch of speech, in samples at 16 kHz.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpeechRegion {
    pub start_sample: usize,
    pub end_sample: usize,
}

#[derive(Debug, Clone)]
pub struct RegionOptions {
    /// A chunk at or above this probability starts speech.
    pub threshold: f32,
    /// Speech continues until the probability falls below this.
    pub neg_threshold: f32,
    /// Regions shorter than this are dropped as clicks.
    pub min_speech_samples: usize,
    /// Gaps shorter than this do not end a region.
    pub min_silence_samples: usize,
    /// Added on both sides of each region.
    pub pad_samples: usize,
}

impl Default for RegionOptions {
    fn default() -> Self {
        Self {
            threshold: 0.5,
            neg_threshold: 0.35,
            min_speech_samples: 16 * 250,
            min_silence_samples: 16 * 2000,
            pad_samples: 16 * 400,
        }
    }
}

pub fn speech_regions(
    probs: &[f32],
    total_samples: usize,
    opts: &RegionOptions,
) -> Vec<SpeechRegion> {
    let mut raw: Vec<SpeechRegion> = Vec::new();
    let mut start: Option<usize> = None;
    let mut silence_since: Option<usize> = None;
    for (i, &p) in probs.iter().enumerate() {
        let at = i * CHUNK_SAMPLES;
        match start {
            None if p >= opts.threshold => {
                start = Some(at);
                silence_since = None;
            }
            Some(s) => {
                if p >= opts.threshold {
                    silence_since = None;
                } else if p < opts.neg_threshold {
                    let since = *silence_since.get_or_insert(at);
                    if at + CHUNK_SAMPLES - since >= opts.min_silence_samples {
                        raw.push(SpeechRegion {
                            start_sample: s,
                            end_sample: since,
                        });
                        start = None;
                        silence_since = None;
                    }
                }
            }
            None => {}
        }
    }
    if let Some(s) = start {
        raw.push(SpeechRegion {
            start_sample: s,
            end_sample: silence_since.unwrap_or(total_samples),
        });
    }
    let mut out: Vec<SpeechRegion> = Vec::new();
    for r in raw
        .into_iter()
        .filter(|r| r.end_sample - r.start_sample >= opts.min_speech_samples)
    {
        let padded = SpeechRegion {
            start_sample: r.start_sample.saturating_sub(opts.pad_samples),
            end_sample: (r.end_sample + opts.pad_samples).min(total_samples),
        };
        match out.last_mut() {
            Some(last) if padded.start_sample <= last.end_sample => {
                last.end_sample = padded.end_sample
            }
            _ => out.push(padded),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> RegionOptions {
        RegionOptions {
            min_silence_samples: 3 * CHUNK_SAMPLES,
            min_speech_samples: 2 * CHUNK_SAMPLES,
            pad_samples: 0,
            ..Default::default()
        }
    }

    #[test]
    fn silence_gives_no_region() {
        assert!(speech_regions(&[0.1; 100], 100 * CHUNK_SAMPLES, &opts()).is_empty());
    }

    #[test]
    fn a_single_blip_is_dropped_and_speech_kept() {
        let mut p = vec![0.0f32; 40];
        p[3] = 0.9;
        for v in &mut p[10..20] {
            *v = 0.9;
        }
        let r = speech_regions(&p, 40 * CHUNK_SAMPLES, &opts());
        assert_eq!(
            r,
            vec![SpeechRegion {
                start_sample: 10 * CHUNK_SAMPLES,
                end_sample: 20 * CHUNK_SAMPLES
            }]
        );
    }

    #[test]
    fn short_gaps_do_not_split_and_hysteresis_holds() {
        let mut p = vec![0.9f32; 30];
        p[10] = 0.1;
        p[11] = 0.4; // between the thresholds: still speech
        let r = speech_regions(&p, 30 * CHUNK_SAMPLES, &opts());
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].end_sample, 30 * CHUNK_SAMPLES);
    }
}
