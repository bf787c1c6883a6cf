//! Beam search with the exact semantics of transformers' `generate(num_beams=N)`.
//!
//! Per step, following transformers 5.x `_beam_search` for one input:
//! - every running beam is scored over the whole vocabulary (log-probabilities processed
//!   as in [`super::search`]) and the best `2N` continuations over all beams are kept
//!   (twice the beam size, so that `N` unfinished ones remain even if `N` chose EOS);
//! - a continuation that ends (EOS, or the length limit) is a finished hypothesis only if
//!   it ranks among the best `N`; its score is `sum_logprobs / len ^ length_penalty` with
//!   `len` counting generated tokens including EOS; the best `N` finished are kept;
//! - the best `N` continuations that did not end become the next running beams;
//! - the search stops at the length limit, when `N` hypotheses have finished and
//!   `early_stopping` is true, or when they have finished and the best running beam,
//!   normalised at the current length (or the maximum length for `"never"` with a positive
//!   penalty), cannot beat the worst finished one.
//!
//! transformers starts with `N` copies of the start state, all but one at a -1e9 score
//! so that only the first is ever expanded; starting with a single beam is the same
//! search as long as the vocabulary has at least `2N` tokens (every real model).
//!
//! Each running beam owns its decoder state; a branch clones its parent's (cheap: candle
//! tensors are reference counted), which replaces transformers' KV-cache reordering.

use super::config::EarlyStopping;
use super::error::Result;
use super::search::{Hypothesis, SearchParams, StepDecoder};
use std::cmp::Ordering;

struct Running<D> {
    tokens: Vec<u32>,
    /// Sum of the log-probabilities of `tokens`.
    score: f32,
    /// Decoder state that has consumed the start token and all of `tokens` but the last.
    state: D,
}

#[derive(Debug, Clone, Copy)]
struct Candidate {
    score: f32,
    beam: usize,
    token: u32,
}

/// Best first; equal scores in (beam, token) order, i.e. the flat index order of
/// transformers' `topk` over `num_beams * vocab`.
fn by_score(a: &Candidate, b: &Candidate) -> Ordering {
    b.score
        .total_cmp(&a.score)
        .then(a.beam.cmp(&b.beam))
        .then(a.token.cmp(&b.token))
}

/// The `k` best tokens of one beam (the overall best `k` contain at most `k` of each).
fn push_best_tokens(out: &mut Vec<Candidate>, log_probs: &[f32], base: f32, beam: usize, k: usize) {
    let mut ids: Vec<u32> = (0..log_probs.len() as u32).collect();
    let better = |a: &u32, b: &u32| {
        log_probs[*b as usize]
            .total_cmp(&log_probs[*a as usize])
            .then(a.cmp(b))
    };
    if ids.len() > k {
        ids.select_nth_unstable_by(k - 1, better);
        ids.truncate(k);
    }
    out.extend(ids.into_iter().map(|token| Candidate {
        score: base + log_probs[token as usize],
        beam,
        token,
    }));
}

pub(crate) fn beam_search<D: StepDecoder>(initial: D, params: &SearchParams) -> Result<Hypothesis> {
    let n = params.beam_size.max(1);
    let keep = 2 * n;
    let mut running = vec![Running {
        tokens: Vec::new(),
        score: 0.0,
        state: initial,
    }];
    // Best first, at most `n`.
    let mut finished: Vec<Hypothesis> = Vec::with_capacity(n + keep);

    for generated in 0..params.max_new_tokens {
        let mut candidates = Vec::with_capacity(keep * running.len());
        for (index, beam) in running.iter_mut().enumerate() {
            let last = beam.tokens.last().copied().unwrap_or(params.start);
            let log_probs = params.log_probs(beam.state.step(last)?, generated);
            push_best_tokens(&mut candidates, &log_probs, beam.score, index, keep);
        }
        candidates.sort_by(by_score);
        candidates.truncate(keep);

        let last_step = params.is_last_step(generated);
        let ends = |c: &Candidate| c.token == params.eos || last_step;

        // Finished hypotheses: only from the top `n` continuations.
        let was_full = finished.len() == n;
        let closed_to_new = was_full && params.early_stopping == EarlyStopping::OnFullBeam;
        for c in candidates.iter().take(n) {
            if ends(c) && c.score.is_finite() && !closed_to_new {
                let mut tokens = running[c.beam].tokens.clone();
                tokens.push(c.token);
                let score = params.normalise(c.score, tokens.len());
                finished.push(Hypothesis { tokens, score });
            }
        }
        // Stable sort: on equal scores the earlier hypothesis stays ahead.
        finished.sort_by(|a, b| b.score.total_cmp(&a.score));
        finished.truncate(n);
        if last_step {
            break;
        }

        // The next running beams: the best `n` continuations that did not end.
        let mut next = Vec::with_capacity(n);
        for c in candidates
            .iter()
            .filter(|c| !ends(c) && c.score.is_finite())
        {
            let parent = &running[c.beam];
            let mut tokens = Vec::with_capacity(parent.tokens.len() + 1);
            tokens.extend_from_slice(&parent.tokens);
            tokens.push(c.token);
            next.push(Running {
                tokens,
                score: c.score,
                state: parent.state.clone(),
            });
            if next.len() == n {
                break;
            }
        }
        running = next;
        if running.is_empty() {
            break;
        }

        if finished.len() == n {
            if params.early_stopping == EarlyStopping::OnFullBeam {
                break;
            }
            let hypothetical_len =
                if params.early_stopping == EarlyStopping::Never && params.length_penalty > 0.0 {
                    params.max_new_tokens
                } else {
                    generated + 1
                };
            let best_possible = params.normalise(running[0].score, hypothetical_len);
            let worst_finished = finished[n - 1].score;
            if best_possible <= worst_finished {
                break;
            }
        }
    }

    match finished.into_iter().next() {
        Some(best) => Ok(best),
        // Only reachable if every continuation was banned (-inf); end the best beam.
        None => {
            let best = running.into_iter().next();
            let (mut tokens, score) = best.map(|b| (b.tokens, b.score)).unwrap_or_default();
            tokens.push(params.eos);
            let score = params.normalise(score, tokens.len());
            Ok(Hypothesis { tokens, score })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::search::greedy;
    use super::super::search::testing::*;
    use super::*;

    // Vocabulary 0..6: 0 = EOS, 1 = A, 2 = B, 3, 4, 5 = start/pad (banned).
    fn garden_path() -> TableDecoder {
        TableDecoder::new(
            5,
            lp(&[0.9, 0.03, 0.03, 0.02, 0.01, 0.01]),
            &[
                (&[], lp(&[0.01, 0.55, 0.40, 0.02, 0.01, 0.01])),
                (&[1], lp(&[0.30, 0.10, 0.10, 0.25, 0.24, 0.01])),
                (&[2], lp(&[0.90, 0.03, 0.03, 0.02, 0.01, 0.01])),
            ],
        )
    }

    #[test]
    fn beam_finds_the_better_sequence_greedy_misses() {
        assert_eq!(
            greedy(garden_path(), &params(1, 10)).unwrap().tokens,
            vec![1, 0]
        );
        let h = beam_search(garden_path(), &params(2, 10)).unwrap();
        assert_eq!(h.tokens, vec![2, 0]);
        let want = (0.40f32.ln() + 0.90f32.ln()) / 2.0;
        assert!((h.score - want).abs() < 1e-6);
    }

    #[test]
    fn length_penalty_trades_score_for_length() {
        // [B, EOS] has the higher total log-probability (-1.43 vs -1.81), [A, 3, EOS] the
        // higher per-token one (-0.60 vs -0.71); the rest of the tree is worse on both.
        let table = TableDecoder::new(
            5,
            lp(&[0.001, 0.4, 0.3, 0.2, 0.089, 0.01]),
            &[
                (&[], lp(&[0.01, 0.55, 0.40, 0.02, 0.01, 0.01])),
                (&[1], lp(&[0.2, 0.0, 0.0, 0.3, 0.5, 0.0])),
                (&[2], lp(&[0.6, 0.1, 0.1, 0.1, 0.09, 0.01])),
                (&[1, 3], lp(&[0.99, 0.0025, 0.0025, 0.0025, 0.0025, 0.0])),
            ],
        );
        let with_penalty = |length_penalty| SearchParams {
            length_penalty,
            ..params(2, 10)
        };
        let total = beam_search(table.clone(), &with_penalty(0.0)).unwrap();
        assert_eq!(total.tokens, vec![2, 0]);
        let per_token = beam_search(table, &with_penalty(1.0)).unwrap();
        assert_eq!(per_token.tokens, vec![1, 3, 0]);
        let want = (0.55f32.ln() + 0.3f32.ln() + 0.99f32.ln()) / 3.0;
        assert!((per_token.score - want).abs() < 1e-5);
    }

    #[test]
    fn length_limit_forces_eos_into_every_hypothesis() {
        // EOS is unlikely everywhere: the search runs to the limit and EOS is forced.
        let d = TableDecoder::new(5, lp(&[0.001, 0.5, 0.3, 0.1, 0.089, 0.01]), &[]);
        for beams in [2, 3] {
            let h = beam_search(d.clone(), &params(beams, 4)).unwrap();
            assert_eq!(h.tokens, vec![1, 1, 1, 0]);
            // Not renormalised (renormalize: false): the forced EOS adds log 1 = 0, the
            // other tokens their log-probability with the banned pad still in the total.
            let want = 3.0 * 0.5f32.ln() / 4.0;
            assert!((h.score - want).abs() < 1e-5, "{} vs {want}", h.score);
        }
    }

    #[test]
    fn early_stopping_true_returns_once_the_beam_is_full() {
        let p = SearchParams {
            early_stopping: EarlyStopping::OnFullBeam,
            ..params(2, 10)
        };
        assert_eq!(beam_search(garden_path(), &p).unwrap().tokens, vec![2, 0]);
    }

    #[test]
    fn candidate_order_breaks_ties_by_flat_index() {
        let mut cs = [
            Candidate {
                score: -1.0,
                beam: 1,
                token: 0,
            },
            Candidate {
                score: -1.0,
                beam: 0,
                token: 7,
            },
            Candidate {
                score: -0.5,
                beam: 1,
                token: 3,
            },
        ];
        cs.sort_by(by_score);
        let order: Vec<_> = cs.iter().map(|c| (c.beam, c.token)).collect();
        assert_eq!(order, vec![(1, 3), (0, 7), (1, 0)]);
    }
}
