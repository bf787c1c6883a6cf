#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use candle_core::{Device, Tensor};
use std::time::Instant;
use stt_engine::*;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let model = WhisperModel::load(std::path::Path::new(&args[1]), &Device::Cpu).unwrap();
    let net = &model.network;
    let a = Tensor::randn(0f32, 1.0, (1, 1500, net.config.d_model), &Device::Cpu).unwrap();
    let cross = net.cross_attention_cache(&a).unwrap();
    for _ in 0..4 {
        let mut cache = net.new_decoder_cache();
        let toks = Tensor::new(&[50257u32], &Device::Cpu)
            .unwrap()
            .unsqueeze(0)
            .unwrap();
        let t = Instant::now();
        let mut th = 0.0;
        for _ in 0..100 {
            let t2 = Instant::now();
            let h = net.decode(&toks, &mut cache, &cross).unwrap();
            th += t2.elapsed().as_secs_f64();
            let _l: Vec<f32> = net
                .logits(&h)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1()
                .unwrap();
        }
        let d = t.elapsed().as_secs_f64() / 100.0;
        println!("step {:.2}ms (hidden {:.2}ms)", d * 1000.0, th * 10.0);
    }
}
