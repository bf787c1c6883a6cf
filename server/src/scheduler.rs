//! The job scheduler between the HTTP layer and the engine: bounded admission, a
//! queue, and a fixed set of CPU workers that run inference off the async runtime.
//!
//! Threading contract:
//! - Each worker is its own rayon `ThreadPool` of `threads_per_job` threads, running a
//!   loop that takes jobs from a shared queue. Jobs run *inside* their worker's pool, so
//!   the parallel loops candle starts (matmul, softmax) stay on that worker's threads:
//!   W workers x T threads never oversubscribe the CPUs.
//! - A worker decodes up to `streams_per_worker` jobs together (the engine's
//!   [`StreamBatcher`]): each job runs until it needs its next decoder step, and the
//!   waiting steps run as one batched step that reads the weights once for all of them.
//!   A worker only takes a second job while no other worker is idle, so light load is
//!   spread over the workers and only a backlog is batched.
//! - Admission is a semaphore of `workers + queue_size` permits taken with
//!   `try_acquire`: when it is empty the caller answers "overloaded" at once instead of
//!   letting the client wait out its own timeout. A permit is released when the job
//!   has really finished on its worker, not when the HTTP handler gave up on it, so a
//!   timed-out job still counts against capacity until it stops.
//! - Every job gets a cancel flag. It is set when the time limit runs out or when the
//!   waiting future is dropped (the client went away); a queued job whose flag is set
//!   is skipped, a running one stops at its next check (the engine checks per token).
//! - A panic inside a job is caught on the worker and reported as [`JobError::Panicked`];
//!   the worker and the jobs batched with it go on.
//!
//! The scheduler is generic over the shared context handed to jobs (the Whisper model
//! in production), so its behaviour is unit-tested with plain closures.

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex, TryLockError};
use std::time::{Duration, Instant};
use stt_engine::decoding::{BatchStats, StepModel, Stepper, StreamBatcher, StreamEnd};
use tokio::sync::{oneshot, OwnedSemaphorePermit, Semaphore, TryAcquireError};
use tracing::Instrument;

/// Sizes of the worker pool and the queue in front of it.
#[derive(Debug, Clone, Copy)]
pub struct SchedulerConfig {
    /// Workers: each runs its jobs on its own threads.
    pub workers: usize,
    /// CPU threads each worker may use for its own parallel loops.
    pub threads_per_job: usize,
    /// Jobs one worker may decode together when a backlog builds up (1: one at a time).
    pub streams_per_worker: usize,
    /// Jobs that may wait for a worker; one more is refused.
    pub queue_size: usize,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum JobError {
    #[error("all workers are busy and the queue is full")]
    Overloaded,
    #[error("the time limit ran out")]
    TimedOut,
    #[error("the job panicked: {0}")]
    Panicked(String),
    #[error("the worker pool has stopped")]
    Stopped,
}

/// A place in the scheduler, taken before the (possibly large) upload is read.
pub struct Admission {
    _permit: OwnedSemaphorePermit,
}

/// Called with how a job's stream ended; replies to the waiting request.
type JobEnd = Box<dyn FnOnce(StreamEnd)>;
/// Starts a queued job on the worker that took it, as a stream of that worker's batcher.
type QueuedJob<C> = Box<dyn FnOnce(&Arc<C>, &mut StreamBatcher<JobEnd>) + Send>;

/// Live counters, read by `/metrics` at scrape time.
#[derive(Default)]
struct Counters {
    queued: AtomicUsize,
    busy: AtomicUsize,
    /// Moving average of job run time in milliseconds, for `Retry-After`.
    mean_job_ms: AtomicU64,
    /// Batched decoder steps run by all workers, and the stream steps inside them.
    decoder_steps: AtomicU64,
    decoder_step_rows: AtomicU64,
}

pub struct Scheduler<C: Send + Sync + 'static> {
    sender: Mutex<mpsc::Sender<QueuedJob<C>>>,
    admission: Arc<Semaphore>,
    counters: Arc<Counters>,
    config: SchedulerConfig,
    // Kept so the worker threads live as long as the scheduler.
    _pools: Vec<rayon::ThreadPool>,
}

/// Sets the cancel flag when dropped unless disarmed: dropping the waiting future
/// (client disconnected) must stop the job it was waiting for.
struct CancelOnDrop {
    flag: Arc<AtomicBool>,
    armed: bool,
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if self.armed {
            self.flag.store(true, Ordering::Relaxed);
        }
    }
}

/// One worker's loop: take jobs, let them run to their next decoder step, run the
/// steps together, repeat. Ends when the scheduler is dropped and its jobs are done.
fn worker_loop<C: StepModel + Send + Sync + 'static>(
    context: Arc<C>,
    receiver: Arc<Mutex<mpsc::Receiver<QueuedJob<C>>>>,
    streams: usize,
    counters: Arc<Counters>,
) {
    let mut batcher: StreamBatcher<JobEnd> = StreamBatcher::default();
    let mut open = true;
    while open || !batcher.is_empty() {
        if batcher.is_empty() {
            // Idle: wait for a job while holding the lock, so busy workers see this
            // worker waiting (their `try_lock` fails) and leave the next job to it.
            let next = match receiver.lock() {
                Ok(rx) => rx.recv(),
                Err(poisoned) => poisoned.into_inner().recv(),
            };
            match next {
                Ok(job) => job(&context, &mut batcher),
                Err(_) => open = false, // the scheduler was dropped
            }
        }
        while open && batcher.len() < streams {
            let next = match receiver.try_lock() {
                Ok(rx) => rx.try_recv(),
                Err(TryLockError::Poisoned(p)) => p.into_inner().try_recv(),
                Err(TryLockError::WouldBlock) => break, // another worker is idle
            };
            match next {
                Ok(job) => job(&context, &mut batcher),
                Err(mpsc::TryRecvError::Empty) => break,
                Err(mpsc::TryRecvError::Disconnected) => open = false,
            }
        }
        let before = batcher.stats();
        for (end, how) in batcher.advance(&*context) {
            end(how);
        }
        let after = batcher.stats();
        let steps = after.steps - before.steps;
        if steps > 0 {
            counters.decoder_steps.fetch_add(steps, Ordering::Relaxed);
            let rows = after.rows - before.rows;
            counters
                .decoder_step_rows
                .fetch_add(rows, Ordering::Relaxed);
        }
    }
}

impl<C: StepModel + Send + Sync + 'static> Scheduler<C> {
    pub fn new(context: Arc<C>, config: SchedulerConfig) -> std::io::Result<Self> {
        let config = SchedulerConfig {
            workers: config.workers.max(1),
            threads_per_job: config.threads_per_job.max(1),
            streams_per_worker: config.streams_per_worker.max(1),
            queue_size: config.queue_size,
        };
        let (sender, receiver) = mpsc::channel::<QueuedJob<C>>();
        let receiver = Arc::new(Mutex::new(receiver));
        let counters: Arc<Counters> = Arc::default();
        let mut pools = Vec::with_capacity(config.workers);
        for worker in 0..config.workers {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(config.threads_per_job)
                .thread_name(move |i| format!("stt-worker-{worker}.{i}"))
                .build()
                .map_err(std::io::Error::other)?;
            let receiver = Arc::clone(&receiver);
            let context = Arc::clone(&context);
            let streams = config.streams_per_worker;
            let counters = Arc::clone(&counters);
            pool.spawn(move || worker_loop(context, receiver, streams, counters));
            pools.push(pool);
        }
        Ok(Self {
            sender: Mutex::new(sender),
            admission: Arc::new(Semaphore::new(config.workers + config.queue_size)),
            counters,
            config,
            _pools: pools,
        })
    }

    pub fn config(&self) -> SchedulerConfig {
        self.config
    }

    /// Takes a place or fails at once when workers and queue are all taken.
    pub fn try_admit(&self) -> Result<Admission, JobError> {
        match Arc::clone(&self.admission).try_acquire_owned() {
            Ok(permit) => Ok(Admission { _permit: permit }),
            Err(TryAcquireError::NoPermits) => Err(JobError::Overloaded),
            Err(TryAcquireError::Closed) => Err(JobError::Stopped),
        }
    }

    /// Jobs waiting for a worker.
    pub fn queued(&self) -> usize {
        self.counters.queued.load(Ordering::Relaxed)
    }

    /// Jobs running on the workers (several per worker when they are batched).
    pub fn busy(&self) -> usize {
        self.counters.busy.load(Ordering::Relaxed)
    }

    /// Decoder steps the workers have run; `rows / steps` is the mean batch size.
    pub fn decoder_steps(&self) -> BatchStats {
        BatchStats {
            steps: self.counters.decoder_steps.load(Ordering::Relaxed),
            rows: self.counters.decoder_step_rows.load(Ordering::Relaxed),
        }
    }

    /// Admitted requests not yet finished (uploading, queued or running).
    pub fn in_flight(&self) -> usize {
        (self.config.workers + self.config.queue_size)
            .saturating_sub(self.admission.available_permits())
    }

    /// Seconds a refused client should wait: the time the current backlog needs to
    /// drain at the measured job rate, between 1 s and 2 min.
    pub fn retry_after_s(&self) -> u64 {
        let mean_s = self.counters.mean_job_ms.load(Ordering::Relaxed) as f64 / 1000.0;
        let backlog = (self.queued() + self.busy()) as f64;
        let estimate = (backlog * mean_s.max(1.0) / self.config.workers as f64).ceil();
        (estimate as u64).clamp(1, 120)
    }

    /// Runs `job` on a worker and waits for it at most `limit` (queue time included).
    /// The job receives the shared context, its cancel flag and the stepper its
    /// decoding must use for decoder steps; everything it does between steps runs
    /// when its worker polls it.
    pub async fn run<T, F, Fut>(
        &self,
        admission: Admission,
        limit: Duration,
        job: F,
    ) -> Result<T, JobError>
    where
        T: Send + 'static,
        F: FnOnce(Arc<C>, Arc<AtomicBool>, Stepper) -> Fut + Send + 'static,
        Fut: Future<Output = T> + 'static,
    {
        // The job's logs (and a panic's) carry the request's span, on whichever worker.
        let span = tracing::Span::current();
        let cancel = Arc::new(AtomicBool::new(false));
        let mut guard = CancelOnDrop {
            flag: Arc::clone(&cancel),
            armed: true,
        };
        let (reply, result) = oneshot::channel::<Result<T, JobError>>();
        let counters = Arc::clone(&self.counters);
        let queued_job: QueuedJob<C> = Box::new(move |context, batcher| {
            counters.queued.fetch_sub(1, Ordering::Relaxed);
            if cancel.load(Ordering::Relaxed) {
                return; // nobody waits for it any more; dropping frees its place
            }
            counters.busy.fetch_add(1, Ordering::Relaxed);
            let started = Instant::now();
            let output: Rc<RefCell<Option<T>>> = Rc::default();
            let written = Rc::clone(&output);
            let end: JobEnd = Box::new(move |how| {
                counters.busy.fetch_sub(1, Ordering::Relaxed);
                record_duration(&counters.mean_job_ms, started.elapsed());
                let result = match how {
                    StreamEnd::Finished => output.take().ok_or(JobError::Stopped),
                    StreamEnd::Panicked(message) => Err(JobError::Panicked(message)),
                };
                // The place frees only when the work stops, and before the caller hears
                // of it: whoever reads `in_flight` after the reply sees it free.
                drop(admission);
                let _ = reply.send(result);
            });
            let context = Arc::clone(context);
            batcher.add(end, move |stepper| {
                async move {
                    // Taken into a batch behind a running stream, it starts only when
                    // polled: its client may have gone by then.
                    if cancel.load(Ordering::Relaxed) {
                        return;
                    }
                    let value = job(context, cancel, stepper).await;
                    *written.borrow_mut() = Some(value);
                }
                .instrument(span)
            });
        });
        self.counters.queued.fetch_add(1, Ordering::Relaxed);
        let sent = match self.sender.lock() {
            Ok(sender) => sender.send(queued_job),
            Err(poisoned) => poisoned.into_inner().send(queued_job),
        };
        if sent.is_err() {
            self.counters.queued.fetch_sub(1, Ordering::Relaxed);
            return Err(JobError::Stopped);
        }
        let outcome = match tokio::time::timeout(limit, result).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(_)) => Err(JobError::Stopped),
            Err(_) => Err(JobError::TimedOut), // the guard below cancels the job
        };
        // A finished job needs no cancelling; a timed-out one is cancelled by the guard.
        guard.armed = outcome.is_err();
        outcome
    }
}

/// Exponential moving average (weight 1/8 for the newest job).
fn record_duration(mean_ms: &AtomicU64, elapsed: Duration) {
    let new = elapsed.as_millis().min(u64::MAX as u128) as u64;
    let _ = mean_ms.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |old| {
        Some(if old == 0 { new } else { (old * 7 + new) / 8 })
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use stt_engine::whisper::network::StepInput;

    /// These jobs never take a decoder step.
    struct NoNetwork;

    impl StepModel for NoNetwork {
        fn decode_steps(&self, _: &mut [StepInput]) -> candle_core::Result<Vec<Vec<f32>>> {
            candle_core::bail!("no network in scheduler tests")
        }
    }

    fn scheduler(workers: usize, queue_size: usize) -> Scheduler<NoNetwork> {
        Scheduler::new(
            Arc::new(NoNetwork),
            SchedulerConfig {
                workers,
                threads_per_job: 1,
                streams_per_worker: 4,
                queue_size,
            },
        )
        .unwrap()
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
    }

    const LONG: Duration = Duration::from_secs(30);

    #[test]
    fn runs_jobs_off_the_calling_thread() {
        let s = scheduler(2, 2);
        let caller = std::thread::current().id();
        let rt = runtime();
        let (thread, name) = rt
            .block_on(s.run(s.try_admit().unwrap(), LONG, |_, _, _| async move {
                let t = std::thread::current();
                (t.id(), t.name().map(str::to_string))
            }))
            .unwrap();
        assert_ne!(thread, caller);
        assert!(name.unwrap().starts_with("stt-worker-"));
        assert_eq!(s.in_flight(), 0, "the place is released after the job");
    }

    #[test]
    fn admission_is_bounded_by_workers_plus_queue() {
        let s = scheduler(1, 1);
        let a = s.try_admit().unwrap();
        let b = s.try_admit().unwrap();
        assert_eq!(s.try_admit().err(), Some(JobError::Overloaded));
        drop(a);
        assert!(s.try_admit().is_ok());
        drop(b);
    }

    #[test]
    fn a_panic_fails_only_its_own_job() {
        let s = scheduler(1, 1);
        let rt = runtime();
        let err = rt
            .block_on(s.run(s.try_admit().unwrap(), LONG, |_, _, _| async move {
                panic!("injected fault");
                #[allow(unreachable_code)]
                0u32
            }))
            .unwrap_err();
        assert_eq!(err, JobError::Panicked("injected fault".into()));
        let next = rt.block_on(s.run(s.try_admit().unwrap(), LONG, |_, _, _| async { 7 }));
        assert_eq!(next, Ok(7), "the worker survives the panic");
    }

    #[test]
    fn time_limit_cancels_the_job_and_frees_the_worker() {
        let s = scheduler(1, 0);
        let rt = runtime();
        let saw_cancel = Arc::new(AtomicBool::new(false));
        let seen = Arc::clone(&saw_cancel);
        let err = rt
            .block_on(s.run(
                s.try_admit().unwrap(),
                Duration::from_millis(100),
                move |_, cancel, _| async move {
                    // A cooperative job, like the engine's per-token check.
                    while !cancel.load(Ordering::Relaxed) {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    seen.store(true, Ordering::Relaxed);
                },
            ))
            .unwrap_err();
        assert_eq!(err, JobError::TimedOut);
        // The place comes back once the job has stopped.
        let deadline = Instant::now() + Duration::from_secs(5);
        let admission = loop {
            if let Ok(a) = s.try_admit() {
                break a;
            }
            assert!(Instant::now() < deadline, "worker never freed");
            std::thread::sleep(Duration::from_millis(5));
        };
        assert!(saw_cancel.load(Ordering::Relaxed));
        assert_eq!(
            rt.block_on(s.run(admission, LONG, |_, _, _| async { 1 })),
            Ok(1)
        );
    }

    #[test]
    fn a_dropped_waiter_cancels_its_queued_job() {
        let s = scheduler(1, 1);
        let rt = runtime();
        let release = Arc::new(AtomicBool::new(false));
        let ran_second = Arc::new(AtomicBool::new(false));
        rt.block_on(async {
            let r = Arc::clone(&release);
            let first = s.run(s.try_admit().unwrap(), LONG, move |_, _, _| async move {
                while !r.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(5));
                }
            });
            let flag = Arc::clone(&ran_second);
            let second = s.run(s.try_admit().unwrap(), LONG, move |_, _, _| async move {
                flag.store(true, Ordering::Relaxed)
            });
            // Poll both once so both are queued, then drop the second (client gone).
            let mut first = Box::pin(first);
            let mut second = Box::pin(second);
            tokio::select! {
                biased;
                _ = &mut first => unreachable!(),
                _ = &mut second => unreachable!(),
                _ = tokio::time::sleep(Duration::from_millis(50)) => {}
            }
            drop(second);
            release.store(true, Ordering::Relaxed);
            first.await.unwrap();
        });
        // The skipped job still hands its place back.
        let deadline = Instant::now() + Duration::from_secs(5);
        while s.in_flight() > 0 {
            assert!(Instant::now() < deadline, "place never released");
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(!ran_second.load(Ordering::Relaxed));
        assert_eq!(s.queued(), 0);
    }

    #[test]
    fn jobs_run_in_parallel_up_to_the_worker_count() {
        let s = Arc::new(scheduler(2, 4));
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_time()
            .build()
            .unwrap();
        let peak = Arc::new(AtomicUsize::new(0));
        let now = Arc::new(AtomicUsize::new(0));
        rt.block_on(async {
            let mut handles = Vec::new();
            for _ in 0..6 {
                let (s, peak, now) = (Arc::clone(&s), Arc::clone(&peak), Arc::clone(&now));
                let admission = s.try_admit().unwrap();
                handles.push(tokio::spawn(async move {
                    s.run(admission, LONG, move |_, _, _| async move {
                        let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                        peak.fetch_max(n, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(30));
                        now.fetch_sub(1, Ordering::SeqCst);
                    })
                    .await
                }));
            }
            for h in handles {
                h.await.unwrap().unwrap();
            }
        });
        assert_eq!(peak.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn retry_after_grows_with_the_backlog() {
        let s = scheduler(1, 4);
        assert_eq!(s.retry_after_s(), 1);
        s.counters.mean_job_ms.store(10_000, Ordering::Relaxed);
        s.counters.queued.store(3, Ordering::Relaxed);
        s.counters.busy.store(1, Ordering::Relaxed);
        assert_eq!(s.retry_after_s(), 40);
        s.counters.queued.store(0, Ordering::Relaxed);
        s.counters.busy.store(0, Ordering::Relaxed);
    }
}
