#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use candle_core::{Device, Tensor};
use std::time::Instant;
use stt_engine::*;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let model = WhisperModel::load(std::path::Path::new(&args[1]), &Device::Cpu).unwrap();
    let net = &model.network;
    let mel = Tensor::zeros((1, 80, 3000), candle_core::DType::F32, &Device::Cpu).unwrap();
    for _ in 0..3 {
        let t = Instant::now();
        let _a = net.encode(&mel).unwrap();
        eprintln!("encode {:.3}", t.elapsed().as_secs_f64());
    }
}
