//! Decoder steps of several transcriptions run together.
//!
//! A decoder step of a small Whisper model is bound by reading memory: the weights
//! (tiny.en's output projection alone is 40 MB of f16), read once however many streams
//! share the step, and each stream's own cross-attention keys and values. Four streams
//! in one step cost about 3.1 times one (BENCHMARKS.md). The decoding loops are written as
//! async functions that await each step through a [`Stepper`]; a [`StreamBatcher`] polls
//! several of them on one thread, and when every stream is waiting for its next token
//! it runs all their steps in one [`WhisperNetwork::decode_steps`] call.
//!
//! Everything else a stream does (audio decoding, log-mel, VAD, the encoder, prompt
//! prefill) runs inside its poll, one stream at a time: those are compute-bound and
//! gain nothing from sharing. Outside a batcher, [`Stepper::Direct`] runs each step at
//! once and the futures complete on their first poll ([`run_to_completion`]).

use crate::whisper::network::{CrossAttentionCache, DecoderCache, StepInput, WhisperNetwork};
use crate::whisper::WhisperModel;
use candle_core::Result;
use std::cell::RefCell;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

/// Runs a batch of decoder steps: the network, or a stand-in in tests.
pub trait StepModel {
    fn decode_steps(&self, steps: &mut [StepInput]) -> Result<Vec<Vec<f32>>>;
}

impl StepModel for WhisperNetwork {
    fn decode_steps(&self, steps: &mut [StepInput]) -> Result<Vec<Vec<f32>>> {
        WhisperNetwork::decode_steps(self, steps)
    }
}

impl StepModel for WhisperModel {
    fn decode_steps(&self, steps: &mut [StepInput]) -> Result<Vec<Vec<f32>>> {
        self.network.decode_steps(steps)
    }
}

/// A step handed to the batcher: the stream's cache moves there and back.
struct StepRequest {
    cache: DecoderCache,
    cross: CrossAttentionCache,
    token: u32,
}

type StepOutcome = std::result::Result<(DecoderCache, Vec<f32>), String>;

#[derive(Default)]
enum SlotState {
    #[default]
    Idle,
    Waiting(StepRequest),
    Done(StepOutcome),
}

/// Where one stream leaves its step for the batcher and finds the result.
#[derive(Default)]
pub struct StepSlot(RefCell<SlotState>);

impl StepSlot {
    fn is_waiting(&self) -> bool {
        matches!(*self.0.borrow(), SlotState::Waiting(_))
    }
}

/// How a decoding loop runs its next-token steps.
#[derive(Clone, Default)]
pub enum Stepper {
    /// Run each step at once on the calling thread.
    #[default]
    Direct,
    /// Leave each step in this slot for a [`StreamBatcher`] to run with other streams'.
    Batched(Rc<StepSlot>),
}

impl Stepper {
    /// Feeds `token` after what `cache` holds; returns the next-token logits.
    pub async fn step(
        &self,
        net: &WhisperNetwork,
        cache: &mut DecoderCache,
        cross: &CrossAttentionCache,
        token: u32,
    ) -> Result<Vec<f32>> {
        match self {
            Self::Direct => {
                let mut steps = [StepInput {
                    cache,
                    cross,
                    token,
                }];
                Ok(net.decode_steps(&mut steps)?.swap_remove(0))
            }
            Self::Batched(slot) => {
                let request = StepRequest {
                    cache: std::mem::replace(cache, net.new_decoder_cache()),
                    cross: cross.clone(),
                    token,
                };
                *slot.0.borrow_mut() = SlotState::Waiting(request);
                let (returned, logits) =
                    WaitForStep(slot).await.map_err(candle_core::Error::Msg)?;
                *cache = returned;
                Ok(logits)
            }
        }
    }
}

/// Pending until the batcher has filled the slot.
struct WaitForStep<'a>(&'a StepSlot);

impl Future for WaitForStep<'_> {
    type Output = StepOutcome;

    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<StepOutcome> {
        let mut state = self.0 .0.borrow_mut();
        match std::mem::take(&mut *state) {
            SlotState::Done(outcome) => Poll::Ready(outcome),
            other => {
                *state = other;
                Poll::Pending
            }
        }
    }
}

/// Drives a future whose steps are [`Stepper::Direct`]: it never waits, so one poll ends it.
pub fn run_to_completion<T>(future: impl Future<Output = T>) -> T {
    let mut future = std::pin::pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    match future.as_mut().poll(&mut cx) {
        Poll::Ready(value) => value,
        Poll::Pending => unreachable!("a future with direct decoder steps never waits"),
    }
}

/// A stream being decoded by a [`StreamBatcher`], with what its owner attached to it.
struct Stream<M> {
    future: Pin<Box<dyn Future<Output = ()>>>,
    slot: Rc<StepSlot>,
    meta: M,
}

/// Why a stream ended.
#[derive(Debug, PartialEq)]
pub enum StreamEnd {
    Finished,
    /// The stream's own code panicked (the message); the other streams go on.
    Panicked(String),
}

/// Several decoding streams polled on one thread, their decoder steps run together.
/// `M` is whatever the owner needs back when a stream ends (a reply channel, say).
pub struct StreamBatcher<M> {
    streams: Vec<Stream<M>>,
    stats: BatchStats,
}

/// What a batcher has run so far.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct BatchStats {
    /// Batched decoder steps.
    pub steps: u64,
    /// Stream steps inside them (`rows / steps` is the mean batch size).
    pub rows: u64,
}

impl<M> Default for StreamBatcher<M> {
    fn default() -> Self {
        Self {
            streams: Vec::new(),
            stats: BatchStats::default(),
        }
    }
}

impl<M> StreamBatcher<M> {
    /// Streams not yet finished.
    pub fn len(&self) -> usize {
        self.streams.len()
    }

    pub fn is_empty(&self) -> bool {
        self.streams.is_empty()
    }

    pub fn stats(&self) -> BatchStats {
        self.stats
    }

    /// Adds a stream: `start` receives the stepper its decoding loops must use.
    pub fn add<F>(&mut self, meta: M, start: impl FnOnce(Stepper) -> F)
    where
        F: Future<Output = ()> + 'static,
    {
        let slot = Rc::new(StepSlot::default());
        let future = Box::pin(start(Stepper::Batched(Rc::clone(&slot))));
        self.streams.push(Stream { future, slot, meta });
    }

    /// Lets every stream run up to its next decoder step (or its end), then runs the
    /// waiting steps in one batched call. Returns the streams that ended.
    pub fn advance(&mut self, net: &impl StepModel) -> Vec<(M, StreamEnd)> {
        let mut ended = Vec::new();
        let mut cx = Context::from_waker(Waker::noop());
        let mut i = 0;
        while i < self.streams.len() {
            let stream = &mut self.streams[i];
            let outcome = if stream.slot.is_waiting() {
                None
            } else {
                match catch_unwind(AssertUnwindSafe(|| stream.future.as_mut().poll(&mut cx))) {
                    Ok(Poll::Ready(())) => Some(StreamEnd::Finished),
                    Ok(Poll::Pending) if stream.slot.is_waiting() => None,
                    Ok(Poll::Pending) => Some(StreamEnd::Panicked(
                        "a decoding stream waited on something other than a decoder step".into(),
                    )),
                    Err(payload) => Some(StreamEnd::Panicked(panic_message(&*payload))),
                }
            };
            match outcome {
                Some(end) => ended.push((self.streams.swap_remove(i).meta, end)),
                None => i += 1,
            }
        }
        self.run_waiting_steps(net);
        ended
    }

    fn run_waiting_steps(&mut self, net: &impl StepModel) {
        let mut requests: Vec<(usize, StepRequest)> = Vec::new();
        for (i, stream) in self.streams.iter().enumerate() {
            let mut state = stream.slot.0.borrow_mut();
            if let SlotState::Waiting(request) = std::mem::take(&mut *state) {
                requests.push((i, request));
            }
        }
        if requests.is_empty() {
            return;
        }
        self.stats.steps += 1;
        self.stats.rows += requests.len() as u64;
        let logits = catch_unwind(AssertUnwindSafe(|| {
            let mut inputs: Vec<StepInput> = requests
                .iter_mut()
                .map(|(_, r)| StepInput {
                    cache: &mut r.cache,
                    cross: &r.cross,
                    token: r.token,
                })
                .collect();
            net.decode_steps(&mut inputs)
        }));
        let logits = match logits {
            Ok(Ok(rows)) => Ok(rows),
            Ok(Err(e)) => Err(format!("batched decoder step failed: {e}")),
            Err(payload) => Err(format!(
                "batched decoder step panicked: {}",
                panic_message(&*payload)
            )),
        };
        match logits {
            Ok(rows) => {
                for ((i, request), row) in requests.into_iter().zip(rows) {
                    *self.streams[i].slot.0.borrow_mut() =
                        SlotState::Done(Ok((request.cache, row)));
                }
            }
            Err(message) => {
                for (i, _) in requests {
                    *self.streams[i].slot.0.borrow_mut() = SlotState::Done(Err(message.clone()));
                }
            }
        }
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic payload".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    struct NoNetwork;

    impl StepModel for NoNetwork {
        fn decode_steps(&self, _: &mut [StepInput]) -> Result<Vec<Vec<f32>>> {
            candle_core::bail!("not used")
        }
    }

    #[test]
    fn a_panicking_stream_ends_alone() {
        let ran = Rc::new(Cell::new(0));
        let mut batcher = StreamBatcher::default();
        for name in ["first", "faulty", "last"] {
            let ran = Rc::clone(&ran);
            batcher.add(name, move |_| async move {
                if name == "faulty" {
                    panic!("injected fault");
                }
                ran.set(ran.get() + 1);
            });
        }
        let mut ended = batcher.advance(&NoNetwork);
        ended.sort_by_key(|(name, _)| *name);
        assert_eq!(
            ended[0],
            ("faulty", StreamEnd::Panicked("injected fault".into()))
        );
        assert_eq!(ended[1], ("first", StreamEnd::Finished));
        assert_eq!(ended[2], ("last", StreamEnd::Finished));
        assert_eq!(ran.get(), 2);
        assert!(batcher.is_empty());
        assert_eq!(
            batcher.stats(),
            BatchStats::default(),
            "no steps were asked for"
        );
    }

    #[test]
    fn a_stream_waiting_on_anything_but_a_step_is_ended_not_polled_forever() {
        let mut batcher = StreamBatcher::default();
        batcher.add((), |_| std::future::pending::<()>());
        let ended = batcher.advance(&NoNetwork);
        assert!(matches!(ended[..], [((), StreamEnd::Panicked(_))]));
        assert!(batcher.is_empty());
    }

    #[test]
    fn direct_futures_finish_in_one_poll() {
        assert_eq!(run_to_completion(async { 7 }), 7);
    }
}
