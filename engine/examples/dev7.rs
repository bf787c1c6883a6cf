#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use candle_core::{DType, Device, Module, Tensor};
use std::time::Instant;
use stt_engine::kernels::*;
fn main() {
    let d = Device::Cpu;
    let w = Tensor::randn(0f32, 0.1, (51864, 384), &d)
        .unwrap()
        .to_dtype(DType::F16)
        .unwrap();
    let l = PackedLinear::new(PackedWeight::f16(w).unwrap(), None).unwrap();
    for m in [1, 2, 4, 8] {
        let x = Tensor::randn(0f32, 1.0, (m, 1, 384), &d).unwrap();
        for _ in 0..5 {
            l.forward(&x).unwrap();
        }
        let t = Instant::now();
        for _ in 0..50 {
            l.forward(&x).unwrap();
        }
        println!("m={m}: {:.2} ms", t.elapsed().as_secs_f64() * 20.0);
    }
}
