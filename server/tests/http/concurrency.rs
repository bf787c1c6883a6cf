//! Many requests at once: each gets its own transcript, requests waiting for one worker
//! are decoded together with transcripts identical to one-at-a-time, a full queue
//! answers 503 with `Retry-After` at once, and a client that hangs up frees its worker.

use crate::support::*;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

#[test]
fn concurrent_requests_get_their_own_correct_transcripts() {
    let mut server = Server::start(&[], &[]);
    let mut clips = librispeech_clips();
    clips.push(clip("jfk/jfk.wav"));
    assert!(clips.len() >= 6, "{} clips", clips.len());
    let url = server.url("/transcriptions/process-isolated");
    let barrier = Arc::new(Barrier::new(clips.len()));
    let handles: Vec<_> = clips
        .iter()
        .map(|&clip| {
            let (url, barrier) = (url.clone(), Arc::clone(&barrier));
            std::thread::spawn(move || {
                barrier.wait();
                // Two requests per thread: the second overlaps with other clips' first.
                (0..2)
                    .map(|_| post_form(&url, Form::audio(clip, "en-US")))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut problems = Vec::new();
    for (clip, handle) in clips.iter().zip(handles) {
        let own = clip["reference"].as_str().unwrap();
        for reply in handle.join().expect("client thread") {
            assert_eq!(reply.status, 200, "{}: {}", clip["path"], reply.body);
            let text = reply.json()["original_text"].as_str().unwrap().to_string();
            let own_rate = wer(own, &text);
            // Un-mixed: closer to its own reference than to any other clip's.
            let closest_other = clips
                .iter()
                .filter(|c| c["reference"] != clip["reference"])
                .map(|c| wer(c["reference"].as_str().unwrap(), &text))
                .fold(f64::INFINITY, f64::min);
            eprintln!(
                "{:<50} WER {own_rate:.2} (other {closest_other:.2})",
                clip["path"]
            );
            if own_rate > 0.25 || own_rate >= closest_other {
                problems.push(format!("{}: {text:?} (WER {own_rate:.2})", clip["path"]));
            }
        }
    }
    assert!(problems.is_empty(), "wrong transcripts: {problems:#?}");
    server.assert_healthy();
}

#[test]
fn a_backlog_on_one_worker_is_decoded_together_with_unchanged_transcripts() {
    let mut server = Server::start(
        &[
            "--workers",
            "1",
            "--threads-per-job",
            "1",
            "--streams-per-worker",
            "4",
        ],
        &[],
    );
    let clips: Vec<_> = librispeech_clips().into_iter().take(6).collect();
    assert_eq!(clips.len(), 6);
    let url = server.url("/transcriptions");
    let transcribe = |clip: &serde_json::Value| {
        let reply = post_form(&url, Form::audio(clip, "en-US"));
        assert_eq!(reply.status, 200, "{}: {}", clip["path"], reply.body);
        reply.json()["original_text"].as_str().unwrap().to_string()
    };
    let steps = |server: &Server| {
        (
            server.metric("stt_decoder_steps_total").unwrap(),
            server.metric("stt_decoder_step_streams_total").unwrap(),
        )
    };
    let alone: Vec<String> = clips.iter().map(|c| transcribe(c)).collect();
    let (steps_alone, streams_alone) = steps(&server);
    assert_eq!(
        steps_alone, streams_alone,
        "one request at a time: one stream per step"
    );

    let barrier = Barrier::new(clips.len());
    let together: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = clips
            .iter()
            .map(|clip| {
                let (barrier, transcribe) = (&barrier, &transcribe);
                scope.spawn(move || {
                    barrier.wait();
                    transcribe(clip)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let (steps_all, streams_all) = steps(&server);
    let (steps, streams) = (steps_all - steps_alone, streams_all - streams_alone);
    let mean_batch = streams / steps;
    eprintln!("{streams} request tokens in {steps} decoder steps: {mean_batch:.2} per step");
    assert!(
        mean_batch > 1.5,
        "six requests on one worker should share decoder steps ({mean_batch:.2} per step)"
    );
    for ((clip, alone), together) in clips.iter().zip(&alone).zip(&together) {
        assert_eq!(
            alone, together,
            "{}: batching changed the transcript",
            clip["path"]
        );
    }
    // Scored over all six: one short clip alone can miss two of its eight words.
    let references: Vec<&str> = clips
        .iter()
        .map(|c| c["reference"].as_str().unwrap())
        .collect();
    let corpus_wer = wer(&references.join(" "), &together.join(" "));
    eprintln!("WER of the batched transcripts: {corpus_wer:.3}");
    assert!(corpus_wer < 0.15, "WER {corpus_wer:.3}: {together:?}");
    server.assert_healthy();
}

#[test]
fn a_full_queue_answers_503_with_retry_after_at_once() {
    let mut server = Server::start(&["--workers", "1", "--queue-size", "1"], &[]);
    // 13 s of speech each: a second or more of work, so the first two hold the
    // worker and the only queue place while the others arrive.
    let long = Arc::new(clip_bytes(clip("librispeech/1272-141231-0002.wav")));
    let clients = 6;
    let barrier = Arc::new(Barrier::new(clients));
    let url = server.url("/transcriptions");
    let handles: Vec<_> = (0..clients)
        .map(|i| {
            let (url, barrier, long) = (url.clone(), Arc::clone(&barrier), Arc::clone(&long));
            std::thread::spawn(move || {
                barrier.wait();
                // Stagger slightly so admission order is not a photo finish.
                std::thread::sleep(Duration::from_millis(50 * i as u64));
                let started = Instant::now();
                let form = Form::new().file("audio_file", "long.wav", None, &long);
                (post_form(&url, form), started.elapsed())
            })
        })
        .collect();
    let (mut ok, mut refused) = (0, 0);
    for handle in handles {
        let (reply, elapsed) = handle.join().expect("client thread");
        match reply.status {
            200 => ok += 1,
            503 => {
                refused += 1;
                let retry_after: u64 = reply
                    .header("retry-after")
                    .expect("Retry-After on 503")
                    .parse()
                    .expect("Retry-After in seconds");
                assert!(retry_after >= 1);
                assert!(reply.detail().contains("capacity"), "{}", reply.body);
                assert!(
                    elapsed < Duration::from_secs(3),
                    "refused at once, not after {elapsed:?}"
                );
            }
            other => panic!("unexpected {other}: {}", reply.body),
        }
    }
    assert_eq!(ok, 2, "one running + one queued");
    assert_eq!(refused, clients - 2);
    assert_eq!(
        server.metric("stt_job_failures_total{reason=\"overloaded\"}"),
        Some((clients - 2) as f64)
    );
    // Capacity comes back once they are done.
    let reply = post_form(&url, Form::audio(clip("jfk/jfk.wav"), "en"));
    assert_eq!(reply.status, 200, "{}", reply.body);
    server.assert_healthy();
}

#[test]
fn a_client_that_hangs_up_frees_its_worker() {
    let mut server = Server::start(&["--workers", "1"], &[]);
    // Four minutes of read speech: half a minute or more of work on one thread.
    let form = Form::audio(
        clip("longform/ljspeech_LJ001-0001_to_0032_concat.mp3"),
        "en",
    );
    let content_type = form.content_type();
    let body = form.into_body();
    let head = format!(
        "POST /transcriptions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let stream = raw_request(server.port, &head, &body);
    // Wait until the worker is on it, then hang up.
    let deadline = Instant::now() + Duration::from_secs(30);
    while server.metric("stt_workers_busy") != Some(1.0) {
        assert!(Instant::now() < deadline, "the job never started");
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(stream);
    let started = Instant::now();
    let reply = post_form(
        &server.url("/transcriptions"),
        Form::audio(
            clip("librispeech/icefall_testwav_1221-135766-0002.wav"),
            "en",
        ),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    // Had the abandoned job gone on, this would have waited for most of it.
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the abandoned job kept the worker: {:?}",
        started.elapsed()
    );
    server.assert_healthy();
}
