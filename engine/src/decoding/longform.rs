//! Long-form transcription: walks the recording window by window, seeking to the
//! last complete timestamp of each window (not fixed 30 s hops), skipping silent
//! windows, and carrying the previous text as a prompt.

use super::fallback::{decode_with_fallback, FallbackResult};
use super::language::detect_language;
use super::logit_filters::FilterContext;
use super::options::{Task, TranscribeOptions};
use super::steps::{run_to_completion, Stepper};
use super::text::Utf8Assembler;
use super::window::WindowResult;
use crate::error::EngineError;
use crate::transcript::{Segment, Transcript, Translation, TranslationMethod};
use crate::vad::{speech_regions, RegionOptions, SpeechRegion};
use crate::whisper::config::{
    FRAMES_PER_POSITION, FRAMES_PER_SECOND, TIMESTAMP_STEP_S, WINDOW_FRAMES,
};
use crate::whisper::languages::parse_language;
use crate::whisper::mel::log_mel_spectrogram;
use crate::whisper::WhisperModel;
use candle_core::Tensor;
use rand::SeedableRng;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};

/// Optional observers of a running transcription.
#[derive(Default, Clone, Copy)]
pub struct Hooks<'a> {
    /// Called after each window with (seconds processed, total seconds).
    pub progress: Option<&'a (dyn Fn(f64, f64) + Sync)>,
    /// Checked before each window; when set the transcription stops with `Cancelled`.
    pub cancel: Option<&'a AtomicBool>,
}

/// A piece of one window's output between two timestamps.
struct TimedSlice {
    start_s: f64,
    end_s: f64,
    range: Range<usize>,
}

/// Splits a window's tokens at timestamp pairs; returns the slices and where to seek next.
fn split_at_timestamps(
    tokens: &[u32],
    ts_begin: u32,
    seek: usize,
    segment_frames: usize,
) -> (Vec<TimedSlice>, usize) {
    let offset_s = seek as f64 / FRAMES_PER_SECOND as f64;
    let ts_seconds = |t: u32| t.saturating_sub(ts_begin) as f64 * TIMESTAMP_STEP_S;
    let is_ts = |t: u32| t >= ts_begin;
    let n = tokens.len();
    let single_timestamp_ending = n >= 2 && !is_ts(tokens[n - 2]) && is_ts(tokens[n - 1]);
    let mut boundaries: Vec<usize> = (1..n)
        .filter(|&i| is_ts(tokens[i]) && is_ts(tokens[i - 1]))
        .collect();
    let mut slices = Vec::new();
    if boundaries.is_empty() {
        let mut duration = segment_frames as f64 / FRAMES_PER_SECOND as f64;
        if let Some(&last) = tokens.iter().rev().find(|&&t| is_ts(t)) {
            if last != ts_begin {
                duration = ts_seconds(last);
            }
        }
        slices.push(TimedSlice {
            start_s: offset_s,
            end_s: offset_s + duration,
            range: 0..n,
        });
        return (slices, seek + segment_frames);
    }
    if single_timestamp_ending {
        boundaries.push(n);
    }
    let mut last = 0;
    for &cut in &boundaries {
        let piece = &tokens[last..cut];
        slices.push(TimedSlice {
            start_s: offset_s + ts_seconds(piece[0]),
            end_s: offset_s + ts_seconds(piece[piece.len() - 1]),
            range: last..cut,
        });
        last = cut;
    }
    let next_seek = if single_timestamp_ending {
        // Nothing is spoken after the final timestamp: the whole window is done.
        seek + segment_frames
    } else {
        // Resume at the last complete timestamp; the unfinished tail is decoded again.
        let last_ts = tokens[last - 1].saturating_sub(ts_begin) as usize;
        seek + last_ts * FRAMES_PER_POSITION
    };
    (slices, next_seek)
}

/// First frame at or after `seek` that lies in a speech region, or `seek` itself when
/// the window `[seek, window_end)` already holds speech; `None` when no speech follows.
fn next_speech_frame(regions: &[SpeechRegion], seek: usize, window_end: usize) -> Option<usize> {
    let samples_per_frame = crate::whisper::config::HOP_SAMPLES;
    let (window_start_s, window_end_s) = (seek * samples_per_frame, window_end * samples_per_frame);
    let region = regions.iter().find(|r| r.end_sample > window_start_s)?;
    if region.start_sample < window_end_s {
        Some(seek)
    } else {
        Some(region.start_sample / samples_per_frame)
    }
}

fn resolve_language(
    model: &WhisperModel,
    opts: &TranscribeOptions,
) -> Result<Option<&'static str>, EngineError> {
    let given = match opts.language.as_deref() {
        Some(l) => parse_language(l).map_err(EngineError::InvalidOptions)?,
        None => None,
    };
    if !model.is_multilingual() {
        if let Some(code) = given.filter(|c| *c != "en") {
            return Err(EngineError::UnsupportedLanguage {
                language: code.to_string(),
                reason: "this model is English-only; use a multilingual model such as base".into(),
            });
        }
        if opts.task == Task::Translate {
            return Err(EngineError::InvalidOptions(
                "translation needs a multilingual model such as base".into(),
            ));
        }
        return Ok(Some("en"));
    }
    if let Some(code) = given {
        if model.tokenizer.language_id(code).is_none() {
            return Err(EngineError::UnsupportedLanguage {
                language: code.to_string(),
                reason: "this model has no token for it".into(),
            });
        }
    }
    Ok(given)
}

/// One output stream of the long-form loop (the transcript, or its English
/// translation): its segments and the tokens that prompt its next window.
struct Track {
    task: Task,
    all_tokens: Vec<u32>,
    prompt_reset_since: usize,
    segments: Vec<Segment>,
    utf8: Utf8Assembler,
}

impl Track {
    fn new(task: Task, initial_prompt: Vec<u32>) -> Self {
        Self {
            task,
            all_tokens: initial_prompt,
            prompt_reset_since: 0,
            segments: Vec::new(),
            utf8: Utf8Assembler::default(),
        }
    }

    fn prompt(&self, model: &WhisperModel, lang_code: &str) -> Vec<u32> {
        let special = &model.tokenizer.special;
        let max_prompt_tokens = model.network.max_tokens() / 2 - 1;
        let previous = &self.all_tokens[self.prompt_reset_since..];
        let mut prompt = Vec::new();
        if !previous.is_empty() {
            prompt.push(special.sot_prev);
            prompt.extend_from_slice(&previous[previous.len().saturating_sub(max_prompt_tokens)..]);
        }
        prompt.push(special.sot);
        if model.is_multilingual() {
            prompt.push(
                model
                    .tokenizer
                    .language_id(lang_code)
                    .unwrap_or(special.sot),
            );
            prompt.push(match self.task {
                Task::Transcribe => special.transcribe,
                Task::Translate => special.translate,
            });
        }
        prompt
    }

    /// Adds a window's slices (those starting before `until_s`) as segments.
    fn push_slices(
        &mut self,
        model: &WhisperModel,
        decoded: &FallbackResult,
        slices: Vec<TimedSlice>,
        until_s: f64,
        duration_s: f64,
    ) {
        let tok = &model.tokenizer;
        let result = &decoded.result;
        for slice in slices.into_iter().filter(|s| s.start_s < until_s) {
            let ids = &result.tokens[slice.range.clone()];
            let text_ids: Vec<u32> = ids
                .iter()
                .copied()
                .filter(|&t| t < tok.special.eot)
                .collect();
            if slice.start_s == slice.end_s || tok.decode_text(&text_ids).trim().is_empty() {
                continue;
            }
            let text = self.utf8.push(&tok.text_bytes(&text_ids));
            let logprobs = &result.token_logprobs[slice.range.clone()];
            let confidence = if logprobs.is_empty() {
                result.avg_logprob.exp()
            } else {
                logprobs.iter().map(|&l| (l as f64).exp()).sum::<f64>() / logprobs.len() as f64
            };
            self.all_tokens.extend_from_slice(ids);
            let prev_end = self.segments.last().map_or(0.0, |s| s.end_s);
            let start_s = slice.start_s.clamp(prev_end.min(duration_s), duration_s);
            let end_s = slice.end_s.clamp(start_s, duration_s);
            self.segments.push(Segment {
                start_s,
                end_s,
                text,
                tokens: ids.to_vec(),
                confidence: confidence.clamp(0.0, 1.0),
                avg_logprob: result.avg_logprob,
                no_speech_prob: result.no_speech_prob,
                compression_ratio: decoded.compression_ratio,
                temperature: decoded.final_temperature,
            });
        }
    }

    fn after_window(&mut self, opts: &TranscribeOptions, decoded: &FallbackResult) {
        if !opts.condition_on_previous_text
            || decoded.final_temperature > opts.prompt_reset_on_temperature
        {
            self.prompt_reset_since = self.all_tokens.len();
        }
    }

    /// The segments and their joined text.
    fn finish(mut self) -> (String, Vec<Segment>) {
        let tail = self.utf8.finish();
        if let Some(last) = self.segments.last_mut() {
            last.text.push_str(&tail);
        }
        let text = self
            .segments
            .iter()
            .map(|s| s.text.as_str())
            .collect::<String>()
            .trim()
            .to_string();
        (text, self.segments)
    }
}

fn is_silent(opts: &TranscribeOptions, result: &WindowResult) -> bool {
    opts.no_speech_threshold
        .is_some_and(|t| result.no_speech_prob > t)
        && !opts
            .log_prob_threshold
            .is_some_and(|t| result.avg_logprob > t)
}

/// Transcribes 16 kHz mono audio on the calling thread.
pub fn transcribe_pcm(
    model: &WhisperModel,
    pcm_16k: &[f32],
    duration_s: f64,
    opts: &TranscribeOptions,
    hooks: Hooks,
) -> Result<Transcript, EngineError> {
    run_to_completion(transcribe_pcm_with(
        model,
        pcm_16k,
        duration_s,
        opts,
        hooks,
        &Stepper::Direct,
    ))
}

/// [`transcribe_pcm`] with its decoder steps run through `stepper`, so that a
/// [`super::StreamBatcher`] can decode several transcriptions together.
pub async fn transcribe_pcm_with(
    model: &WhisperModel,
    pcm_16k: &[f32],
    duration_s: f64,
    opts: &TranscribeOptions,
    hooks: Hooks<'_>,
    stepper: &Stepper,
) -> Result<Transcript, EngineError> {
    let mut language = resolve_language(model, opts)?;
    let mut language_probability = 1.0;
    let net = &model.network;
    let tok = &model.tokenizer;
    let special = &tok.special;
    let mel = log_mel_spectrogram(pcm_16k, &model.mel_filters, net.config.num_mel_bins);
    let content_frames = mel.content_frames();
    let content_s = content_frames as f64 / FRAMES_PER_SECOND as f64;

    let filters = FilterContext {
        special,
        suppress: &model.suppress_tokens,
        begin_suppress: opts
            .suppress_blank
            .then_some(&model.begin_suppress_tokens[..]),
        max_initial_timestamp_index: Some(
            (opts.max_initial_timestamp_s / TIMESTAMP_STEP_S).round() as u32,
        ),
    };
    let mut rng = rand::rngs::StdRng::seed_from_u64(opts.seed);

    let mut initial_prompt = Vec::new();
    if let Some(p) = opts
        .initial_prompt
        .as_deref()
        .filter(|p| !p.trim().is_empty())
    {
        initial_prompt = tok.encode(&format!(" {}", p.trim()))?;
    }
    let mut main = Track::new(opts.task, initial_prompt);
    // The English translation rides along on the same encoder output, window by window.
    let wants_translation =
        opts.translate_to_english && opts.task == Task::Transcribe && model.is_multilingual();
    let mut translation: Option<Track> = None;
    let mut translation_s = 0.0;

    let mut seek = 0usize;
    let speech = match (&model.vad, opts.vad_filter) {
        (Some(vad), true) => {
            let probs = vad.speech_probabilities(pcm_16k)?;
            Some(speech_regions(
                &probs,
                pcm_16k.len(),
                &RegionOptions::default(),
            ))
        }
        _ => None,
    };

    while seek < content_frames {
        if hooks.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
            return Err(EngineError::Cancelled);
        }
        let segment_frames = WINDOW_FRAMES.min(content_frames - seek);
        if let Some(regions) = &speech {
            // Jump over stretches without speech instead of letting Whisper invent text there.
            match next_speech_frame(regions, seek, seek + segment_frames) {
                None => break,
                Some(frame) if frame > seek => {
                    seek = frame;
                    continue;
                }
                Some(_) => {}
            }
        }
        let window = mel.window(seek, segment_frames);
        let input = Tensor::from_vec(window, (1, mel.n_mels, WINDOW_FRAMES), &net.device)?;
        // Only the cross-attention keys/values outlive this line (the encoder output
        // would be dead weight while the stream waits in a batch).
        let cross = net.cross_attention_cache(&net.encode(&input)?)?;

        if language.is_none() {
            let guess = detect_language(model, &cross)?;
            language = Some(guess.code);
            language_probability = guess.probability;
        }
        let lang_code = language.unwrap_or("en");

        let decoded = decode_with_fallback(
            model,
            &cross,
            &main.prompt(model, lang_code),
            &filters,
            opts,
            &mut rng,
            hooks.cancel,
            stepper,
        )
        .await?;
        let window_start = seek;
        if is_silent(opts, &decoded.result) {
            seek += segment_frames;
        } else {
            let (slices, next_seek) = split_at_timestamps(
                &decoded.result.tokens,
                special.timestamp_begin,
                seek,
                segment_frames,
            );
            // Guard against a window that would not move us forward.
            seek = if next_seek > seek {
                next_seek
            } else {
                seek + segment_frames
            };
            main.push_slices(model, &decoded, slices, f64::INFINITY, duration_s);

            if wants_translation && lang_code != "en" {
                let started = std::time::Instant::now();
                let track =
                    translation.get_or_insert_with(|| Track::new(Task::Translate, Vec::new()));
                let translated = decode_with_fallback(
                    model,
                    &cross,
                    &track.prompt(model, lang_code),
                    &filters,
                    opts,
                    &mut rng,
                    hooks.cancel,
                    stepper,
                )
                .await?;
                if !is_silent(opts, &translated.result) {
                    let (slices, _) = split_at_timestamps(
                        &translated.result.tokens,
                        special.timestamp_begin,
                        window_start,
                        segment_frames,
                    );
                    // Keep what starts in the audio the transcription consumed; the rest
                    // is translated again with the next window.
                    let until_s = seek as f64 / FRAMES_PER_SECOND as f64;
                    track.push_slices(model, &translated, slices, until_s, duration_s);
                }
                track.after_window(opts, &translated);
                translation_s += started.elapsed().as_secs_f64();
            }
        }
        main.after_window(opts, &decoded);
        if let Some(progress) = hooks.progress {
            progress(
                (seek.min(content_frames) as f64 / FRAMES_PER_SECOND as f64).min(content_s),
                content_s,
            );
        }
        debug_assert!(seek > window_start);
    }
    // A job cancelled inside its last window must not pass for a complete transcript.
    if hooks.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
        return Err(EngineError::Cancelled);
    }
    let (text, segments) = main.finish();
    let (language, language_probability) = match language {
        Some(l) => (l.to_string(), language_probability),
        None => ("en".to_string(), 0.0),
    };
    let translation = translation.map(|track| {
        let (text, segments) = track.finish();
        Translation {
            text,
            segments,
            method: TranslationMethod::WhisperTranslate,
            elapsed_s: translation_s,
        }
    });
    Ok(Transcript {
        text,
        segments,
        language,
        language_probability,
        duration_s,
        task: opts.task,
        translation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TS: u32 = 1000;

    #[test]
    fn pairs_split_into_segments_and_seek_to_last_complete_timestamp() {
        // <0.00> a b <1.00><1.00> c <2.00><2.00> d   (unfinished tail)
        let tokens = [TS, 1, 2, TS + 50, TS + 50, 3, TS + 100, TS + 100, 4];
        let (slices, next) = split_at_timestamps(&tokens, TS, 300, 3000);
        assert_eq!(slices.len(), 2);
        assert!((slices[0].start_s - 3.0).abs() < 1e-9 && (slices[0].end_s - 4.0).abs() < 1e-9);
        assert!((slices[1].start_s - 4.0).abs() < 1e-9 && (slices[1].end_s - 5.0).abs() < 1e-9);
        assert_eq!(next, 300 + 100 * FRAMES_PER_POSITION);
    }

    #[test]
    fn single_timestamp_ending_consumes_the_window() {
        let tokens = [TS, 1, 2, TS + 50, TS + 50, 3, TS + 80];
        let (slices, next) = split_at_timestamps(&tokens, TS, 0, 1234);
        assert_eq!(slices.len(), 2);
        assert_eq!(next, 1234);
        assert!((slices[1].end_s - 1.6).abs() < 1e-9);
    }

    #[test]
    fn windows_without_speech_are_jumped_over() {
        let r = [SpeechRegion {
            start_sample: 160 * 4000,
            end_sample: 160 * 5000,
        }];
        assert_eq!(next_speech_frame(&r, 0, 3000), Some(4000));
        assert_eq!(next_speech_frame(&r, 2000, 5000), Some(2000));
        assert_eq!(next_speech_frame(&r, 5000, 8000), None);
    }

    #[test]
    fn no_pairs_means_one_segment_for_the_window() {
        let tokens = [TS, 1, 2, 3, TS + 120];
        let (slices, next) = split_at_timestamps(&tokens, TS, 0, 3000);
        assert_eq!(slices.len(), 1);
        assert!((slices[0].end_s - 2.4).abs() < 1e-9);
        assert_eq!(next, 3000);
    }
}
