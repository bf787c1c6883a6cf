//! Size, duration and time limits: 413 while the upload streams, 413 after decoding,
//! 408 for an upload that stalls, 504 when the time limit runs out (and the worker is
//! free again soon after).

use crate::support::*;
use std::time::{Duration, Instant};

#[test]
fn an_upload_over_the_size_limit_is_cut_off_while_streaming() {
    let mut server = Server::start(
        &[],
        &[
            ("STT_MAX_FILE_SIZE_MB", "1"),
            ("STT_MAX_DURATION_MINUTES", "0.1"),
        ],
    );
    let boundary = "cutoff-boundary";
    let part_head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"audio_file\"; filename=\"big.wav\"\r\nContent-Type: audio/wav\r\n\r\n"
    );
    // Announce 8 MiB but send only a little over the 1 MiB limit, then stop sending:
    // a server that read the whole body before checking would never answer.
    let announced = part_head.len() + 8 * 1024 * 1024 + boundary.len() + 8;
    let head = format!(
        "POST /transcriptions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {announced}\r\n\r\n"
    );
    let mut body_start = part_head.into_bytes();
    body_start.extend(std::iter::repeat_n(0u8, 1024 * 1024 + 64 * 1024));
    let started = Instant::now();
    let mut stream = raw_request(server.port, &head, &body_start);
    let answer = read_raw_answer(&mut stream, Duration::from_secs(20));
    assert!(
        answer.starts_with("HTTP/1.1 413"),
        "expected 413 before the body was complete, got: {answer:?}"
    );
    assert!(answer.contains("\"detail\""), "{answer}");
    assert!(
        answer.contains("1 MB"),
        "the detail names the limit: {answer}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    drop(stream);
    server.assert_healthy();

    // The same limit on the OpenAI path answers in OpenAI's shape.
    let big = vec![0u8; 1024 * 1024 + 1];
    let form = Form::new()
        .file("file", "big.wav", None, &big)
        .text("model", "whisper-1");
    let content_type = form.content_type();
    let body = form.into_body();
    let result = ureq::post(&server.url("/v1/audio/transcriptions"))
        .set("Content-Type", &content_type)
        .send_bytes(&body);
    match result {
        Err(ureq::Error::Status(413, r)) => {
            let v: serde_json::Value = r.into_json().unwrap();
            assert!(
                v["error"]["message"].as_str().unwrap().contains("limit"),
                "{v}"
            );
        }
        // The server may close before the client finished writing: also a cut-off.
        Err(ureq::Error::Transport(t)) => eprintln!("connection closed while sending: {t}"),
        other => panic!("expected 413, got {other:?}"),
    }

    // Under the size limit but over the duration limit (6 s): 413 after decoding.
    let jfk = clip("jfk/jfk.wav");
    let reply = post_form(&server.url("/transcriptions"), Form::audio(jfk, "en"));
    assert_eq!(reply.status, 413, "{}", reply.body);
    assert!(reply.detail().contains("limit"), "{}", reply.body);

    // Under both limits: fine.
    let short = clip("librispeech/icefall_testwav_1221-135766-0002.wav");
    let reply = post_form(&server.url("/transcriptions"), Form::audio(short, "en-US"));
    assert_eq!(reply.status, 200, "{}", reply.body);
    server.assert_healthy();
}

#[test]
fn the_time_limit_answers_504_and_frees_the_worker() {
    let mut server = Server::start(&["--workers", "1", "--request-timeout-s", "6"], &[]);
    // Four minutes of read speech: half a minute or more of work on one thread.
    let long = clip("longform/ljspeech_LJ001-0001_to_0032_concat.mp3");
    let started = Instant::now();
    let reply = post_form(&server.url("/transcriptions"), Form::audio(long, "en"));
    assert_eq!(reply.status, 504, "{}", reply.body);
    assert!(reply.detail().contains("time limit"), "{}", reply.body);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );

    // The job is cancelled and stops at its next 30 s window: the worker is free
    // long before the whole file would have been transcribed.
    let timed_out_at = Instant::now();
    while server.metric("stt_workers_busy") != Some(0.0)
        || server.metric("stt_requests_in_flight") != Some(0.0)
    {
        assert!(
            timed_out_at.elapsed() < Duration::from_secs(20),
            "the worker was not freed"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!("worker freed {:?} after the 504", timed_out_at.elapsed());
    // A very short clip: it must fit in its own 6 s even with other tests on the CPUs.
    let short = clip("odd/jfk_cut_0.45s.wav");
    let reply = post_form(&server.url("/transcriptions"), Form::audio(short, "en"));
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        server.metric("stt_job_failures_total{reason=\"timed_out\"}"),
        Some(1.0)
    );
    server.assert_healthy();
}

#[test]
fn a_stalled_upload_gets_408_and_gives_its_place_back() {
    // One place in all (one worker, no queue): while the stalled upload holds it, every
    // other request is refused, so the 200 below shows the place came back.
    let mut server = Server::start(
        &["--workers", "1", "--queue-size", "0"],
        &[("STT_UPLOAD_IDLE_TIMEOUT_S", "2")],
    );
    let boundary = "stall-boundary";
    let part_head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"audio_file\"; filename=\"slow.wav\"\r\nContent-Type: audio/wav\r\n\r\n"
    );
    let head = format!(
        "POST /transcriptions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: 1000000\r\n\r\n"
    );
    let mut body_start = part_head.into_bytes();
    body_start.extend(std::iter::repeat_n(0u8, 4096));
    let started = Instant::now();
    let mut stream = raw_request(server.port, &head, &body_start);
    std::thread::sleep(Duration::from_millis(500));
    let short = clip("librispeech/icefall_testwav_1221-135766-0002.wav");
    let refused = post_form(&server.url("/transcriptions"), Form::audio(short, "en-US"));
    assert_eq!(
        refused.status, 503,
        "the stalled upload holds the only place"
    );

    let answer = read_raw_answer(&mut stream, Duration::from_secs(20));
    let waited = started.elapsed();
    assert!(
        answer.starts_with("HTTP/1.1 408"),
        "expected 408, got: {answer:?}"
    );
    assert!(answer.contains("stalled"), "the detail says why: {answer}");
    assert!(
        waited >= Duration::from_secs(2) && waited < Duration::from_secs(10),
        "answered after {waited:?} with a 2 s idle limit"
    );
    drop(stream);
    let reply = post_form(&server.url("/transcriptions"), Form::audio(short, "en-US"));
    assert_eq!(reply.status, 200, "{}", reply.body);
    server.assert_healthy();
}
