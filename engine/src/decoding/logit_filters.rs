//! Rules applied to the logits before each token is chosen: suppressed tokens, no
//! blank start, and Whisper's timestamp grammar (timestamps in pairs, never going
//! back, a timestamp first, and a timestamp when their total probability wins).

use crate::whisper::tokens::SpecialTokens;

/// The state a filter needs: what was generated so far in this window.
pub struct FilterContext<'a> {
    pub special: &'a SpecialTokens,
    pub suppress: &'a [u32],
    pub begin_suppress: Option<&'a [u32]>,
    /// Largest allowed index (in timestamp steps) of the first timestamp.
    pub max_initial_timestamp_index: Option<u32>,
}

fn mask_range(logits: &mut [f32], from: usize, to: usize) {
    let to = to.min(logits.len());
    if from < to {
        logits[from..to].fill(f32::NEG_INFINITY);
    }
}

/// Applies every rule in place to the logits for the next token after `generated`.
pub fn apply(ctx: &FilterContext, generated: &[u32], logits: &mut [f32]) {
    let s = ctx.special;
    let ts_begin = s.timestamp_begin as usize;
    let eot = s.eot as usize;
    for &id in ctx.suppress {
        if let Some(l) = logits.get_mut(id as usize) {
            *l = f32::NEG_INFINITY;
        }
    }
    if generated.is_empty() {
        if let Some(begin) = ctx.begin_suppress {
            for &id in begin {
                if let Some(l) = logits.get_mut(id as usize) {
                    *l = f32::NEG_INFINITY;
                }
            }
        }
    }
    if let Some(l) = logits.get_mut(s.no_timestamps as usize) {
        *l = f32::NEG_INFINITY;
    }

    let is_ts = |t: u32| t >= s.timestamp_begin;
    let last_was_ts = generated.last().is_some_and(|&t| is_ts(t));
    let penultimate_was_ts = generated.len() < 2 || is_ts(generated[generated.len() - 2]);
    if last_was_ts {
        if penultimate_was_ts {
            mask_range(logits, ts_begin, logits.len());
        } else {
            mask_range(logits, 0, eot);
        }
    }
    if let Some(&last_ts) = generated.iter().rev().find(|&&t| is_ts(t)) {
        // Timestamps never decrease, and a segment must have non-zero length.
        let bound = if last_was_ts && !penultimate_was_ts {
            last_ts
        } else {
            last_ts + 1
        };
        mask_range(logits, ts_begin, bound as usize);
    }
    if generated.is_empty() {
        mask_range(logits, 0, ts_begin);
        if let Some(max_idx) = ctx.max_initial_timestamp_index {
            mask_range(logits, ts_begin + max_idx as usize + 1, logits.len());
        }
    }

    // If the timestamps together are likelier than any single text token, emit a timestamp.
    let max_all = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    if max_all == f32::NEG_INFINITY {
        return;
    }
    let log_norm = max_all
        + logits
            .iter()
            .map(|&l| (l - max_all).exp())
            .sum::<f32>()
            .ln();
    let ts_tail = &logits[ts_begin.min(logits.len())..];
    let ts_max = ts_tail.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    if ts_max == f32::NEG_INFINITY {
        return;
    }
    let ts_logsumexp = ts_max
        + ts_tail
            .iter()
            .map(|&l| (l - ts_max).exp())
            .sum::<f32>()
            .ln();
    let text_max = logits[..ts_begin.min(logits.len())]
        .iter()
        .copied()
        .fold(f32::NEG_INFINITY, f32::max);
    if ts_logsumexp - log_norm > text_max - log_norm {
        mask_range(logits, 0, ts_begin);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn special() -> SpecialTokens {
        SpecialTokens {
            eot: 10,
            sot: 11,
            sot_prev: 12,
            sot_lm: 13,
            translate: 14,
            transcribe: 15,
            no_speech: 16,
            no_timestamps: 17,
            timestamp_begin: 18,
        }
    }

    fn ctx(s: &SpecialTokens) -> FilterContext<'_> {
        FilterContext {
            special: s,
            suppress: &[3],
            begin_suppress: Some(&[4, 10]),
            max_initial_timestamp_index: Some(2),
        }
    }

    #[test]
    fn first_token_is_an_early_timestamp() {
        let s = special();
        let mut logits = vec![0f32; 30];
        apply(&ctx(&s), &[], &mut logits);
        let allowed: Vec<usize> = (0..30).filter(|&i| logits[i].is_finite()).collect();
        assert_eq!(allowed, vec![18, 19, 20]);
    }

    #[test]
    fn after_text_and_timestamp_only_timestamps_or_eot() {
        let s = special();
        let mut logits = vec![0f32; 30];
        logits[10] = 5.0;
        apply(&ctx(&s), &[18, 5, 22], &mut logits);
        // Closing timestamp 22 may repeat as the next opening one; text is forbidden.
        assert!(logits[..10].iter().all(|l| l.is_infinite()));
        assert!(logits[10].is_finite());
        assert!(logits[21].is_infinite() && logits[22].is_finite());
    }

    #[test]
    fn after_a_timestamp_pair_text_must_follow() {
        let s = special();
        let mut logits = vec![0f32; 30];
        apply(&ctx(&s), &[18, 5, 22, 22], &mut logits);
        assert!(logits[18..].iter().all(|l| l.is_infinite()));
        assert!(logits[5].is_finite());
        assert!(logits[3].is_infinite(), "suppressed token");
    }

    #[test]
    fn timestamps_win_when_their_mass_beats_text() {
        let s = special();
        let mut logits = vec![0f32; 30];
        logits[5] = 1.0;
        for l in &mut logits[18..] {
            *l = 0.5;
        }
        apply(&ctx(&s), &[18, 5], &mut logits);
        assert!(logits[5].is_infinite());
    }
}
