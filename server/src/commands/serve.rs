//! `stt serve`: turns flags and environment into a [`ServeConfig`], sizes the CPU
//! workers, and runs the HTTP server on a small async runtime.

use crate::cli::ServeArgs;
use crate::commands::transcribe::configure_threads;
use crate::cpu_quota::available_cpus;
use crate::http::{self, Limits, ServeConfig};
use crate::scheduler::SchedulerConfig;
use anyhow::{bail, Context, Result};
use std::process::ExitCode;
use std::time::Duration;

/// Async threads only parse, stream uploads to disk and render JSON; inference runs on
/// the scheduler's workers. Two are plenty and keep them from competing for the CPUs.
const ASYNC_THREADS: usize = 2;

/// Workers and threads per job from what was asked and the CPUs this process may use:
/// by default one single-threaded worker per CPU (best throughput for many requests).
pub fn plan_workers(
    workers: Option<usize>,
    threads_per_job: Option<usize>,
    cpus: usize,
) -> (usize, usize) {
    let cpus = cpus.max(1);
    let workers = workers
        .or_else(|| threads_per_job.map(|t| (cpus / t.max(1)).max(1)))
        .unwrap_or(cpus)
        .max(1);
    let threads = threads_per_job.unwrap_or((cpus / workers).max(1)).max(1);
    (workers, threads)
}

pub fn run(args: ServeArgs) -> Result<ExitCode> {
    if args.max_duration_minutes <= 0.0 || args.max_duration_minutes.is_nan() {
        bail!("--max-duration-minutes must be positive");
    }
    if args.request_timeout_s == 0 {
        bail!("--request-timeout-s must be at least 1");
    }
    let cpus = available_cpus();
    let (workers, threads_per_job) = plan_workers(args.workers, args.threads_per_job, cpus);
    // candle decides how finely to split its kernels from RAYON_NUM_THREADS; each job
    // runs inside its worker's own pool of this size.
    configure_threads(Some(threads_per_job));
    tracing::info!(
        cpus,
        workers,
        threads_per_job,
        streams_per_worker = args.streams_per_worker,
        "CPU plan"
    );
    let config = ServeConfig {
        host: args.host,
        port: args.port,
        model: args.model,
        scheduler: SchedulerConfig {
            workers,
            threads_per_job,
            streams_per_worker: usize::from(args.streams_per_worker),
            queue_size: args.queue_size,
        },
        limits: Limits {
            max_file_bytes: args.max_file_size_mb.saturating_mul(1024 * 1024),
            max_duration_s: args.max_duration_minutes * 60.0,
            request_timeout: Duration::from_secs(args.request_timeout_s),
            upload_idle: Duration::from_secs(args.upload_idle_timeout_s),
        },
        shutdown_grace: Duration::from_secs(args.shutdown_grace_s),
        environment: args.environment,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(ASYNC_THREADS)
        .thread_name("stt-http")
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let result = runtime.block_on(http::serve(config));
    // Do not wait for a model load or a job that outlived the grace period.
    runtime.shutdown_timeout(Duration::from_secs(1));
    result.map(|()| ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::plan_workers;

    #[test]
    fn defaults_fill_every_cpu_with_single_threaded_workers() {
        assert_eq!(plan_workers(None, None, 2), (2, 1));
        assert_eq!(plan_workers(None, None, 8), (8, 1));
    }

    #[test]
    fn explicit_choices_share_the_cpus() {
        assert_eq!(plan_workers(Some(1), None, 4), (1, 4));
        assert_eq!(plan_workers(None, Some(2), 8), (4, 2));
        assert_eq!(plan_workers(Some(3), Some(3), 2), (3, 3));
        assert_eq!(plan_workers(Some(0), Some(0), 0), (1, 1));
    }
}
