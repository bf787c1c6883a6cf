//! SIGTERM: readiness turns 503, new work is refused with Retry-After, the request in
//! flight still completes, then the process exits 0.

use crate::support::*;
use std::time::Duration;

#[test]
fn sigterm_lets_the_request_in_flight_finish_then_exits_zero() {
    let mut server = Server::start(&["--workers", "1"], &[("STT_SHUTDOWN_GRACE_S", "120")]);
    let jfk = clip("jfk/jfk.wav");
    // 38 s of speech: seconds of work, long enough to signal in the middle.
    let (audio, reference) = long_speech();
    let url = server.url("/transcriptions");
    let in_flight = std::thread::spawn(move || {
        let form = Form::new()
            .file("audio_file", "four_speakers.wav", None, &audio)
            .text("language", "en-US");
        post_form(&url, form)
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while server.metric("stt_workers_busy") != Some(1.0) {
        assert!(
            std::time::Instant::now() < deadline,
            "the job never started"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    server.terminate();
    std::thread::sleep(Duration::from_millis(200));

    // Draining: not ready, and new work is turned away with a reason and Retry-After.
    if let Ok(ready) = try_get(&server.url("/readiness")) {
        assert_eq!(ready.status, 503, "{}", ready.body);
        assert_eq!(ready.json()["status"], "draining");
        let refused = post_form(&server.url("/transcriptions"), Form::audio(jfk, "en"));
        assert_eq!(refused.status, 503, "{}", refused.body);
        assert!(refused.header("retry-after").is_some());
        assert!(
            refused.detail().contains("shutting down"),
            "{}",
            refused.body
        );
    } else {
        panic!("the server stopped listening before its in-flight request finished");
    }

    let reply = in_flight.join().expect("client thread");
    assert_eq!(reply.status, 200, "{}", reply.body);
    let text = reply.json()["original_text"].as_str().unwrap().to_string();
    assert!(wer(&reference, &text) < 0.3, "{text}");

    assert_eq!(
        server.wait_exit(Duration::from_secs(30)),
        Some(0),
        "{}",
        server.log_text()
    );
    assert!(
        try_get(&server.url("/health")).is_err(),
        "no longer listening"
    );
}
