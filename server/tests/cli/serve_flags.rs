//! `stt serve` refuses sizes that cannot work before it loads anything, naming the flag.

use crate::support::*;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs `command`; a server that started instead of refusing is killed, failing the test.
fn refused(mut command: Command) -> Output {
    let mut child = command
        .args(["--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("the server started instead of refusing: {command:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn zero_sized_pools_and_limits_are_refused_with_the_flag_named() {
    for (flag, env) in [
        ("--workers", "STT_WORKERS"),
        ("--threads-per-job", "STT_THREADS_PER_JOB"),
        ("--streams-per-worker", "STT_STREAMS_PER_WORKER"),
        ("--upload-idle-timeout-s", "STT_UPLOAD_IDLE_TIMEOUT_S"),
    ] {
        let mut by_flag = stt();
        by_flag.args(["serve", flag, "0"]);
        let mut by_env = stt();
        by_env.arg("serve").env(env, "0");
        let (by_flag, by_env) = (refused(by_flag), refused(by_env));
        for (how, out) in [("flag", by_flag), ("environment", by_env)] {
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{flag} 0 by {how}: {stderr}");
            assert!(
                stderr.contains(flag) && stderr.contains("not in 1.."),
                "{flag} 0 by {how}: {stderr}"
            );
        }
    }
}
