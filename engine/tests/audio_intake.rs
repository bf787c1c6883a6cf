//! Integration tests for audio intake against the real recordings in the eval folder.
//!
//! The eval folder is `$STT_EVAL_DIR`, or `<crate>/../../shared/eval`. Each test gathers
//! every failing clip before asserting, so one run shows all problems at once.

use std::path::{Path, PathBuf};

use serde_json::Value;
use stt_engine::audio::{decode_bytes, decode_file, AudioError, DecodedAudio, WHISPER_SAMPLE_RATE};

/// Sets of real clips that must decode cleanly with the manifest's duration.
const REAL_SETS: &[&str] = &[
    "librispeech",
    "jfk",
    "en_other",
    "arabic",
    "arabic_synthetic",
    "multilingual",
    "multispeaker",
    "longform",
];

/// Clips the manifest lists as decodable that we knowingly reject, with the codec named in
/// the error. symphonia's AAC decoder handles mono and stereo only.
const KNOWN_UNSUPPORTED: &[(&str, &str)] =
    &[("odd/lhotse_big_buck_bunny_small.mp4", "AAC with 6 channels")];

fn eval_dir() -> PathBuf {
    let dir = std::env::var_os("STT_EVAL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/eval"));
    assert!(
        dir.join("manifest.jsonl").is_file(),
        "eval data not found at {}; set STT_EVAL_DIR to the folder holding manifest.jsonl",
        dir.display()
    );
    dir
}

fn manifest() -> Vec<Value> {
    let text = std::fs::read_to_string(eval_dir().join("manifest.jsonl")).unwrap();
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn clips_in<'a>(manifest: &'a [Value], set: &str) -> Vec<&'a Value> {
    manifest.iter().filter(|clip| clip["set"] == set).collect()
}

fn clip_path(clip: &Value) -> String {
    clip["path"].as_str().unwrap().to_string()
}

/// Decodes a clip, turning a panic into a failure message instead of aborting the test.
fn decode_clip(path: &str) -> Result<Result<DecodedAudio, AudioError>, String> {
    let full = eval_dir().join(path);
    std::panic::catch_unwind(|| decode_file(&full)).map_err(|_| format!("{path}: PANICKED"))
}

fn within_pct(actual: f64, expected: f64, pct: f64) -> bool {
    (actual - expected).abs() <= expected.abs() * pct / 100.0
}

/// Most MP3 encoder delay plus padding that a LAME tag declares: 576 + 529 samples of delay
/// and up to one 1152-sample frame of padding.
const MAX_MP3_DELAY_AND_PADDING: f64 = 1105.0 + 1152.0;

/// Checks a decoded duration against the manifest. `duration_s` there is the container's
/// figure; for MP3 it counts whole frames including the encoder delay and padding that the
/// LAME tag tells decoders to drop (ffmpeg drops them too: its decoded lengths are listed
/// as `decoded_duration_s` where known, and match ours). So for MP3 the decoded length may
/// fall short of `duration_s` by at most that delay and padding.
fn duration_matches(audio: &DecodedAudio, clip: &Value) -> Result<(), String> {
    let declared = clip["duration_s"]
        .as_f64()
        .ok_or("manifest has no duration")?;
    let actual = audio.duration_s;
    if let Some(decoded) = clip["decoded_duration_s"].as_f64() {
        if !within_pct(actual, decoded, 1.0) {
            return Err(format!("{actual:.4} s vs reference decode {decoded} s"));
        }
    }
    if within_pct(actual, declared, 1.0) {
        return Ok(());
    }
    let priming = MAX_MP3_DELAY_AND_PADDING / f64::from(audio.source_sample_rate);
    let shortfall = declared - actual;
    if audio.codec == "mp3" && shortfall > 0.0 && shortfall <= priming + declared * 0.01 {
        return Ok(());
    }
    Err(format!("{actual:.4} s vs manifest {declared} s"))
}

/// Structural checks every successful decode must pass.
fn check_shape(path: &str, audio: &DecodedAudio, failures: &mut Vec<String>) {
    let expected_len = audio.duration_s * f64::from(WHISPER_SAMPLE_RATE);
    if (audio.pcm_16k.len() as f64 - expected_len).abs() > 2.0 {
        failures.push(format!(
            "{path}: {} samples at 16 kHz for {:.4} s",
            audio.pcm_16k.len(),
            audio.duration_s
        ));
    }
    if audio
        .pcm_16k
        .iter()
        .any(|s| !s.is_finite() || s.abs() > 4.0)
    {
        failures.push(format!("{path}: non-finite or wildly out-of-range samples"));
    }
}

fn assert_no_failures(what: &str, failures: Vec<String>) {
    assert!(
        failures.is_empty(),
        "{what}: {} failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn formats_set_decodes_with_true_duration() {
    let manifest = manifest();
    let duration_of = |path: &str| {
        manifest
            .iter()
            .find(|clip| clip["path"] == path)
            .and_then(|clip| clip["duration_s"].as_f64())
    };
    let clips = clips_in(&manifest, "formats");
    assert!(clips.len() >= 30, "formats set looks incomplete");
    let mut failures = Vec::new();
    for clip in clips {
        let path = clip_path(clip);
        let format = clip["format"].as_str().unwrap_or_default();
        let result = match decode_clip(&path) {
            Ok(result) => result,
            Err(panic) => {
                failures.push(panic);
                continue;
            }
        };
        if format.contains("gsm") {
            match result {
                Err(AudioError::UnsupportedCodec { codec }) if codec.contains("GSM 6.10") => {}
                other => failures.push(format!("{path}: expected GSM unsupported, got {other:?}")),
            }
            continue;
        }
        let audio = match result {
            Ok(audio) => audio,
            Err(e) => {
                failures.push(format!("{path}: {e}"));
                continue;
            }
        };
        check_shape(&path, &audio, &mut failures);
        if let Err(e) = duration_matches(&audio, clip) {
            failures.push(format!("{path}: {e}"));
        }
        if let Some(source) = clip["derived_from"].as_str() {
            let source_duration = duration_of(source).unwrap();
            if !within_pct(audio.duration_s, source_duration, 1.0) {
                failures.push(format!(
                    "{path}: {:.4} s vs source {source} {source_duration} s",
                    audio.duration_s
                ));
            }
        }
        let codec = format.rsplit('/').next().unwrap_or_default();
        if audio.codec != codec {
            failures.push(format!("{path}: codec {} vs manifest {codec}", audio.codec));
        }
        if clip["sample_rate"].as_u64() != Some(u64::from(audio.source_sample_rate)) {
            failures.push(format!("{path}: source rate {}", audio.source_sample_rate));
        }
        if clip["channels"].as_u64() != Some(audio.source_channels as u64) {
            failures.push(format!("{path}: source channels {}", audio.source_channels));
        }
        if audio.truncated {
            failures.push(format!("{path}: flagged as truncated"));
        }
    }
    assert_no_failures("formats set", failures);
}

#[test]
fn real_clips_decode_with_true_duration() {
    let manifest = manifest();
    let mut failures = Vec::new();
    let mut checked = 0;
    for set in REAL_SETS {
        for clip in clips_in(&manifest, set) {
            let path = clip_path(clip);
            checked += 1;
            let audio = match decode_clip(&path) {
                Ok(Ok(audio)) => audio,
                Ok(Err(e)) => {
                    failures.push(format!("{path}: {e}"));
                    continue;
                }
                Err(panic) => {
                    failures.push(panic);
                    continue;
                }
            };
            check_shape(&path, &audio, &mut failures);
            if let Err(e) = duration_matches(&audio, clip) {
                failures.push(format!("{path}: {e}"));
            }
            if audio.truncated {
                failures.push(format!("{path}: flagged as truncated"));
            }
            if clip["channels"].as_u64() != Some(audio.source_channels as u64) {
                failures.push(format!("{path}: source channels {}", audio.source_channels));
            }
        }
    }
    assert!(checked >= 80, "only {checked} real clips found");
    assert_no_failures("real clips", failures);
}

#[test]
fn odd_set_decodes_or_fails_clearly() {
    let manifest = manifest();
    let mut failures = Vec::new();
    for clip in clips_in(&manifest, "odd") {
        let path = clip_path(clip);
        let result = match decode_clip(&path) {
            Ok(result) => result,
            Err(panic) => {
                failures.push(panic);
                continue;
            }
        };
        if let Err(e) = &result {
            let message = e.to_string();
            if message.contains('\n') || message.is_empty() {
                failures.push(format!("{path}: message is not one line: {message:?}"));
            }
        }
        let quality = clip["reference_quality"].as_str().unwrap_or_default();
        let category = clip["category"].as_str().unwrap_or_default();
        let decodes_cleanly = clip["decodes_cleanly"].as_bool().unwrap_or(false);
        let decoded_duration = clip["decoded_duration_s"].as_f64().unwrap_or(0.0);
        let full_duration = clip["duration_s"].as_f64();

        if let Some((_, codec)) = KNOWN_UNSUPPORTED.iter().find(|(p, _)| *p == path) {
            match &result {
                Err(AudioError::UnsupportedCodec { codec: named }) if named.contains(codec) => {}
                other => failures.push(format!(
                    "{path}: expected unsupported {codec}, got {other:?}"
                )),
            }
            continue;
        }

        match (quality, category) {
            ("expect_error", _) => {
                let expected = match category {
                    "not_audio" => matches!(result, Err(AudioError::NotAudio)),
                    _ if clip["bytes"].as_u64() == Some(0) => {
                        matches!(result, Err(AudioError::Empty))
                    }
                    _ => result.is_err(),
                };
                if !expected {
                    failures.push(format!("{path}: expected a clear error, got {result:?}"));
                }
            }
            ("expect_error_or_empty", _) => match &result {
                Err(_) => {}
                Ok(audio) if audio.duration_s < 0.01 => {}
                Ok(audio) => failures.push(format!("{path}: decoded {:.4} s", audio.duration_s)),
            },
            (_, "headerless_raw") => {
                if !matches!(result, Err(AudioError::NotAudio)) {
                    failures.push(format!(
                        "{path}: headerless PCM should be NotAudio: {result:?}"
                    ));
                }
            }
            ("partial_expected", _) => match &result {
                Ok(audio) => {
                    check_shape(&path, audio, &mut failures);
                    let full = full_duration.unwrap();
                    if !(audio.duration_s > 0.0 && audio.duration_s < full) {
                        failures.push(format!("{path}: {:.4} s of {full} s", audio.duration_s));
                    }
                    if !within_pct(audio.duration_s, decoded_duration, 2.0) {
                        failures.push(format!(
                            "{path}: valid part {:.4} s vs reference decoder {decoded_duration} s",
                            audio.duration_s
                        ));
                    }
                    if !audio.truncated {
                        failures.push(format!("{path}: not flagged as truncated"));
                    }
                }
                Err(e) => failures.push(format!("{path}: valid part lost: {e}")),
            },
            _ if decodes_cleanly => match &result {
                Ok(audio) => {
                    check_shape(&path, audio, &mut failures);
                    let tolerance = (decoded_duration * 0.01).max(0.001);
                    if (audio.duration_s - decoded_duration).abs() > tolerance {
                        failures.push(format!(
                            "{path}: {:.4} s vs {decoded_duration} s",
                            audio.duration_s
                        ));
                    }
                    if audio.truncated {
                        failures.push(format!("{path}: flagged as truncated"));
                    }
                }
                Err(e) => failures.push(format!("{path}: {e}")),
            },
            _ => {
                if result.is_ok() {
                    failures.push(format!("{path}: manifest says it does not decode"));
                }
            }
        }
    }
    assert_no_failures("odd set", failures);
}

#[test]
fn wrong_extension_files_match_their_true_format_twin() {
    let manifest = manifest();
    let twins: Vec<&Value> = clips_in(&manifest, "odd")
        .into_iter()
        .filter(|clip| clip["category"] == "wrong_extension")
        .collect();
    assert!(twins.len() >= 3);
    for clip in twins {
        let path = clip_path(clip);
        let twin = clip["derived_from"].as_str().unwrap();
        let named_as = decode_clip(&path).unwrap().unwrap();
        let original = decode_clip(twin).unwrap().unwrap();
        assert_eq!(named_as.duration_s, original.duration_s, "{path} vs {twin}");
        assert_eq!(named_as.codec, original.codec, "{path} vs {twin}");
        assert_eq!(named_as.pcm_16k, original.pcm_16k, "{path} vs {twin}");
    }
}

#[test]
fn decode_bytes_matches_decode_file() {
    let dir = eval_dir();
    for path in [
        "jfk/jfk.mp3",
        "formats/jfk_opus.webm",
        "formats/jfk_aac.m4a",
    ] {
        let from_file = decode_file(&dir.join(path)).unwrap();
        let from_bytes = decode_bytes(std::fs::read(dir.join(path)).unwrap()).unwrap();
        assert_eq!(from_file, from_bytes, "{path}");
    }
    assert!(matches!(decode_bytes(Vec::new()), Err(AudioError::Empty)));
    assert!(matches!(
        decode_bytes(b"just some text, definitely not audio\n".to_vec()),
        Err(AudioError::NotAudio)
    ));
}

#[test]
fn missing_file_is_an_io_error_with_its_path() {
    let path = Path::new("/nonexistent/stt-audio-intake/missing.wav");
    match decode_file(path) {
        Err(AudioError::Io { path: reported, .. }) => assert_eq!(reported, path),
        other => panic!("expected an I/O error, got {other:?}"),
    }
}

fn rms(samples: &[f32]) -> f64 {
    let sum: f64 = samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    (sum / samples.len().max(1) as f64).sqrt()
}

fn scratch_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(name)
}

fn write_wav(path: &Path, rate: u32, channels: u16, frames: &[Vec<i16>]) {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec).unwrap();
    for frame in frames {
        for &sample in frame {
            writer.write_sample(sample).unwrap();
        }
    }
    writer.finalize().unwrap();
}

#[test]
fn stereo_with_silent_left_channel_keeps_the_speech() {
    let source_path = eval_dir().join("jfk/jfk.wav");
    let mut reader = hound::WavReader::open(&source_path).unwrap();
    let rate = reader.spec().sample_rate;
    let speech: Vec<i16> = reader.samples::<i16>().map(Result::unwrap).collect();
    let frames: Vec<Vec<i16>> = speech.iter().map(|&s| vec![0, s]).collect();
    let path = scratch_path("silent_left_speech_right.wav");
    write_wav(&path, rate, 2, &frames);

    let source = decode_file(&source_path).unwrap();
    let stereo = decode_file(&path).unwrap();
    assert_eq!(stereo.source_channels, 2);
    assert_eq!(stereo.pcm_16k.len(), source.pcm_16k.len());
    let ratio = rms(&stereo.pcm_16k) / rms(&source.pcm_16k);
    assert!(
        rms(&stereo.pcm_16k) > 0.01,
        "speech was lost in the mixdown"
    );
    assert!(
        (ratio - 0.5).abs() < 0.01,
        "mixdown RMS ratio {ratio}, expected 0.5"
    );
    // It must be the same speech, not just the same energy.
    for (mixed, original) in stereo.pcm_16k.iter().zip(&source.pcm_16k) {
        assert!((mixed - original * 0.5).abs() < 1e-4);
    }
}

#[test]
fn multichannel_wav_is_the_mean_of_all_channels() {
    // Six channels at 48 kHz with different constant levels; the mean is -0.05.
    let levels = [0.3f32, 0.0, -0.6, 0.1, -0.2, 0.1];
    let frame: Vec<i16> = levels.iter().map(|l| (l * 32767.0) as i16).collect();
    let frames = vec![frame; 48_000];
    let path = scratch_path("six_channels_48k.wav");
    write_wav(&path, 48_000, 6, &frames);
    let audio = decode_file(&path).unwrap();
    assert_eq!(audio.source_channels, 6);
    assert_eq!(audio.pcm_16k.len(), 16_000);
    // Away from the edges (where the resampler sees the step from silence) the level holds.
    for &s in &audio.pcm_16k[200..15_800] {
        assert!((s + 0.05).abs() < 1e-3, "sample {s}");
    }
}

/// Counts sign changes, which for a pure tone is twice its frequency per second.
fn zero_crossings(samples: &[f32]) -> usize {
    samples
        .windows(2)
        .filter(|pair| (pair[0] < 0.0) != (pair[1] < 0.0))
        .count()
}

#[test]
fn resampling_keeps_length_and_frequency() {
    let seconds = 2.0;
    // 22.05 kHz and 44.056 kHz are here for coverage of both resampler engines.
    for rate in [8_000u32, 22_050, 44_100, 48_000, 44_056] {
        let frames: Vec<Vec<i16>> = (0..(f64::from(rate) * seconds) as usize)
            .map(|i| {
                let t = i as f64 / f64::from(rate);
                vec![((2.0 * std::f64::consts::PI * 1000.0 * t).sin() * 16_000.0) as i16]
            })
            .collect();
        let path = scratch_path(&format!("sine_1k_{rate}.wav"));
        write_wav(&path, rate, 1, &frames);
        let audio = decode_file(&path).unwrap();

        let expected_len = (frames.len() as f64 * 16_000.0 / f64::from(rate)).round() as usize;
        assert_eq!(audio.pcm_16k.len(), expected_len, "{rate} Hz");
        assert_eq!(audio.source_sample_rate, rate);
        assert!(
            (audio.duration_s - seconds).abs() < 1e-3,
            "{rate} Hz: {}",
            audio.duration_s
        );

        // Ignore the first and last 10 ms, where the filter meets the edges of the signal.
        let body = &audio.pcm_16k[160..audio.pcm_16k.len() - 160];
        let crossings = zero_crossings(body) as f64;
        let expected_crossings = 2.0 * 1000.0 * body.len() as f64 / 16_000.0;
        assert!(
            (crossings - expected_crossings).abs() <= 2.0,
            "{rate} Hz: {crossings} zero crossings, expected {expected_crossings}"
        );
        let expected_rms = 16_000.0 / 32_768.0 / 2f64.sqrt();
        assert!(
            (rms(body) / expected_rms - 1.0).abs() < 0.02,
            "{rate} Hz: amplitude changed, rms {}",
            rms(body)
        );
    }
}
