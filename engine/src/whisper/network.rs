//! The Whisper transformer on candle ops: encoder, and a decoder whose self-attention
//! keys/values are cached per stream so each new token costs one position, not the
//! whole prefix.
//!
//! Weights are immutable and cheap to share (`Tensor` is reference-counted); all
//! per-stream state lives in [`DecoderCache`] and [`CrossAttentionCache`], so any
//! number of workers can decode concurrently over one copy of the weights.

use super::config::WhisperConfig;
use crate::kernels::{self, PackedLinear, PackedWeight, WeightsFile};
use candle_core::{DType, Device, Module, Result, Tensor};
use candle_nn::{kv_cache::KvCache, Conv1d, Conv1dConfig, LayerNorm, Linear, VarBuilder};

const LAYER_NORM_EPS: f64 = 1e-5;

/// Positions a stream's self-attention cache grows by: most windows stop well short of
/// the 448-token context, and a stream waiting in a batch should not hold all of it.
const SELF_ATTENTION_CHUNK: usize = 128;

/// A dense layer: on the CPU the checkpoint's compact weights (f16, or int8 from a
/// quantized import) with our kernels; on other devices candle's `Linear` in the
/// builder's dtype.
#[derive(Clone)]
enum Projection {
    Packed(PackedLinear),
    Dense { linear: Linear, gelu: bool },
}

impl Projection {
    /// The same layer followed by the exact GELU (fused into the product on the CPU).
    fn with_gelu(self) -> Self {
        match self {
            Self::Packed(l) => Self::Packed(l.with_gelu()),
            Self::Dense { linear, .. } => Self::Dense { linear, gelu: true },
        }
    }
}

impl Module for Projection {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        match self {
            Self::Packed(l) => l.forward(x),
            Self::Dense {
                linear,
                gelu: false,
            } => linear.forward(x),
            Self::Dense { linear, gelu: true } => linear.forward(x)?.gelu_erf(),
        }
    }
}

use crate::models::quantize::{CODES_SUFFIX as INT8_CODES, SCALES_SUFFIX as INT8_SCALES};

/// Where weights come from: candle's var builder, plus the memory-mapped file itself so
/// f16 matrices can be used in place.
#[derive(Clone)]
pub struct WeightSource<'a> {
    vb: VarBuilder<'a>,
    file: Option<&'a WeightsFile>,
}

impl<'a> WeightSource<'a> {
    pub fn new(vb: VarBuilder<'a>, file: Option<&'a WeightsFile>) -> Self {
        Self { vb, file }
    }

    fn pp(&self, name: impl ToString) -> Self {
        Self {
            vb: self.vb.pp(name),
            file: self.file,
        }
    }

    fn get<S: Into<candle_core::Shape>>(&self, shape: S, name: &str) -> Result<Tensor> {
        self.vb.get(shape, name)
    }

    fn device(&self) -> &candle_core::Device {
        self.vb.device()
    }
}

/// A weight matrix as stored: compact on the CPU, the builder's dtype elsewhere.
#[derive(Clone)]
enum Weight {
    Packed(PackedWeight),
    Dense(Tensor),
}

impl Weight {
    fn load(source: &WeightSource, shape: (usize, usize)) -> Result<Self> {
        let vb = &source.vb;
        if vb.contains_tensor(INT8_CODES) {
            let codes =
                vb.get_with_hints_dtype(shape, INT8_CODES, Default::default(), DType::U8)?;
            let scales =
                vb.get_with_hints_dtype(shape.0, INT8_SCALES, Default::default(), DType::F32)?;
            let packed = PackedWeight::int8(codes, scales)?;
            return Ok(if vb.device().is_cpu() {
                Self::Packed(packed)
            } else {
                // GPU: widen once at load; the int8 path is a CPU kernel.
                let ids = Tensor::arange(0u32, shape.0 as u32, &candle_core::Device::Cpu)?;
                Self::Dense(
                    packed
                        .rows(&ids)?
                        .to_dtype(vb.dtype())?
                        .to_device(vb.device())?,
                )
            });
        }
        if !vb.device().is_cpu() {
            return Ok(Self::Dense(vb.get(shape, "weight")?));
        }
        Ok(Self::Packed(match source.file {
            Some(file) => {
                PackedWeight::F16(file.half_matrix(&format!("{}.weight", vb.prefix()), shape)?)
            }
            None => PackedWeight::f16(vb.get(shape, "weight")?)?,
        }))
    }

    fn projection(&self, bias: Option<Tensor>) -> Result<Projection> {
        Ok(match self {
            Self::Packed(w) => Projection::Packed(PackedLinear::new(w.clone(), bias)?),
            Self::Dense(w) => Projection::Dense {
                linear: Linear::new(w.clone(), bias),
                gelu: false,
            },
        })
    }

    /// Rows `ids` as f32 (embedding lookup).
    fn rows(&self, ids: &Tensor) -> Result<Tensor> {
        match self {
            Self::Packed(w) => w.rows(ids),
            Self::Dense(w) => w.index_select(ids, 0)?.to_dtype(DType::F32),
        }
    }
}

fn linear(vb: &WeightSource, d_in: usize, d_out: usize, bias: bool) -> Result<Projection> {
    let b = if bias {
        Some(vb.get(d_out, "bias")?)
    } else {
        None
    };
    Weight::load(vb, (d_out, d_in))?.projection(b)
}

fn layer_norm(vb: &WeightSource, d: usize) -> Result<LayerNorm> {
    Ok(LayerNorm::new(
        vb.get(d, "weight")?,
        vb.get(d, "bias")?,
        LAYER_NORM_EPS,
    ))
}

struct Attention {
    q: Projection,
    k: Projection,
    v: Projection,
    out: Projection,
    n_head: usize,
}

impl Attention {
    fn load(vb: WeightSource, d: usize, n_head: usize) -> Result<Self> {
        Ok(Self {
            q: linear(&vb.pp("q_proj"), d, d, true)?,
            k: linear(&vb.pp("k_proj"), d, d, false)?,
            v: linear(&vb.pp("v_proj"), d, d, true)?,
            out: linear(&vb.pp("out_proj"), d, d, true)?,
            n_head,
        })
    }

    /// `[b, t, d]` → `[b, heads, t, d_head]`.
    fn split_heads(&self, x: &Tensor) -> Result<Tensor> {
        let (b, t, d) = x.dims3()?;
        x.reshape((b, t, self.n_head, d / self.n_head))?
            .transpose(1, 2)?
            .contiguous()
    }

    /// Attention of `q` over `k`, `v`, all `[b, t, d]`, before the output projection
    /// (callers apply `out`, once per batch of streams); with `causal_offset`, query `i`
    /// sees keys `0..=causal_offset + i` only.
    fn mix(
        &self,
        q: &Tensor,
        k: &Tensor,
        v: &Tensor,
        causal_offset: Option<usize>,
    ) -> Result<Tensor> {
        if q.device().is_cpu() && q.dtype() == DType::F32 {
            kernels::attention(q, k, v, self.n_head, causal_offset)
        } else {
            self.attend_with_candle_ops(q, k, v, causal_offset)
        }
    }

    /// The same computation on generic candle ops (GPU devices, other dtypes).
    fn attend_with_candle_ops(
        &self,
        q: &Tensor,
        k: &Tensor,
        v: &Tensor,
        causal_offset: Option<usize>,
    ) -> Result<Tensor> {
        let (b, tq, d) = q.dims3()?;
        let tk = k.dim(1)?;
        let (q, k, v) = (
            self.split_heads(q)?,
            self.split_heads(k)?,
            self.split_heads(v)?,
        );
        let d_head = d / self.n_head;
        let q = (q * (1.0 / (d_head as f64).sqrt()))?;
        let mut scores = q.matmul(&k.t()?)?;
        if let Some(offset) = causal_offset.filter(|_| tq > 1) {
            let mask: Vec<f32> = (0..tq)
                .flat_map(|i| {
                    (0..tk).map(move |j| {
                        if j > offset + i {
                            f32::NEG_INFINITY
                        } else {
                            0.0
                        }
                    })
                })
                .collect();
            let mask =
                Tensor::from_vec(mask, (tq, tk), scores.device())?.to_dtype(scores.dtype())?;
            scores = scores.broadcast_add(&mask)?;
        }
        let weights = candle_nn::ops::softmax_last_dim(&scores)?;
        weights.matmul(&v)?.transpose(1, 2)?.reshape((b, tq, d))
    }

    fn project_qkv(&self, x: &Tensor) -> Result<(Tensor, Tensor, Tensor)> {
        Ok((self.q.forward(x)?, self.k.forward(x)?, self.v.forward(x)?))
    }

    fn self_attend(&self, x: &Tensor) -> Result<Tensor> {
        let (q, k, v) = self.project_qkv(x)?;
        self.mix(&q, &k, &v, None)?.apply(&self.out)
    }

    fn self_attend_cached(&self, x: &Tensor, cache: &mut KvCache) -> Result<Tensor> {
        let offset = cache.current_seq_len();
        let (q, k, v) = self.project_qkv(x)?;
        let (k, v) = cache.append(&k, &v)?;
        self.mix(&q, &k, &v, Some(offset))?.apply(&self.out)
    }

    fn project_kv(&self, audio: &Tensor) -> Result<(Tensor, Tensor)> {
        Ok((self.k.forward(audio)?, self.v.forward(audio)?))
    }
}

struct Block {
    self_attn: Attention,
    self_attn_ln: LayerNorm,
    cross_attn: Option<(Attention, LayerNorm)>,
    /// The MLP's first layer with its GELU.
    fc1_gelu: Projection,
    fc2: Projection,
    mlp_ln: LayerNorm,
}

impl Block {
    fn load(vb: WeightSource, d: usize, n_head: usize, ffn: usize, cross: bool) -> Result<Self> {
        let cross_attn = if cross {
            Some((
                Attention::load(vb.pp("encoder_attn"), d, n_head)?,
                layer_norm(&vb.pp("encoder_attn_layer_norm"), d)?,
            ))
        } else {
            None
        };
        Ok(Self {
            self_attn: Attention::load(vb.pp("self_attn"), d, n_head)?,
            self_attn_ln: layer_norm(&vb.pp("self_attn_layer_norm"), d)?,
            cross_attn,
            // Exact erf GELU: the tanh approximation drifts from the reference after ~20 tokens.
            fc1_gelu: linear(&vb.pp("fc1"), d, ffn, true)?.with_gelu(),
            fc2: linear(&vb.pp("fc2"), ffn, d, true)?,
            mlp_ln: layer_norm(&vb.pp("final_layer_norm"), d)?,
        })
    }

    /// `x + mlp(x)`.
    fn mlp_residual(&self, x: &Tensor) -> Result<Tensor> {
        let h = self.mlp_ln.forward(x)?;
        match (&self.fc1_gelu, &self.fc2) {
            (Projection::Packed(fc1), Projection::Packed(fc2)) => {
                kernels::mlp_with_residual(fc1, fc2, &h, x)
            }
            (fc1, fc2) => x + fc2.forward(&fc1.forward(&h)?)?,
        }
    }
}

struct Encoder {
    conv1: Conv1d,
    conv2: Conv1d,
    positions: Tensor,
    blocks: Vec<Block>,
    ln_post: LayerNorm,
}

struct Decoder {
    /// `[vocab, d]`; also the output projection (tied weights).
    token_embedding: Weight,
    output: Projection,
    positions: Tensor,
    blocks: Vec<Block>,
    ln: LayerNorm,
}

/// Per-stream self-attention cache of the decoder.
pub struct DecoderCache {
    layers: Vec<KvCache>,
    len: usize,
}

impl DecoderCache {
    /// Tokens already fed through the decoder.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// One stream's next decoder step: the token to feed after what `cache` holds, over the
/// stream's own encoded window.
pub struct StepInput<'a> {
    pub cache: &'a mut DecoderCache,
    pub cross: &'a CrossAttentionCache,
    pub token: u32,
}

/// Cross-attention keys/values of one encoded window, computed once per window.
#[derive(Clone)]
pub struct CrossAttentionCache {
    layers: Vec<(Tensor, Tensor)>,
}

impl CrossAttentionCache {
    /// Repeats a batch-1 cache `n` times along the batch (for several hypotheses of one window).
    pub fn repeat(&self, n: usize) -> Result<Self> {
        let layers = self
            .layers
            .iter()
            .map(|(k, v)| Ok((k.repeat((n, 1, 1))?, v.repeat((n, 1, 1))?)))
            .collect::<Result<_>>()?;
        Ok(Self { layers })
    }
}

/// Whisper's weights; shared read-only by every stream.
pub struct WhisperNetwork {
    encoder: Encoder,
    decoder: Decoder,
    pub config: WhisperConfig,
    pub device: Device,
}

fn sinusoids(length: usize, channels: usize, device: &Device) -> Result<Tensor> {
    let half = channels / 2;
    let increment = 10_000f64.ln() / (half - 1) as f64;
    let mut data = vec![0f32; length * channels];
    for t in 0..length {
        for i in 0..half {
            let angle = t as f64 * (-(i as f64) * increment).exp();
            data[t * channels + i] = angle.sin() as f32;
            data[t * channels + half + i] = angle.cos() as f32;
        }
    }
    Tensor::from_vec(data, (length, channels), device)
}

impl WhisperNetwork {
    /// Loads from a Hugging Face-layout var builder (names under `model.`).
    pub fn load(vb: WeightSource, config: WhisperConfig) -> Result<Self> {
        let d = config.d_model;
        let ffn = 4 * d;
        let device = vb.device().clone();
        let enc = vb.pp("model.encoder");
        let conv = |vb: WeightSource, c_in: usize, stride: usize| -> Result<Conv1d> {
            let cfg = Conv1dConfig {
                padding: 1,
                stride,
                ..Default::default()
            };
            Ok(Conv1d::new(
                vb.get((d, c_in, 3), "weight")?,
                Some(vb.get(d, "bias")?),
                cfg,
            ))
        };
        let encoder = Encoder {
            conv1: conv(enc.pp("conv1"), config.num_mel_bins, 1)?,
            conv2: conv(enc.pp("conv2"), d, 2)?,
            positions: sinusoids(config.max_source_positions, d, &device)?,
            blocks: (0..config.encoder_layers)
                .map(|i| {
                    Block::load(
                        enc.pp(format!("layers.{i}")),
                        d,
                        config.encoder_attention_heads,
                        ffn,
                        false,
                    )
                })
                .collect::<Result<_>>()?,
            ln_post: layer_norm(&enc.pp("layer_norm"), d)?,
        };
        let dec = vb.pp("model.decoder");
        let token_embedding = Weight::load(&dec.pp("embed_tokens"), (config.vocab_size, d))?;
        let decoder = Decoder {
            output: token_embedding.projection(None)?,
            token_embedding,
            positions: dec.get((config.max_target_positions, d), "embed_positions.weight")?,
            blocks: (0..config.decoder_layers)
                .map(|i| {
                    Block::load(
                        dec.pp(format!("layers.{i}")),
                        d,
                        config.decoder_attention_heads,
                        ffn,
                        true,
                    )
                })
                .collect::<Result<_>>()?,
            ln: layer_norm(&dec.pp("layer_norm"), d)?,
        };
        Ok(Self {
            encoder,
            decoder,
            config,
            device,
        })
    }

    /// `[b, n_mels, 3000]` log-mel → `[b, 1500, d_model]` audio features.
    pub fn encode(&self, mel: &Tensor) -> Result<Tensor> {
        let e = &self.encoder;
        let x = kernels::gelu_erf_in_place(e.conv1.forward(mel)?)?;
        let x = kernels::gelu_erf_in_place(e.conv2.forward(&x)?)?;
        let x = x.transpose(1, 2)?;
        let t = x.dim(1)?;
        let mut x = x.broadcast_add(&e.positions.narrow(0, 0, t)?)?;
        for block in &e.blocks {
            let h = block.self_attn_ln.forward(&x)?;
            x = (&x + block.self_attn.self_attend(&h)?)?;
            x = block.mlp_residual(&x)?;
        }
        e.ln_post.forward(&x)
    }

    pub fn cross_attention_cache(&self, audio: &Tensor) -> Result<CrossAttentionCache> {
        let layers = self
            .decoder
            .blocks
            .iter()
            .map(|b| {
                let (attn, _) = b
                    .cross_attn
                    .as_ref()
                    .expect("decoder blocks have cross-attention");
                // Kept f32: f16 keys/values changed greedy tokens on real clips, and
                // widening them per head cost more than batched steps saved.
                attn.project_kv(audio)
            })
            .collect::<Result<_>>()?;
        Ok(CrossAttentionCache { layers })
    }

    pub fn new_decoder_cache(&self) -> DecoderCache {
        DecoderCache {
            layers: (0..self.config.decoder_layers)
                .map(|_| KvCache::new(1, SELF_ATTENTION_CHUNK))
                .collect(),
            len: 0,
        }
    }

    /// Most tokens one stream can hold (prompt plus generated).
    pub fn max_tokens(&self) -> usize {
        self.config.max_target_positions
    }

    /// Feeds `tokens` (`[b, n]`, u32) after what `cache` already holds; returns the
    /// final hidden states `[b, n, d_model]`.
    pub fn decode(
        &self,
        tokens: &Tensor,
        cache: &mut DecoderCache,
        cross: &CrossAttentionCache,
    ) -> Result<Tensor> {
        let dec = &self.decoder;
        let (b, n) = tokens.dims2()?;
        let offset = cache.len;
        if offset + n > self.config.max_target_positions {
            candle_core::bail!(
                "decoder context full: {} + {n} > {}",
                offset,
                self.config.max_target_positions
            );
        }
        let d = self.config.d_model;
        let embedded = dec
            .token_embedding
            .rows(&tokens.flatten_all()?)?
            .reshape((b, n, d))?;
        let mut x = embedded.broadcast_add(&dec.positions.narrow(0, offset, n)?)?;
        for (block, (kv, (cross_k, cross_v))) in dec
            .blocks
            .iter()
            .zip(cache.layers.iter_mut().zip(&cross.layers))
        {
            let h = block.self_attn_ln.forward(&x)?;
            x = (&x + block.self_attn.self_attend_cached(&h, kv)?)?;
            let (attn, ln) = block
                .cross_attn
                .as_ref()
                .expect("decoder blocks have cross-attention");
            let q = attn.q.forward(&ln.forward(&x)?)?;
            x = (&x + attn.mix(&q, cross_k, cross_v, None)?.apply(&attn.out)?)?;
            x = block.mlp_residual(&x)?;
        }
        cache.len += n;
        dec.ln.forward(&x)
    }

    /// Feeds one token to each of several independent streams at once and returns each
    /// stream's next-token logits. The streams may hold different prefixes and windows:
    /// attention runs per stream, while every weight matrix is read once for all rows,
    /// which is what makes decoding concurrent requests together cheaper than one by one.
    pub fn decode_steps(&self, steps: &mut [StepInput]) -> Result<Vec<Vec<f32>>> {
        let dec = &self.decoder;
        let n = steps.len();
        if n == 0 {
            return Ok(Vec::new());
        }
        let limit = self.config.max_target_positions;
        if let Some(full) = steps.iter().find(|s| s.cache.len >= limit) {
            candle_core::bail!("decoder context full: {} + 1 > {limit}", full.cache.len);
        }
        let d = self.config.d_model;
        let ids: Vec<u32> = steps.iter().map(|s| s.token).collect();
        let ids = Tensor::new(ids.as_slice(), &self.device)?;
        let positions = steps
            .iter()
            .map(|s| dec.positions.narrow(0, s.cache.len, 1))
            .collect::<Result<Vec<_>>>()?;
        // Streams lie along the batch dimension: `[n, 1, d]`.
        let mut x =
            (dec.token_embedding.rows(&ids)? + Tensor::cat(&positions, 0)?)?.reshape((n, 1, d))?;
        for (layer, block) in dec.blocks.iter().enumerate() {
            let h = block.self_attn_ln.forward(&x)?;
            let (q, k, v) = block.self_attn.project_qkv(&h)?;
            let mixed = steps
                .iter_mut()
                .enumerate()
                .map(|(i, s)| {
                    let kv = &mut s.cache.layers[layer];
                    let offset = kv.current_seq_len();
                    let (k, v) = kv.append(&k.narrow(0, i, 1)?, &v.narrow(0, i, 1)?)?;
                    block
                        .self_attn
                        .mix(&q.narrow(0, i, 1)?, &k, &v, Some(offset))
                })
                .collect::<Result<Vec<_>>>()?;
            x = (&x + Tensor::cat(&mixed, 0)?.apply(&block.self_attn.out)?)?;

            let (attn, ln) = block
                .cross_attn
                .as_ref()
                .expect("decoder blocks have cross-attention");
            let q = attn.q.forward(&ln.forward(&x)?)?;
            let mixed = steps
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let (cross_k, cross_v) = &s.cross.layers[layer];
                    attn.mix(&q.narrow(0, i, 1)?, cross_k, cross_v, None)
                })
                .collect::<Result<Vec<_>>>()?;
            x = (&x + Tensor::cat(&mixed, 0)?.apply(&attn.out)?)?;
            x = block.mlp_residual(&x)?;
        }
        for s in steps.iter_mut() {
            s.cache.len += 1;
        }
        self.logits(&dec.ln.forward(&x)?)?
            .reshape((n, self.config.vocab_size))?
            .to_vec2()
    }

    /// Output projection (tied to the token embedding): `[b, m, d]` → `[b, m, vocab]` f32.
    pub fn logits(&self, hidden: &Tensor) -> Result<Tensor> {
        self.decoder.output.forward(hidden)?.to_dtype(DType::F32)
    }
}
