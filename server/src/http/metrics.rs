//! Prometheus metrics for `/metrics`: HTTP traffic, the scheduler's state and the
//! transcription work, keeping the old service's metric names where it had them
//! (`stt_transcriptions_total`, `stt_audio_duration_seconds`,
//! `stt_transcription_time_seconds`, `stt_translation_time_seconds`).
//!
//! Gauges of the scheduler (queue depth, busy workers) are read at scrape time rather
//! than updated on every change, so the scheduler does not depend on this module.

use crate::scheduler::JobError;
use prometheus::{
    Counter, Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    Opts, Registry, TextEncoder,
};
use stt_engine::Task;

/// Request latencies, from a health check to a long file (seconds).
const LATENCY_BUCKETS_S: &[f64] = &[
    0.005, 0.025, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 180.0, 300.0, 600.0,
];
/// Audio durations (seconds): LibriSpeech utterances up to two-hour recordings.
const AUDIO_BUCKETS_S: &[f64] = &[
    1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 7200.0,
];
/// Real-time factor: processing seconds per audio second (below 1 is faster than real time).
const RTF_BUCKETS: &[f64] = &[
    0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 5.0,
];

pub struct Metrics {
    registry: Registry,
    http_requests: IntCounterVec,
    http_latency: HistogramVec,
    transcriptions: IntCounterVec,
    job_failures: IntCounterVec,
    queue_depth: IntGauge,
    workers_busy: IntGauge,
    workers: IntGauge,
    in_flight: IntGauge,
    decoder_steps: IntCounter,
    decoder_step_streams: IntCounter,
    ready: IntGauge,
    audio_seconds: Counter,
    real_time_factor: Histogram,
    audio_duration: Histogram,
    transcription_time: Histogram,
    translation_time: Histogram,
}

/// Scheduler readings taken at scrape time.
pub struct SchedulerGauges {
    pub queued: usize,
    pub busy: usize,
    pub workers: usize,
    pub in_flight: usize,
    /// Batched decoder steps run so far, and the stream steps inside them.
    pub decoder_steps: u64,
    pub decoder_step_streams: u64,
}

fn register<T: prometheus::core::Collector + Clone + 'static>(registry: &Registry, metric: T) -> T {
    // Names are constants of this module: a clash is a programming error caught by the tests.
    registry
        .register(Box::new(metric.clone()))
        .expect("metric names are unique");
    metric
}

fn histogram(name: &str, help: &str, buckets: &[f64]) -> Histogram {
    Histogram::with_opts(HistogramOpts::new(name, help).buckets(buckets.to_vec()))
        .expect("valid histogram")
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        let r = &registry;
        Self {
            http_requests: register(
                r,
                IntCounterVec::new(
                    Opts::new(
                        "stt_http_requests_total",
                        "HTTP requests by route and status",
                    ),
                    &["method", "path", "status"],
                )
                .expect("valid metric"),
            ),
            http_latency: register(
                r,
                HistogramVec::new(
                    HistogramOpts::new(
                        "stt_http_request_duration_seconds",
                        "HTTP request latency by route",
                    )
                    .buckets(LATENCY_BUCKETS_S.to_vec()),
                    &["method", "path"],
                )
                .expect("valid metric"),
            ),
            transcriptions: register(
                r,
                IntCounterVec::new(
                    Opts::new(
                        "stt_transcriptions_total",
                        "Transcription requests by HTTP status",
                    ),
                    &["status"],
                )
                .expect("valid metric"),
            ),
            job_failures: register(
                r,
                IntCounterVec::new(
                    Opts::new(
                        "stt_job_failures_total",
                        "Jobs refused or stopped by the scheduler, by reason",
                    ),
                    &["reason"],
                )
                .expect("valid metric"),
            ),
            queue_depth: register(
                r,
                IntGauge::new("stt_queue_depth", "Jobs waiting for a worker").expect("valid"),
            ),
            workers_busy: register(
                r,
                IntGauge::new("stt_workers_busy", "Requests being transcribed").expect("valid"),
            ),
            workers: register(
                r,
                IntGauge::new("stt_workers", "Inference workers").expect("valid"),
            ),
            decoder_steps: register(
                r,
                IntCounter::new(
                    "stt_decoder_steps_total",
                    "Decoder steps run, each for one or more requests batched together",
                )
                .expect("valid"),
            ),
            decoder_step_streams: register(
                r,
                IntCounter::new(
                    "stt_decoder_step_streams_total",
                    "Request tokens decoded; divided by stt_decoder_steps_total: mean batch size",
                )
                .expect("valid"),
            ),
            in_flight: register(
                r,
                IntGauge::new(
                    "stt_requests_in_flight",
                    "Admitted transcription requests not finished yet",
                )
                .expect("valid"),
            ),
            ready: register(
                r,
                IntGauge::new("stt_ready", "1 when the model is loaded and warm").expect("valid"),
            ),
            audio_seconds: register(
                r,
                Counter::new(
                    "stt_audio_seconds_processed_total",
                    "Seconds of audio transcribed",
                )
                .expect("valid"),
            ),
            real_time_factor: register(
                r,
                histogram(
                    "stt_real_time_factor",
                    "Processing time divided by audio duration, per transcription",
                    RTF_BUCKETS,
                ),
            ),
            audio_duration: register(
                r,
                histogram(
                    "stt_audio_duration_seconds",
                    "Duration of transcribed audio",
                    AUDIO_BUCKETS_S,
                ),
            ),
            transcription_time: register(
                r,
                histogram(
                    "stt_transcription_time_seconds",
                    "Engine time per transcription",
                    LATENCY_BUCKETS_S,
                ),
            ),
            translation_time: register(
                r,
                histogram(
                    "stt_translation_time_seconds",
                    "Engine time per translation to English",
                    LATENCY_BUCKETS_S,
                ),
            ),
            registry,
        }
    }

    pub fn observe_request(
        &self,
        method: &str,
        path: &str,
        status: u16,
        seconds: f64,
        transcription: bool,
    ) {
        let status = status.to_string();
        self.http_requests
            .with_label_values(&[method, path, &status])
            .inc();
        self.http_latency
            .with_label_values(&[method, path])
            .observe(seconds);
        if transcription {
            self.transcriptions.with_label_values(&[&status]).inc();
        }
    }

    /// One finished job: `engine_s` is the whole engine time, `translation_s` the part
    /// of it spent on an English translation after the transcription, if any.
    pub fn observe_transcription(
        &self,
        audio_s: f64,
        engine_s: f64,
        task: Task,
        translation_s: Option<f64>,
    ) {
        self.audio_seconds.inc_by(audio_s.max(0.0));
        self.audio_duration.observe(audio_s);
        if audio_s > 0.0 {
            self.real_time_factor.observe(engine_s / audio_s);
        }
        match task {
            Task::Transcribe => {
                let translation_s = translation_s.unwrap_or(0.0).clamp(0.0, engine_s);
                self.transcription_time.observe(engine_s - translation_s);
                if translation_s > 0.0 {
                    self.translation_time.observe(translation_s);
                }
            }
            // Whisper's translate task: the whole job is a translation.
            Task::Translate => self.translation_time.observe(engine_s),
        }
    }

    pub fn job_failed(&self, e: &JobError) {
        let reason = match e {
            JobError::Overloaded => "overloaded",
            JobError::TimedOut => "timed_out",
            JobError::Panicked(_) => "panicked",
            JobError::Stopped => "stopped",
        };
        self.job_failures.with_label_values(&[reason]).inc();
    }

    pub fn set_ready(&self, ready: bool) {
        self.ready.set(i64::from(ready));
    }

    /// The text exposition, with the scheduler gauges as of now.
    pub fn render(&self, scheduler: Option<SchedulerGauges>) -> String {
        if let Some(g) = scheduler {
            self.queue_depth.set(g.queued as i64);
            self.workers_busy.set(g.busy as i64);
            self.workers.set(g.workers as i64);
            self.in_flight.set(g.in_flight as i64);
            // Counters only move forward: add what the workers ran since the last scrape.
            for (counter, total) in [
                (&self.decoder_steps, g.decoder_steps),
                (&self.decoder_step_streams, g.decoder_step_streams),
            ] {
                counter.inc_by(total.saturating_sub(counter.get()));
            }
        }
        let mut out = Vec::new();
        // Encoding into a Vec cannot fail for well-formed metrics.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_has_the_old_service_names_and_ours() {
        let m = Metrics::new();
        m.observe_request("POST", "/transcriptions", 200, 1.5, true);
        m.observe_transcription(10.0, 1.0, Task::Transcribe, None);
        m.observe_transcription(10.0, 2.0, Task::Translate, None);
        m.job_failed(&JobError::Overloaded);
        let text = m.render(Some(SchedulerGauges {
            queued: 3,
            busy: 2,
            workers: 2,
            in_flight: 5,
            decoder_steps: 10,
            decoder_step_streams: 25,
        }));
        for name in [
            "stt_transcriptions_total{status=\"200\"} 1",
            "stt_audio_duration_seconds_count 2",
            "stt_transcription_time_seconds_count 1",
            "stt_translation_time_seconds_count 1",
            "stt_http_requests_total{method=\"POST\",path=\"/transcriptions\",status=\"200\"} 1",
            "stt_http_request_duration_seconds_bucket",
            "stt_queue_depth 3",
            "stt_workers_busy 2",
            "stt_decoder_steps_total 10",
            "stt_decoder_step_streams_total 25",
            "stt_audio_seconds_processed_total 20",
            "stt_real_time_factor_bucket{le=\"0.1\"} 1",
            "stt_job_failures_total{reason=\"overloaded\"} 1",
        ] {
            assert!(text.contains(name), "missing {name} in:\n{text}");
        }
    }
}
