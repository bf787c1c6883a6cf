//! The one async function every transcription route calls: admit, decode the upload
//! and transcribe it on a worker, under the request's time limit. Decoding runs on
//! the worker too: it is CPU work and must not stall the async runtime.

use super::errors::ApiError;
use super::upload::UploadedFile;
use super::AppState;
use crate::scheduler::Admission;
use std::sync::atomic::AtomicBool;
use std::time::Instant;
use stt_engine::decoding::{transcribe_pcm_with, Stepper};
use stt_engine::{audio, Hooks, TranscribeOptions, Transcript, WhisperModel};

/// What a finished transcription hands back to the route that renders it.
pub struct JobOutput {
    pub transcript: Transcript,
    /// Time spent in the engine (after decoding).
    pub transcription_s: f64,
}

/// Decodes and transcribes on a worker; the file is deleted when the job ends.
pub async fn transcribe_upload(
    state: &AppState,
    admission: Admission,
    file: UploadedFile,
    options: TranscribeOptions,
) -> Result<JobOutput, ApiError> {
    let engine = state.admitted_engine()?;
    let limits = state.limits;
    let limit_s = limits.request_timeout.as_secs();
    let result = engine
        .scheduler
        .run(
            admission,
            limits.request_timeout,
            move |model, cancel, stepper| async move {
                run_job(
                    &model,
                    &cancel,
                    &stepper,
                    file,
                    &options,
                    limits.max_duration_s,
                )
                .await
            },
        )
        .await;
    match result {
        Ok(outcome) => {
            if let Ok(out) = &outcome {
                let translation_s = out.transcript.translation.as_ref().map(|t| t.elapsed_s);
                state.metrics.observe_transcription(
                    out.transcript.duration_s,
                    out.transcription_s,
                    out.transcript.task,
                    translation_s,
                );
            }
            outcome
        }
        Err(e) => {
            state.metrics.job_failed(&e);
            Err(ApiError::from_job(
                e,
                limit_s,
                engine.scheduler.retry_after_s(),
            ))
        }
    }
}

/// Runs on a worker thread, decoder steps batched with the worker's other jobs.
async fn run_job(
    model: &WhisperModel,
    cancel: &AtomicBool,
    stepper: &Stepper,
    file: UploadedFile,
    options: &TranscribeOptions,
    max_duration_s: f64,
) -> Result<JobOutput, ApiError> {
    tracing::debug!(bytes = file.size_bytes, name = ?file.filename, "decoding upload");
    let decoded = audio::decode_file(file.temp.path())
        .map_err(|e| ApiError::from_audio(e, file.filename.as_deref().unwrap_or("the upload")))?;
    drop(file); // the samples are in memory now; free the disk early
    if decoded.pcm_16k.is_empty() {
        return Err(ApiError::NoAudio);
    }
    if decoded.duration_s > max_duration_s {
        return Err(ApiError::TooLong {
            duration_s: decoded.duration_s,
            limit_s: max_duration_s,
        });
    }
    let started = Instant::now();
    let hooks = Hooks {
        progress: None,
        cancel: Some(cancel),
    };
    let transcript = transcribe_pcm_with(
        model,
        &decoded.pcm_16k,
        decoded.duration_s,
        options,
        hooks,
        stepper,
    )
    .await?;
    Ok(JobOutput {
        transcript,
        transcription_s: started.elapsed().as_secs_f64(),
    })
}
