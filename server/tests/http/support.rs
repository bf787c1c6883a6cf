//! Shared fixtures: the eval manifest, model provisioning, a real `stt serve` process
//! on a free loopback port, multipart bodies and a blocking HTTP client.

use serde_json::Value;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};
use stt_engine::eval::{normalize_english, word_errors};

pub const MODEL: &str = "tiny.en";

pub fn eval_dir() -> PathBuf {
    std::env::var_os("STT_EVAL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/eval"))
}

/// One manifest entry per clip.
pub fn manifest() -> &'static Vec<Value> {
    static MANIFEST: OnceLock<Vec<Value>> = OnceLock::new();
    MANIFEST.get_or_init(|| {
        let path = eval_dir().join("manifest.jsonl");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).expect("manifest line is JSON"))
            .collect()
    })
}

pub fn clips_where(pred: impl Fn(&Value) -> bool) -> Vec<&'static Value> {
    manifest().iter().filter(|c| pred(c)).collect()
}

pub fn clip(path: &str) -> &'static Value {
    clips_where(|c| c["path"] == path)
        .first()
        .copied()
        .unwrap_or_else(|| panic!("{path} is in the manifest"))
}

pub fn clip_path(clip: &Value) -> PathBuf {
    eval_dir().join(clip["path"].as_str().expect("clip has a path"))
}

pub fn clip_bytes(clip: &Value) -> Vec<u8> {
    let path = clip_path(clip);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

pub fn file_name(clip: &Value) -> String {
    clip["path"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string()
}

/// Word error rate of `hypothesis` against a clip's reference, both normalised.
pub fn wer(reference: &str, hypothesis: &str) -> f64 {
    word_errors(
        &normalize_english(reference),
        &normalize_english(hypothesis),
    )
    .rate()
}

/// LibriSpeech clips with exact references, WAV or FLAC (the load test's kind of input).
pub fn librispeech_clips() -> Vec<&'static Value> {
    clips_where(|c| {
        c["set"] == "librispeech"
            && c["reference_quality"] == "exact"
            && c["sample_rate"] == 16000
            && (c["path"].as_str().unwrap().ends_with(".wav")
                || c["path"].as_str().unwrap().ends_with(".flac"))
    })
}

/// Makes sure the model is installed, fetching it like a user would (once per run).
pub fn ensure_model(name: &str) {
    static FETCHED: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let mut fetched = FETCHED.lock().unwrap_or_else(|p| p.into_inner());
    if fetched.iter().any(|n| n == name) {
        return;
    }
    let out = Command::new(env!("CARGO_BIN_EXE_stt"))
        .args(["models", "fetch", name])
        .output()
        .expect("run stt models fetch");
    assert!(
        out.status.success(),
        "fetching {name} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    fetched.push(name.to_string());
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A running `stt serve`, killed when dropped.
pub struct Server {
    child: Child,
    pub port: u16,
    pub base: String,
    log: PathBuf,
}

impl Server {
    /// Starts `stt serve` with tiny.en and the extra flags/environment, and waits
    /// until `/readiness` says ready.
    pub fn start(args: &[&str], env: &[(&str, &str)]) -> Server {
        Self::start_with_model(MODEL, args, env)
    }

    /// As [`Server::start`], with another model (e.g. the multilingual `base`).
    pub fn start_with_model(model: &str, args: &[&str], env: &[(&str, &str)]) -> Server {
        ensure_model(model);
        let port = free_port();
        let log = std::env::temp_dir().join(format!("stt-http-test-{port}.log"));
        let log_file = std::fs::File::create(&log).expect("create server log");
        let child = Command::new(env!("CARGO_BIN_EXE_stt"))
            .args(["serve", "--host", "127.0.0.1", "--port"])
            .arg(port.to_string())
            .args(["--model", model])
            .args(args)
            .envs(env.iter().copied())
            .env("STT_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .expect("spawn stt serve");
        let mut server = Server {
            child,
            port,
            base: format!("http://127.0.0.1:{port}"),
            log,
        };
        server.wait_ready(Duration::from_secs(180));
        server
    }

    fn wait_ready(&mut self, limit: Duration) {
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("stt serve exited early ({status}):\n{}", self.log_text());
            }
            if let Ok(r) = try_get(&self.url("/readiness")) {
                if r.status == 200 {
                    return;
                }
            }
            assert!(
                started.elapsed() < limit,
                "stt serve not ready within {limit:?}:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Sends SIGTERM, as Kubernetes does.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
    }

    /// Waits for the process to exit; its exit code.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<i32> {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("poll server") {
                return status.code();
            }
            assert!(
                started.elapsed() < limit,
                "server did not exit within {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The value of one sample in `/metrics` (the first line starting with `prefix`).
    pub fn metric(&self, prefix: &str) -> Option<f64> {
        get(&self.url("/metrics"))
            .body
            .lines()
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
    }

    /// Asserts the server is alive and well.
    pub fn assert_healthy(&mut self) {
        assert!(self.is_running(), "server died:\n{}", self.log_text());
        let r = get(&self.url("/health"));
        assert_eq!(r.status, 200, "health: {}", r.body);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "--- server log ({}) ---\n{}",
                self.log.display(),
                self.log_text()
            );
        }
        let _ = std::fs::remove_file(&self.log);
    }
}

/// A `multipart/form-data` body.
pub struct Form {
    boundary: String,
    body: Vec<u8>,
}

impl Default for Form {
    fn default() -> Self {
        Self::new()
    }
}

impl Form {
    pub fn new() -> Self {
        Self {
            boundary: "----stt-test-boundary-7MA4YWxkTrZu0gW".into(),
            body: Vec::new(),
        }
    }

    pub fn text(mut self, name: &str, value: &str) -> Self {
        write!(
            self.body,
            "--{}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n",
            self.boundary
        )
        .unwrap();
        self
    }

    pub fn file(
        mut self,
        name: &str,
        filename: &str,
        content_type: Option<&str>,
        bytes: &[u8],
    ) -> Self {
        write!(
            self.body,
            "--{}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\n",
            self.boundary
        )
        .unwrap();
        if let Some(ct) = content_type {
            write!(self.body, "Content-Type: {ct}\r\n").unwrap();
        }
        self.body.extend_from_slice(b"\r\n");
        self.body.extend_from_slice(bytes);
        self.body.extend_from_slice(b"\r\n");
        self
    }

    /// The contract's usual request: a clip in `audio_file` with a language.
    pub fn audio(clip: &Value, language: &str) -> Self {
        Form::new()
            .file(
                "audio_file",
                &file_name(clip),
                Some("application/octet-stream"),
                &clip_bytes(clip),
            )
            .text("language", language)
    }

    pub fn content_type(&self) -> String {
        format!("multipart/form-data; boundary={}", self.boundary)
    }

    pub fn into_body(mut self) -> Vec<u8> {
        write!(self.body, "--{}--\r\n", self.boundary).unwrap();
        self.body
    }
}

/// A finished HTTP exchange.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}), status {}: {}", self.status, self.body))
    }

    /// The contract's error body: `{"detail": "<non-empty reason>"}`.
    pub fn detail(&self) -> String {
        let body = self.json();
        let detail = body["detail"]
            .as_str()
            .unwrap_or_else(|| panic!("no detail in error body {body}"));
        assert!(!detail.trim().is_empty(), "empty detail");
        detail.to_string()
    }
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(600))
        .build()
}

fn into_reply(result: Result<ureq::Response, ureq::Error>) -> Result<Reply, String> {
    let response = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => return Err(e.to_string()),
    };
    let status = response.status();
    let headers = response
        .headers_names()
        .into_iter()
        .filter_map(|n| Some((n.clone(), response.header(&n)?.to_string())))
        .collect();
    let body = response.into_string().map_err(|e| e.to_string())?;
    Ok(Reply {
        status,
        headers,
        body,
    })
}

pub fn try_get(url: &str) -> Result<Reply, String> {
    into_reply(agent().get(url).call())
}

pub fn get(url: &str) -> Reply {
    try_get(url).unwrap_or_else(|e| panic!("GET {url}: {e}"))
}

pub fn post_raw(url: &str, content_type: &str, body: &[u8]) -> Reply {
    into_reply(
        agent()
            .post(url)
            .set("Content-Type", content_type)
            .send_bytes(body),
    )
    .unwrap_or_else(|e| panic!("POST {url}: {e}"))
}

pub fn post_form(url: &str, form: Form) -> Reply {
    let content_type = form.content_type();
    post_raw(url, &content_type, &form.into_body())
}

/// One 16 kHz mono 16-bit WAV holding `clips` one after the other (long, varied
/// speech without shipping a long file). Each clip must be such a plain PCM WAV.
pub fn concatenated_wav(clips: &[&Value]) -> Vec<u8> {
    let mut pcm = Vec::new();
    for clip in clips {
        assert_eq!(clip["format"], "wav/pcm_s16le", "{}", clip["path"]);
        assert_eq!(clip["sample_rate"], 16000, "{}", clip["path"]);
        let bytes = clip_bytes(clip);
        let data_at = bytes
            .windows(4)
            .position(|w| w == b"data")
            .expect("a data chunk");
        pcm.extend_from_slice(&bytes[data_at + 8..]);
    }
    let data_len = pcm.len() as u32;
    let mut out = Vec::with_capacity(44 + pcm.len());
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&16_000u32.to_le_bytes());
    out.extend_from_slice(&32_000u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    out.extend_from_slice(&pcm);
    out
}

/// About 38 s of four different speakers, and what they say.
pub fn long_speech() -> (Vec<u8>, String) {
    let clips = [
        clip("librispeech/icefall_testwav_1221-135766-0002.wav"),
        clip("librispeech/1995-1837-0001.wav"),
        clip("librispeech/1272-141231-0002.wav"),
        clip("jfk/jfk.wav"),
    ];
    let reference = clips
        .iter()
        .map(|c| c["reference"].as_str().unwrap())
        .collect::<Vec<_>>()
        .join(" ");
    (concatenated_wav(&clips), reference)
}

/// Sends the start of a request on a raw socket and returns the socket, for tests
/// that need to stop sending or hang up half-way.
pub fn raw_request(port: u16, head: &str, body_start: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream.write_all(head.as_bytes()).expect("send head");
    stream.write_all(body_start).expect("send body start");
    stream
}

/// Reads whatever the server answers on a raw socket until it closes or `limit` passes.
pub fn read_raw_answer(stream: &mut TcpStream, limit: Duration) -> String {
    stream.set_read_timeout(Some(limit)).unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                answer.extend_from_slice(&buf[..n]);
                // The error bodies are small: stop once the JSON is complete.
                if answer.ends_with(b"}") {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    String::from_utf8_lossy(&answer).into_owned()
}
