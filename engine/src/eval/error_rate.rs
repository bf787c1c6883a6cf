//! Word and character error counts: a Levenshtein alignment of reference and hypothesis
//! that reports substitutions, deletions and insertions separately, in memory linear in
//! the shorter sequence.

use std::iter::Sum;
use std::ops::{Add, AddAssign};

/// Edit counts of one alignment (or, summed with `+=`, of a whole corpus).
///
/// Substitutions, deletions (reference tokens missing from the hypothesis) and
/// insertions (hypothesis tokens not in the reference) of a minimum-edit alignment, and
/// the number of reference tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ErrorCounts {
    pub substitutions: usize,
    pub deletions: usize,
    pub insertions: usize,
    pub reference_len: usize,
}

impl ErrorCounts {
    /// Total edits: substitutions + deletions + insertions.
    pub fn edits(&self) -> usize {
        self.substitutions + self.deletions + self.insertions
    }

    /// Error rate: edits / reference length (may exceed 1 with many insertions).
    ///
    /// With an empty reference it is 0.0 when there are no edits and `f64::INFINITY`
    /// otherwise.
    pub fn rate(&self) -> f64 {
        match (self.edits(), self.reference_len) {
            (0, _) => 0.0,
            (_, 0) => f64::INFINITY,
            (edits, len) => edits as f64 / len as f64,
        }
    }
}

impl AddAssign for ErrorCounts {
    fn add_assign(&mut self, other: Self) {
        self.substitutions += other.substitutions;
        self.deletions += other.deletions;
        self.insertions += other.insertions;
        self.reference_len += other.reference_len;
    }
}

impl Add for ErrorCounts {
    type Output = ErrorCounts;

    fn add(mut self, other: Self) -> ErrorCounts {
        self += other;
        self
    }
}

impl Sum for ErrorCounts {
    fn sum<I: Iterator<Item = ErrorCounts>>(iter: I) -> ErrorCounts {
        iter.fold(ErrorCounts::default(), Add::add)
    }
}

/// Word-level edit counts of `hypothesis` against `reference`, both split on whitespace.
///
/// Pass text that is already normalised (see [`super::normalize_english`] and
/// [`super::normalize_basic`]); words are compared exactly.
///
/// ```
/// use stt_engine::eval::word_errors;
/// let e = word_errors("the cat sat on the mat", "the cat sat on mat today");
/// assert_eq!((e.substitutions, e.deletions, e.insertions), (0, 1, 1));
/// assert_eq!(e.reference_len, 6);
/// ```
pub fn word_errors(reference: &str, hypothesis: &str) -> ErrorCounts {
    let reference: Vec<&str> = reference.split_whitespace().collect();
    let hypothesis: Vec<&str> = hypothesis.split_whitespace().collect();
    align(&reference, &hypothesis)
}

/// Character-level edit counts of `hypothesis` against `reference`, ignoring whitespace.
///
/// Characters are Unicode scalar values, so a letter written with a combining accent
/// counts as two characters; normalise first.
///
/// ```
/// use stt_engine::eval::char_errors;
/// let e = char_errors("广州市 房地产", "广州房地产中介");
/// assert_eq!((e.substitutions, e.deletions, e.insertions), (0, 1, 2));
/// assert_eq!(e.reference_len, 6);
/// ```
pub fn char_errors(reference: &str, hypothesis: &str) -> ErrorCounts {
    let reference: Vec<char> = reference.chars().filter(|c| !c.is_whitespace()).collect();
    let hypothesis: Vec<char> = hypothesis.chars().filter(|c| !c.is_whitespace()).collect();
    align(&reference, &hypothesis)
}

/// One DP cell: the counts of a minimum-cost alignment of the two prefixes.
#[derive(Clone, Copy, Default)]
struct Cell {
    substitutions: usize,
    deletions: usize,
    insertions: usize,
}

impl Cell {
    /// Total edits first, then substitutions: among minimum-edit alignments the one with
    /// the fewest substitutions has the most matched tokens. Both terms add up along a
    /// path, so choosing by this key cell by cell gives the best alignment overall.
    fn key(&self) -> (usize, usize) {
        (
            self.substitutions + self.deletions + self.insertions,
            self.substitutions,
        )
    }
}

/// Levenshtein alignment keeping one DP row over the shorter sequence. Each cell carries
/// the substitution/deletion/insertion counts of its best path: fewest edits, then
/// fewest substitutions (most matches); remaining ties prefer a match or substitution,
/// then a deletion, then an insertion.
fn align<T: PartialEq>(reference: &[T], hypothesis: &[T]) -> ErrorCounts {
    // Rows run over the longer sequence, the kept row over the shorter one. When the
    // roles are swapped, deletions and insertions swap too.
    let swapped = reference.len() < hypothesis.len();
    let (outer, inner) = if swapped {
        (hypothesis, reference)
    } else {
        (reference, hypothesis)
    };

    // row[j]: alignment of outer[..i] with inner[..j]. Counts are kept as if `outer` were
    // the reference: consuming an outer token alone is a "deletion".
    let mut row: Vec<Cell> = (0..=inner.len())
        .map(|j| Cell {
            insertions: j,
            ..Cell::default()
        })
        .collect();
    for (i, outer_token) in outer.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = Cell {
            deletions: i + 1,
            ..Cell::default()
        };
        for (j, inner_token) in inner.iter().enumerate() {
            let mut sub = diagonal;
            if outer_token != inner_token {
                sub.substitutions += 1;
            }
            let mut del = row[j + 1];
            del.deletions += 1;
            let mut ins = row[j];
            ins.insertions += 1;

            let mut best = sub;
            if del.key() < best.key() {
                best = del;
            }
            if ins.key() < best.key() {
                best = ins;
            }
            diagonal = row[j + 1];
            row[j + 1] = best;
        }
    }

    let last = row[inner.len()];
    let (deletions, insertions) = if swapped {
        (last.insertions, last.deletions)
    } else {
        (last.deletions, last.insertions)
    };
    ErrorCounts {
        substitutions: last.substitutions,
        deletions,
        insertions,
        reference_len: reference.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(s: usize, d: usize, i: usize, n: usize) -> ErrorCounts {
        ErrorCounts {
            substitutions: s,
            deletions: d,
            insertions: i,
            reference_len: n,
        }
    }

    /// Plain full-matrix Levenshtein distance, to check the edit totals.
    fn reference_distance<T: PartialEq>(a: &[T], b: &[T]) -> usize {
        let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
        for (i, row) in d.iter_mut().enumerate() {
            row[0] = i;
        }
        d[0] = (0..=b.len()).collect();
        for i in 1..=a.len() {
            for j in 1..=b.len() {
                let sub = d[i - 1][j - 1] + usize::from(a[i - 1] != b[j - 1]);
                d[i][j] = sub.min(d[i - 1][j] + 1).min(d[i][j - 1] + 1);
            }
        }
        d[a.len()][b.len()]
    }

    #[test]
    fn identical_and_empty() {
        assert_eq!(word_errors("a b c", "a b c"), counts(0, 0, 0, 3));
        assert_eq!(word_errors("", ""), counts(0, 0, 0, 0));
        assert_eq!(word_errors("a b", ""), counts(0, 2, 0, 2));
        assert_eq!(word_errors("", "a b"), counts(0, 0, 2, 0));
        assert_eq!(word_errors("  a   b ", "a b"), counts(0, 0, 0, 2));
    }

    #[test]
    fn substitutions_deletions_insertions() {
        assert_eq!(word_errors("a b c", "a x c"), counts(1, 0, 0, 3));
        assert_eq!(word_errors("a b c", "a c"), counts(0, 1, 0, 3));
        assert_eq!(word_errors("a c", "a b c"), counts(0, 0, 1, 2));
        assert_eq!(word_errors("a b c d", "x a b d e f"), counts(0, 1, 3, 4));
        assert_eq!(word_errors("a b", "c d e f"), counts(2, 0, 2, 2));
        // Equal edit totals, fewer substitutions wins (more words matched).
        assert_eq!(word_errors("a b c d", "a b d e f"), counts(0, 1, 2, 4));
        assert_eq!(word_errors("a b c d e", "x y"), counts(2, 3, 0, 5));
    }

    #[test]
    fn chars_ignore_spaces() {
        assert_eq!(char_errors("ab c", "a bc"), counts(0, 0, 0, 3));
        assert_eq!(char_errors("kitten", "sitting"), counts(2, 0, 1, 6));
        assert_eq!(char_errors("sitting", "kitten"), counts(2, 1, 0, 7));
        assert_eq!(char_errors("مرحبا بكم", "مرحبا"), counts(0, 3, 0, 8));
    }

    #[test]
    fn rates() {
        assert_eq!(counts(1, 1, 0, 4).rate(), 0.5);
        assert_eq!(counts(0, 0, 3, 1).rate(), 3.0);
        assert_eq!(counts(0, 0, 0, 0).rate(), 0.0);
        assert_eq!(counts(0, 0, 1, 0).rate(), f64::INFINITY);
        assert_eq!(counts(1, 2, 3, 4).edits(), 6);
    }

    #[test]
    fn corpus_totals_add_up() {
        let mut total = ErrorCounts::default();
        total += word_errors("a b c d", "a b c d");
        total += word_errors("a b", "a x");
        assert_eq!(total, counts(1, 0, 0, 6));
        assert!((total.rate() - 1.0 / 6.0).abs() < 1e-12);
        let summed: ErrorCounts = [counts(1, 0, 0, 2), counts(0, 1, 1, 3)].into_iter().sum();
        assert_eq!(summed, counts(1, 1, 1, 5));
        assert_eq!(counts(1, 0, 0, 2) + counts(0, 0, 1, 1), counts(1, 0, 1, 3));
    }

    #[test]
    fn matches_full_matrix_levenshtein_both_ways() {
        // Deterministic pseudo-random sequences over a small alphabet.
        let mut state = 0x2545_f491_u64;
        let mut next = move |m: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % m
        };
        for _ in 0..500 {
            let a: Vec<u64> = (0..next(12)).map(|_| next(4)).collect();
            let b: Vec<u64> = (0..next(12)).map(|_| next(4)).collect();
            let ab = align(&a, &b);
            let ba = align(&b, &a);
            let expected = reference_distance(&a, &b);
            assert_eq!(ab.edits(), expected, "{a:?} vs {b:?}");
            assert_eq!(ba.edits(), expected);
            assert_eq!(ab.reference_len, a.len());
            // Lengths must be consistent with the counts.
            assert_eq!(a.len() - ab.deletions + ab.insertions, b.len());
            assert_eq!(b.len() - ba.deletions + ba.insertions, a.len());
            // Same alignment quality whichever sequence the kept row runs over.
            assert_eq!(ab.substitutions, ba.substitutions);
            assert_eq!((ab.deletions, ab.insertions), (ba.insertions, ba.deletions));
        }
    }
}
