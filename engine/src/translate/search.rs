//! Decoding policy shared by greedy and beam search, independent of the network.
//!
//! Both searches reproduce transformers' `generate()` for Marian exactly (that is what the
//! reference test checks), including its logits processing at every step:
//! 1. log-softmax of the logits (beam search; greedy takes the argmax of raw logits),
//! 2. banned tokens (`bad_words_ids`, i.e. pad) set to -inf,
//! 3. on the last allowed step, everything but EOS set to -inf and EOS to 0
//!    (`ForcedEOSTokenLogitsProcessor`),
//! 4. optionally a second log-softmax (`renormalize_logits`, set by opus-mt models), so
//!    beam scores are log-probabilities over the tokens that can actually be chosen.
//!
//! The network is behind [`StepDecoder`]: one hypothesis' decoder state that consumes one
//! token and returns the next-token logits. Cloning it must be cheap (candle tensors are
//! reference counted), because beam search forks states when beams branch.

use super::config::EarlyStopping;
use super::error::Result;

/// A decoder state for one hypothesis.
pub(crate) trait StepDecoder: Clone {
    /// Feeds `token` at the next position; returns the logits for the token after it.
    fn step(&mut self, token: u32) -> Result<Vec<f32>>;
}

/// Everything the searches need, resolved from the options and the model.
#[derive(Debug, Clone)]
pub(crate) struct SearchParams {
    /// Decoder start token (Marian: the pad id).
    pub start: u32,
    pub eos: u32,
    /// Tokens never generated, sorted.
    pub suppressed: Vec<u32>,
    /// Maximum number of generated tokens, EOS included (transformers' `max_new_tokens`).
    pub max_new_tokens: usize,
    pub beam_size: usize,
    pub length_penalty: f32,
    pub early_stopping: EarlyStopping,
    pub renormalize: bool,
}

/// A finished output sequence.
#[derive(Debug, Clone, PartialEq)]
pub struct Hypothesis {
    /// Generated ids without the decoder start token; ends with EOS (generation always
    /// ends with EOS: by choice or forced at the length limit).
    pub tokens: Vec<u32>,
    /// Sum of the token log-probabilities divided by `len ^ length_penalty`: for beam
    /// search the value transformers reports as `sequences_scores`; for greedy the same
    /// formula over the distribution restricted to the allowed tokens (transformers
    /// reports none).
    pub score: f32,
}

impl SearchParams {
    /// Whether the token generated after `generated` tokens is the last one allowed.
    pub(crate) fn is_last_step(&self, generated: usize) -> bool {
        generated + 1 >= self.max_new_tokens
    }

    /// Bans suppressed tokens and, on the last step, forces EOS (steps 2 and 3 above).
    fn restrict(&self, scores: &mut [f32], generated: usize) {
        for &id in &self.suppressed {
            if let Some(s) = scores.get_mut(id as usize) {
                *s = f32::NEG_INFINITY;
            }
        }
        if self.is_last_step(generated) {
            scores.fill(f32::NEG_INFINITY);
            if let Some(s) = scores.get_mut(self.eos as usize) {
                *s = 0.0;
            }
        }
    }

    /// Next-token log-probabilities as transformers' beam search computes them.
    pub(crate) fn log_probs(&self, mut logits: Vec<f32>, generated: usize) -> Vec<f32> {
        log_softmax(&mut logits);
        self.restrict(&mut logits, generated);
        if self.renormalize {
            log_softmax(&mut logits);
        }
        logits
    }

    /// `score / len ^ length_penalty`, in f32 like transformers.
    pub(crate) fn normalise(&self, sum_log_probs: f32, len: usize) -> f32 {
        sum_log_probs / (len as f64).powf(self.length_penalty as f64) as f32
    }
}

/// In-place log-softmax (max-subtracted; -inf entries stay -inf).
pub(crate) fn log_softmax(xs: &mut [f32]) {
    let max = xs.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    if max == f32::NEG_INFINITY {
        return;
    }
    let sum: f64 = xs.iter().map(|&x| ((x - max) as f64).exp()).sum();
    let log_sum = sum.ln() as f32;
    for x in xs.iter_mut() {
        *x = *x - max - log_sum;
    }
}

/// Index of the largest value; the first one on ties, like `torch.argmax`.
fn argmax(xs: &[f32]) -> usize {
    let mut best = 0;
    for (i, &x) in xs.iter().enumerate() {
        if x > xs[best] {
            best = i;
        }
    }
    best
}

/// Greedy search: the most likely token at each step until EOS or the length limit.
pub(crate) fn greedy<D: StepDecoder>(mut state: D, params: &SearchParams) -> Result<Hypothesis> {
    let mut tokens = Vec::new();
    let mut sum = 0f32;
    let mut last = params.start;
    while tokens.len() < params.max_new_tokens {
        let mut logits = state.step(last)?;
        // transformers' greedy path applies the processors to the raw logits and takes the
        // argmax, so rounding in a log-softmax cannot change its choice; neither can here.
        params.restrict(&mut logits, tokens.len());
        let token = argmax(&logits) as u32;
        let log_probs = {
            let mut lp = logits;
            log_softmax(&mut lp);
            lp
        };
        sum += log_probs[token as usize];
        tokens.push(token);
        if token == params.eos {
            break;
        }
        last = token;
    }
    let score = params.normalise(sum, tokens.len());
    Ok(Hypothesis { tokens, score })
}

#[cfg(test)]
pub(crate) mod testing {
    //! A fake decoder for testing the searches without a network.
    use super::*;
    use std::collections::HashMap;

    /// Returns fixed log-probabilities per prefix (the tokens fed so far, start token
    /// excluded); prefixes not in the table get `fallback`.
    #[derive(Clone)]
    pub struct TableDecoder {
        pub table: std::rc::Rc<HashMap<Vec<u32>, Vec<f32>>>,
        pub fallback: Vec<f32>,
        pub fed: Vec<u32>,
        pub start: u32,
    }

    impl TableDecoder {
        pub fn new(start: u32, fallback: Vec<f32>, rows: &[(&[u32], Vec<f32>)]) -> Self {
            let table = rows.iter().map(|(k, v)| (k.to_vec(), v.clone())).collect();
            Self {
                table: std::rc::Rc::new(table),
                fallback,
                fed: Vec::new(),
                start,
            }
        }
    }

    impl StepDecoder for TableDecoder {
        fn step(&mut self, token: u32) -> Result<Vec<f32>> {
            if token != self.start || !self.fed.is_empty() {
                self.fed.push(token);
            }
            Ok(self
                .table
                .get(&self.fed)
                .cloned()
                .unwrap_or_else(|| self.fallback.clone()))
        }
    }

    /// Log-probabilities from probabilities (the fake decoder returns "logits" that are
    /// already normalised, so log-softmax leaves them unchanged).
    pub fn lp(probs: &[f32]) -> Vec<f32> {
        probs.iter().map(|p| p.ln()).collect()
    }

    pub fn params(beam_size: usize, max_new_tokens: usize) -> SearchParams {
        SearchParams {
            start: 5,
            eos: 0,
            suppressed: vec![5],
            max_new_tokens,
            beam_size,
            length_penalty: 1.0,
            early_stopping: EarlyStopping::Heuristic,
            renormalize: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;

    #[test]
    fn log_softmax_normalises_and_keeps_neg_infinity() {
        let mut xs = vec![1.0, 2.0, f32::NEG_INFINITY, 3.0];
        log_softmax(&mut xs);
        let total: f32 = xs.iter().map(|x| x.exp()).sum();
        assert!((total - 1.0).abs() < 1e-6);
        assert_eq!(xs[2], f32::NEG_INFINITY);
        assert!(xs[3] > xs[1] && xs[1] > xs[0]);
    }

    #[test]
    fn greedy_never_emits_suppressed_tokens_and_stops_at_eos() {
        // Vocabulary 0..6: 0 = EOS, 5 = start/pad. Pad is the most likely token at first.
        let d = TableDecoder::new(
            5,
            lp(&[0.7, 0.1, 0.1, 0.05, 0.03, 0.02]),
            &[(&[], lp(&[0.01, 0.2, 0.09, 0.1, 0.1, 0.5]))],
        );
        let h = greedy(d, &params(1, 10)).unwrap();
        assert_eq!(h.tokens, vec![1, 0]);
    }

    #[test]
    fn greedy_forces_eos_on_the_last_step() {
        let d = TableDecoder::new(5, lp(&[0.01, 0.9, 0.03, 0.03, 0.02, 0.01]), &[]);
        let h = greedy(d, &params(1, 3)).unwrap();
        assert_eq!(h.tokens, vec![1, 1, 0]);
        // Scores are over the allowed tokens (pad excluded); the forced EOS adds log 1 = 0.
        let want = 2.0 * (0.9f32 / 0.99).ln() / 3.0;
        assert!((h.score - want).abs() < 1e-5, "{} vs {want}", h.score);
    }

    #[test]
    fn renormalisation_excludes_banned_tokens() {
        let p = SearchParams {
            renormalize: true,
            ..params(2, 10)
        };
        let lps = p.log_probs(lp(&[0.25, 0.25, 0.0, 0.0, 0.0, 0.5]), 0);
        assert!((lps[0] - 0.5f32.ln()).abs() < 1e-6);
        assert_eq!(lps[5], f32::NEG_INFINITY);
    }
}
