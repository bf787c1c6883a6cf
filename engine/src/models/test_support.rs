//! Test fixtures: a writer for CTranslate2 `model.bin` files and a miniature Whisper
//! model (real tensor names, tiny dimensions) written as a CTranslate2 source directory.

use std::path::Path;

use super::ct2_format::Ct2DType;

/// Writes the CTranslate2 binary format (version 6) from scratch.
pub(crate) struct Ct2Writer {
    spec: String,
    revision: u32,
    count: u32,
    variables: Vec<u8>,
    aliases: Vec<(String, String)>,
}

fn put_name(buf: &mut Vec<u8>, name: &str) {
    let len = u16::try_from(name.len() + 1).expect("test name too long");
    buf.extend_from_slice(&len.to_le_bytes());
    buf.extend_from_slice(name.as_bytes());
    buf.push(0);
}

impl Ct2Writer {
    pub(crate) fn new(spec: &str, revision: u32) -> Self {
        Ct2Writer {
            spec: spec.to_owned(),
            revision,
            count: 0,
            variables: Vec::new(),
            aliases: Vec::new(),
        }
    }

    /// Writes a variable verbatim, even an inconsistent one (for corruption tests).
    pub(crate) fn raw_variable(&mut self, name: &str, dims: &[u32], dtype_code: u8, data: &[u8]) {
        put_name(&mut self.variables, name);
        self.variables.push(u8::try_from(dims.len()).unwrap());
        for d in dims {
            self.variables.extend_from_slice(&d.to_le_bytes());
        }
        self.variables.push(dtype_code);
        self.variables
            .extend_from_slice(&u32::try_from(data.len()).unwrap().to_le_bytes());
        self.variables.extend_from_slice(data);
        self.count += 1;
    }

    fn dims(shape: &[usize]) -> Vec<u32> {
        shape.iter().map(|&d| u32::try_from(d).unwrap()).collect()
    }

    pub(crate) fn f16(&mut self, name: &str, shape: &[usize], values: &[f32]) {
        assert_eq!(shape.iter().product::<usize>(), values.len(), "{name}");
        let data: Vec<u8> = values
            .iter()
            .flat_map(|&v| half::f16::from_f32(v).to_le_bytes())
            .collect();
        self.raw_variable(name, &Self::dims(shape), Ct2DType::F16.code(), &data);
    }

    pub(crate) fn scalar_i8(&mut self, name: &str, value: i8) {
        self.raw_variable(name, &[], Ct2DType::I8.code(), &value.to_le_bytes());
    }

    pub(crate) fn scalar_i16(&mut self, name: &str, value: i16) {
        self.raw_variable(name, &[], Ct2DType::I16.code(), &value.to_le_bytes());
    }

    pub(crate) fn alias(&mut self, alias: &str, target: &str) {
        self.aliases.push((alias.to_owned(), target.to_owned()));
    }

    pub(crate) fn finish(self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&6u32.to_le_bytes());
        put_name(&mut out, &self.spec);
        out.extend_from_slice(&self.revision.to_le_bytes());
        out.extend_from_slice(&self.count.to_le_bytes());
        out.extend_from_slice(&self.variables);
        out.extend_from_slice(&u32::try_from(self.aliases.len()).unwrap().to_le_bytes());
        for (alias, target) in &self.aliases {
            put_name(&mut out, alias);
            put_name(&mut out, target);
        }
        out
    }
}

/// A Whisper model with the real CTranslate2 tensor names and tiny dimensions.
#[derive(Debug, Clone)]
pub(crate) struct TinyWhisper {
    pub d_model: usize,
    pub heads: usize,
    pub encoder_layers: usize,
    pub decoder_layers: usize,
    pub ffn: usize,
    pub mels: usize,
    pub vocab: usize,
    pub source_positions: usize,
    pub target_positions: usize,
    pub multilingual: bool,
}

/// One CTranslate2 tensor of the fixture: name, shape, values (all exact in f16).
pub(crate) type FixtureTensor = (String, Vec<usize>, Vec<f32>);

impl TinyWhisper {
    pub(crate) fn english() -> Self {
        TinyWhisper {
            d_model: 4,
            heads: 2,
            encoder_layers: 2,
            decoder_layers: 2,
            ffn: 8,
            mels: 3,
            vocab: 51864,
            source_positions: 6,
            target_positions: 5,
            multilingual: false,
        }
    }

    pub(crate) fn multilingual() -> Self {
        TinyWhisper {
            vocab: 51865,
            multilingual: true,
            decoder_layers: 1,
            ..Self::english()
        }
    }

    /// Every CTranslate2 tensor, with distinct values so a misplaced tensor is noticed.
    /// Self-attention K biases are zero, as the real converter writes them.
    pub(crate) fn tensors(&self) -> Vec<FixtureTensor> {
        let d = self.d_model;
        let mut specs: Vec<(String, Vec<usize>)> = vec![
            ("encoder/conv1/weight".into(), vec![d, self.mels, 3]),
            ("encoder/conv1/bias".into(), vec![d]),
            ("encoder/conv2/weight".into(), vec![d, d, 3]),
            ("encoder/conv2/bias".into(), vec![d]),
            (
                "encoder/position_encodings/encodings".into(),
                vec![self.source_positions, d],
            ),
            ("encoder/layer_norm/gamma".into(), vec![d]),
            ("encoder/layer_norm/beta".into(), vec![d]),
            ("decoder/embeddings/weight".into(), vec![self.vocab, d]),
            (
                "decoder/position_encodings/encodings".into(),
                vec![self.target_positions, d],
            ),
            ("decoder/layer_norm/gamma".into(), vec![d]),
            ("decoder/layer_norm/beta".into(), vec![d]),
        ];
        let mut layer = |prefix: String, cross: bool| {
            let mut add = |suffix: &str, shape: Vec<usize>| {
                specs.push((format!("{prefix}/{suffix}"), shape));
            };
            add("self_attention/linear_0/weight", vec![3 * d, d]);
            add("self_attention/linear_0/bias", vec![3 * d]);
            add("self_attention/linear_1/weight", vec![d, d]);
            add("self_attention/linear_1/bias", vec![d]);
            add("self_attention/layer_norm/gamma", vec![d]);
            add("self_attention/layer_norm/beta", vec![d]);
            if cross {
                add("attention/linear_0/weight", vec![d, d]);
                add("attention/linear_0/bias", vec![d]);
                add("attention/linear_1/weight", vec![2 * d, d]);
                add("attention/linear_1/bias", vec![2 * d]);
                add("attention/linear_2/weight", vec![d, d]);
                add("attention/linear_2/bias", vec![d]);
                add("attention/layer_norm/gamma", vec![d]);
                add("attention/layer_norm/beta", vec![d]);
            }
            add("ffn/linear_0/weight", vec![self.ffn, d]);
            add("ffn/linear_0/bias", vec![self.ffn]);
            add("ffn/linear_1/weight", vec![d, self.ffn]);
            add("ffn/linear_1/bias", vec![d]);
            add("ffn/layer_norm/gamma", vec![d]);
            add("ffn/layer_norm/beta", vec![d]);
        };
        for i in 0..self.encoder_layers {
            layer(format!("encoder/layer_{i}"), false);
        }
        for i in 0..self.decoder_layers {
            layer(format!("decoder/layer_{i}"), true);
        }
        specs
            .into_iter()
            .enumerate()
            .map(|(t, (name, shape))| {
                let n: usize = shape.iter().product();
                let fused_bias = name.ends_with("self_attention/linear_0/bias")
                    || name.ends_with("/attention/linear_1/bias");
                let values = (0..n)
                    .map(|i| {
                        // The K third (self-attention) or half (cross-attention) is zero.
                        let in_k = if name.contains("self_attention") {
                            (d..2 * d).contains(&i)
                        } else {
                            i < d
                        };
                        if fused_bias && in_k {
                            0.0
                        } else {
                            // Multiples of 1/8 below 256 are exact in f16.
                            (t % 64) as f32 + (i % 128) as f32 / 8.0 - 40.0
                        }
                    })
                    .collect();
                (name, shape, values)
            })
            .collect()
    }

    pub(crate) fn model_bin(&self) -> Vec<u8> {
        let mut w = Ct2Writer::new("WhisperSpec", 3);
        w.scalar_i8("decoder/activation", 3);
        w.scalar_i8("decoder/pre_norm", 1);
        w.scalar_i8("decoder/scale_embeddings", 0);
        w.scalar_i16("decoder/alignment_heads", 1);
        w.scalar_i16("decoder/num_heads", i16::try_from(self.heads).unwrap());
        w.scalar_i16("encoder/num_heads", i16::try_from(self.heads).unwrap());
        for (name, shape, values) in self.tensors() {
            w.f16(&name, &shape, &values);
        }
        w.alias("decoder/projection/weight", "decoder/embeddings/weight");
        w.finish()
    }

    /// Special-token ids: (eot, sot, first language, translate).
    fn token_base(&self) -> (u32, u32, u32, u32) {
        if self.multilingual {
            (50257, 50258, 50259, 50358)
        } else {
            (50256, 50257, 50258, 50357)
        }
    }

    pub(crate) fn tokenizer_json(&self) -> String {
        let (eot, sot, lang, translate) = self.token_base();
        let mut tokens = vec![
            (eot, "<|endoftext|>".to_owned()),
            (sot, "<|startoftranscript|>".to_owned()),
            (lang, "<|en|>".to_owned()),
            (lang + 1, "<|zh|>".to_owned()),
            (translate, "<|translate|>".to_owned()),
            (translate + 1, "<|transcribe|>".to_owned()),
            (translate + 2, "<|startoflm|>".to_owned()),
            (translate + 3, "<|startofprev|>".to_owned()),
            (translate + 4, "<|nospeech|>".to_owned()),
            (translate + 5, "<|notimestamps|>".to_owned()),
        ];
        if self.multilingual {
            // Multilingual tokenizers carry the timestamp tokens up to <|30.00|>.
            tokens.push((translate + 6, "<|0.00|>".to_owned()));
            tokens.push((51864, "<|30.00|>".to_owned()));
        }
        let added: Vec<_> = tokens
            .into_iter()
            .map(|(id, content)| serde_json::json!({"id": id, "content": content, "special": true}))
            .collect();
        serde_json::json!({"version": "1.0", "added_tokens": added, "model": {"type": "BPE"}})
            .to_string()
    }

    pub(crate) fn ct2_config_json(&self) -> String {
        let (eot, sot, lang, translate) = self.token_base();
        serde_json::json!({
            "alignment_heads": [[self.decoder_layers - 1, 0], [self.decoder_layers - 1, 1]],
            "lang_ids": if self.multilingual { vec![lang, lang + 1] } else { vec![lang + 1, lang + 2] },
            "suppress_ids": [1, 2, sot, translate, translate + 1],
            "suppress_ids_begin": [220, eot],
        })
        .to_string()
    }

    /// Writes model.bin, config.json and tokenizer.json as a fetched model would have them.
    pub(crate) fn write_source_dir(&self, dir: &Path) {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("model.bin"), self.model_bin()).unwrap();
        std::fs::write(dir.join("config.json"), self.ct2_config_json()).unwrap();
        std::fs::write(dir.join("tokenizer.json"), self.tokenizer_json()).unwrap();
    }
}

/// Decodes little-endian f16 bytes.
pub(crate) fn f16_values(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(2)
        .map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32())
        .collect()
}
