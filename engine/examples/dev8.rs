#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use stt_engine::*;
fn mem(tag: &str) {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    let g = |k: &str| {
        s.lines()
            .find(|l| l.starts_with(k))
            .unwrap()
            .split_whitespace()
            .nth(1)
            .unwrap()
            .parse::<u64>()
            .unwrap()
            / 1024
    };
    eprintln!(
        "{tag:30} RSS {:4} MB  HWM {:4} MB",
        g("VmRSS:"),
        g("VmHWM:")
    );
}
fn main() {
    let args: Vec<String> = std::env::args().collect();
    mem("start");
    let tok = stt_engine::whisper::WhisperTokenizer::load(
        std::path::Path::new(&format!("{}/tokenizer.json", args[1])),
        51864,
    )
    .unwrap();
    mem("tokenizer only");
    drop(tok);
    let model =
        WhisperModel::load(std::path::Path::new(&args[1]), &candle_core::Device::Cpu).unwrap();
    mem("model loaded");
    let a = stt_engine::audio::decode_file(std::path::Path::new(&args[2])).unwrap();
    mem("audio decoded");
    let t = transcribe_pcm(
        &model,
        &a.pcm_16k,
        a.duration_s,
        &TranscribeOptions::default(),
        Hooks::default(),
    )
    .unwrap();
    mem("transcribed");
    let _ = transcribe_pcm(
        &model,
        &a.pcm_16k,
        a.duration_s,
        &TranscribeOptions::default(),
        Hooks::default(),
    )
    .unwrap();
    mem("transcribed again");
    println!("{}", t.text);
}
