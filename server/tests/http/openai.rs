//! The OpenAI-compatible routes: checked field by field here, and end to end with the
//! official `openai` Python client (`openai_client.py`).

use crate::support::*;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn openai_form(clip: &Value) -> Form {
    Form::new()
        .file(
            "file",
            &file_name(clip),
            Some("audio/wav"),
            &clip_bytes(clip),
        )
        .text("model", "whisper-1")
}

#[test]
fn openai_routes_answer_like_openai() {
    let mut server = Server::start(&[], &[]);
    let jfk = clip("jfk/jfk.wav");
    let reference = jfk["reference"].as_str().unwrap();
    let url = server.url("/v1/audio/transcriptions");

    let models = get(&server.url("/v1/models")).json();
    assert_eq!(models["object"], "list");
    let ids: Vec<&str> = models["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&MODEL) && ids.contains(&"whisper-1"),
        "{models}"
    );
    assert!(models["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["object"] == "model"));

    let json = post_form(&url, openai_form(jfk));
    assert_eq!(json.status, 200, "{}", json.body);
    assert!(
        wer(reference, json.json()["text"].as_str().unwrap()) < 0.2,
        "{}",
        json.body
    );

    let text = post_form(&url, openai_form(jfk).text("response_format", "text"));
    assert_eq!(text.status, 200);
    assert!(text
        .header("content-type")
        .unwrap()
        .starts_with("text/plain"));
    assert!(wer(reference, &text.body) < 0.2, "{}", text.body);

    let srt = post_form(&url, openai_form(jfk).text("response_format", "srt"));
    assert_eq!(srt.status, 200);
    assert!(srt.body.starts_with("1\n00:00:0"), "{}", srt.body);
    assert!(srt.body.contains(" --> "));

    let vtt = post_form(&url, openai_form(jfk).text("response_format", "vtt"));
    assert_eq!(vtt.status, 200);
    assert!(vtt.body.starts_with("WEBVTT\n\n"), "{}", vtt.body);

    let verbose = post_form(
        &url,
        openai_form(jfk)
            .text("response_format", "verbose_json")
            .text("timestamp_granularities[]", "segment")
            .text("language", "en")
            .text("temperature", "0")
            .text("prompt", "President Kennedy's inaugural address."),
    );
    assert_eq!(verbose.status, 200, "{}", verbose.body);
    let v = verbose.json();
    assert_eq!(v["task"], "transcribe");
    assert_eq!(v["language"], "english");
    assert!((v["duration"].as_f64().unwrap() - 11.0).abs() < 0.1);
    assert!(wer(reference, v["text"].as_str().unwrap()) < 0.2);
    let segments = v["segments"].as_array().unwrap();
    assert!(!segments.is_empty());
    for (i, s) in segments.iter().enumerate() {
        assert_eq!(s["id"], i);
        for key in [
            "seek",
            "start",
            "end",
            "temperature",
            "avg_logprob",
            "compression_ratio",
            "no_speech_prob",
        ] {
            assert!(s[key].is_number(), "{key} in {s}");
        }
        assert!(s["text"].is_string() && s["tokens"].is_array());
    }

    // Errors in OpenAI's shape.
    let error_of = |reply: &Reply| {
        let body = reply.json();
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{body}"
        );
        assert!(body["error"]["type"].is_string(), "{body}");
        body["error"]["message"].as_str().unwrap().to_string()
    };
    let translation = post_form(&server.url("/v1/audio/translations"), openai_form(jfk));
    assert_eq!(translation.status, 400);
    assert!(error_of(&translation).contains("multilingual"));
    let no_file = post_form(&url, Form::new().text("model", "whisper-1"));
    assert_eq!(no_file.status, 400);
    assert!(error_of(&no_file).contains("'file'"));
    let words = post_form(
        &url,
        openai_form(jfk).text("timestamp_granularities[]", "word"),
    );
    assert_eq!(words.status, 400);
    assert!(error_of(&words).contains("word"));
    let format = post_form(&url, openai_form(jfk).text("response_format", "xml"));
    assert_eq!(format.status, 400);
    error_of(&format);
    let missing = get(&server.url("/v1/nothing"));
    assert_eq!(missing.status, 404);
    error_of(&missing);
    server.assert_healthy();
}

/// A Python with the official client: a virtualenv made once per target directory,
/// or, where `venv` is missing (Debian without python3-venv), a `pip --target` folder.
/// `None` only when there is no Python at all.
fn openai_python() -> Option<(std::path::PathBuf, Option<std::path::PathBuf>)> {
    let python = ["python3", "python"].into_iter().find(|p| {
        Command::new(p)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })?;
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let imports = |py: &Path, path: Option<&Path>| {
        let mut cmd = Command::new(py);
        if let Some(p) = path {
            cmd.env("PYTHONPATH", p);
        }
        cmd.args(["-c", "import openai"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let venv_python = tmp.join("openai-venv/bin/python");
    if imports(&venv_python, None) {
        return Some((venv_python, None));
    }
    let made_venv = Command::new(python)
        .args(["-m", "venv"])
        .arg(tmp.join("openai-venv"))
        .status()
        .is_ok_and(|s| s.success());
    if made_venv {
        let installed = Command::new(&venv_python)
            .args(["-m", "pip", "install", "--quiet", "openai"])
            .status()
            .expect("run pip");
        assert!(installed.success(), "pip install openai failed");
        return Some((venv_python, None));
    }
    let target = tmp.join("openai-pkgs");
    if !imports(Path::new(python), Some(&target)) {
        let installed = Command::new(python)
            .args(["-m", "pip", "install", "--quiet", "--target"])
            .arg(&target)
            .arg("openai")
            .status()
            .expect("run pip");
        assert!(installed.success(), "pip install --target openai failed");
    }
    Some((Path::new(python).to_path_buf(), Some(target)))
}

#[test]
fn the_official_openai_python_client_works() {
    let Some((python, python_path)) = openai_python() else {
        eprintln!("SKIPPED: no Python on this machine, the openai client test did not run");
        return;
    };
    let mut server = Server::start(&[], &[]);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/http/openai_client.py");
    let mut cmd = Command::new(python);
    if let Some(p) = python_path {
        cmd.env("PYTHONPATH", p);
    }
    let out = cmd
        .arg(&script)
        .arg(format!("{}/v1", server.base))
        .arg(clip_path(clip("jfk/jfk.wav")))
        .output()
        .expect("run openai_client.py");
    eprintln!("{}", String::from_utf8_lossy(&out.stdout));
    assert!(
        out.status.success(),
        "openai client script failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    server.assert_healthy();
}
