#!/usr/bin/env python3
"""Build the tiny Marian test model and the reference token ids that prove stt's Marian backend.

No trained Arabic->English Marian weights can be downloaded on the machines this project
runs on, so the candle implementation (`stt_engine::translate`) is proven against the
reference implementation (Hugging Face `transformers` on PyTorch) on a tiny model of the
same architecture as the opus-mt models, made here:

1. Two real SentencePiece unigram models are trained with SentencePiece's default
   `nmt_nfkc` normalisation, like the opus-mt ones: `source.spm` on the Arabic, French and
   English sentences written below (plus the reference transcripts of the project's eval
   set with `--eval-manifest`), `target.spm` on the English ones. `vocab.json` is the
   shared Marian vocabulary over both (`</s>` = 0, `<unk>` = 1, `<pad>` last), the layout
   of an opus-mt directory.
2. A `MarianMTModel` with the opus-mt configuration (swish, scaled embeddings, sinusoidal
   positions, tied embeddings, post-norm, random `final_logits_bias`) but tiny sizes
   (d_model 32, 2+2 layers, 4 heads) is randomly initialised from a fixed seed and then
   trained for 300 full-batch Adam steps on the 40 Arabic->English sentence pairs below
   (+ English->English copies). A purely random model only repeats one or two tokens and
   never stops by itself, which would test little; the briefly trained one reproduces its
   training sentences (so the Rust test can check `translate()` on real text end to end)
   and gives varied, uncertain output on anything else, where greedy and beam search
   disagree and several runs end at the length limit.
3. Written: `model.safetensors`, `config.json`, `generation_config.json` (as opus-mt's:
   pad banned, renormalised logits, 4 beams), `vocab.json` and `tokenizer_config.json`
   from `MarianTokenizer.save_pretrained`, and both SentencePiece models converted to
   `source.tokenizer.json` / `target.tokenizer.json` with transformers' own converter
   (`SpmConverter.build_tokenizer_from_spm_proto`), because the Rust `tokenizers` crate
   cannot read `.spm` files. The converted tokenizers are checked piece for piece against
   SentencePiece before anything is written. The `.spm` files themselves are not kept
   (stt does not read them; this script recreates them deterministically), which keeps the
   test data under 1 MB.
4. `generate()` runs greedy and beam searches (beam sizes 2-5, length penalties 0.6-1.3,
   all three early-stopping modes, with and without logit renormalisation, forced EOS at a
   short length limit) on inputs in Arabic, French and English; input text, source ids,
   output ids, beam scores and decoded text go into `expected.json`.
   Every run is repeated with the model in float64 and must give the same ids: a run whose
   result could flip on float32 rounding (a near tie) is not a fair test of another
   implementation, so the script refuses to write such a reference.

The Rust test `engine/tests/marian_reference.rs` loads the directory and asserts that
candle produces the same source ids, output ids, scores (within 1e-3) and text.

Usage (from the repository root; creates/uses a throwaway venv with the pinned versions
below, about 3 GB because PyPI's torch wheel pulls the CUDA libraries; takes ~1 minute):

    python3 scripts/reference/make_marian_reference.py \
        --out engine/tests/data/marian_tiny \
        --eval-manifest ../shared/eval/manifest.jsonl

The same script prepares a *real* opus-mt directory for stt (adds the two tokenizer.json
files and, if the directory only has `pytorch_model.bin`, a `model.safetensors`):

    python3 scripts/reference/make_marian_reference.py convert path/to/opus-mt-ar-en
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

# The exact versions the committed test data was generated with. `pip install torch`
# from PyPI pulls the CUDA build and its nvidia-* wheels (a few GB); only the CPU is used.
PINNED = {
    "torch": "2.15.0",
    "transformers": "5.24.0",
    "tokenizers": "0.23.3",
    "sentencepiece": "0.2.3",
    "safetensors": "0.8.0",
    "protobuf": "7.36.2",
    "numpy": "2.4.6",
}
DEFAULT_VENV = "/tmp/marian-venv"

SEED = 20240611
D_MODEL = 32
LAYERS = 2
HEADS = 4
FFN = 64
MAX_POSITIONS = 128
SOURCE_VOCAB = 420
TARGET_VOCAB = 260
TRAIN_STEPS = 300
PAD_BIAS = 10.0

# Sentences written for this script (not taken from any data set): Arabic in several
# registers, French, English. ARABIC[i] and ENGLISH[i] are translations of each other:
# they are the tiny model's training pairs. The target side is English only.
ARABIC = """
الكلام فضة، لكن الصمت ذهب.
ذهبت إلى السوق صباح اليوم واشتريت الخبز والحليب.
الطقس حار جدا في الصيف، لذلك نبقى في البيت بعد الظهر.
هل يمكنك أن تساعدني في حمل هذه الحقيبة؟
أحب القراءة في المساء قبل النوم.
المدرسة قريبة من بيتنا، ونمشي إليها كل يوم.
كم الساعة الآن؟
الاجتماع سيبدأ في الساعة العاشرة صباحا.
أرسلت لك رسالة بالبريد الإلكتروني أمس.
الطبيب قال إن عليك أن تشرب الكثير من الماء.
نحن نسافر إلى دبي في الأسبوع القادم.
هذا المطعم مشهور بالأكل اللبناني.
القطار متأخر بسبب الأمطار الغزيرة.
أريد أن أحجز غرفة لشخصين لمدة ثلاث ليال.
الأطفال يلعبون كرة القدم في الحديقة.
من فضلك أغلق الباب عندما تخرج.
شكرا جزيلا على مساعدتك.
السيارة الجديدة سريعة ومريحة.
كان الفيلم طويلا لكنه كان ممتعا.
سأتصل بك عندما أصل إلى المطار.
الجامعة تقع في وسط المدينة.
تعلمت اللغة الإنجليزية في المدرسة.
أمي تطبخ الأرز مع الدجاج يوم الجمعة.
الحرارة كام النهارده؟
باب الجراج مفتوح ولا مقفول؟
ابغى أروح البحر بكرة إذا الجو حلو.
وين المفتاح؟ ما لقيته على الطاولة.
الشركة أعلنت عن وظائف جديدة للمهندسين.
الرئيس التقى بالوزراء لمناقشة الميزانية.
ارتفعت أسعار النفط في الأسواق العالمية اليوم.
المباراة انتهت بالتعادل بين الفريقين.
يجب أن نحافظ على البيئة ونقلل من التلوث.
المكتبة مفتوحة من الصباح حتى المساء.
صديقي يعمل في مستشفى كبير في الرياض.
الهاتف لا يعمل، أظن أن البطارية فارغة.
سنحتفل بعيد ميلاد أختي يوم السبت.
الرجاء الانتظار قليلا، سيصل الموظف بعد دقائق.
قرأت هذا الكتاب مرتين لأنه جميل جدا.
الشمس تشرق من الشرق وتغرب في الغرب.
أين أقرب صيدلية من هنا؟
""".strip().splitlines()

FRENCH = """
Sous le consulat il devient conservateur des eaux et forêts.
Je voudrais un café et un croissant, s'il vous plaît.
Le train pour Paris part à huit heures du matin.
Nous avons visité le musée pendant tout l'après-midi.
Il fait beau aujourd'hui, allons nous promener au parc.
Ma sœur habite à Lyon depuis trois ans.
Pouvez-vous m'aider à trouver la gare ?
Les enfants jouent dans le jardin derrière la maison.
J'ai oublié mon parapluie dans le bus.
La réunion commence à dix heures précises.
Ce restaurant sert une cuisine très simple et très bonne.
Le médecin m'a conseillé de boire beaucoup d'eau.
Nous partons en vacances la semaine prochaine.
Elle lit un livre chaque soir avant de dormir.
Le magasin est fermé le dimanche.
Merci beaucoup pour votre aide.
""".strip().splitlines()

ENGLISH = """
Silence is golden, but speech is silver.
I went to the market this morning and bought bread and milk.
The weather is very hot in the summer, so we stay at home in the afternoon.
Can you help me carry this bag?
I like reading in the evening before I go to sleep.
The school is close to our house, and we walk there every day.
What time is it now?
The meeting will start at ten o'clock in the morning.
I sent you an email yesterday.
The doctor said that you have to drink a lot of water.
We are travelling to Dubai next week.
This restaurant is famous for Lebanese food.
The train is late because of the heavy rain.
I would like to book a room for two people for three nights.
The children are playing football in the park.
Please close the door when you leave.
Thank you very much for your help.
The new car is fast and comfortable.
The film was long but it was interesting.
I will call you when I arrive at the airport.
The university is in the centre of the city.
I learned English at school.
My mother cooks rice with chicken on Friday.
How hot is it today?
Is the garage door open or closed?
I want to go to the sea tomorrow if the weather is nice.
Where is the key? I did not find it on the table.
The company announced new jobs for engineers.
The president met the ministers to discuss the budget.
Oil prices rose on world markets today.
The match ended in a draw between the two teams.
We must protect the environment and reduce pollution.
The library is open from morning until evening.
My friend works in a big hospital in Riyadh.
The phone does not work, I think the battery is empty.
We will celebrate my sister's birthday on Saturday.
Please wait a little, the employee will arrive in a few minutes.
I read this book twice because it is very beautiful.
The sun rises in the east and sets in the west.
Where is the nearest pharmacy?
""".strip().splitlines()

# Inputs of the reference runs. They exercise: Arabic with the eval set's spacing before
# a comma, Arabic presentation forms and a fullwidth digit that `nmt_nfkc` rewrites,
# French accents, English, a character no piece covers (-> <unk>), and a `>>xx<<`
# target-language code as multilingual opus-mt models use.
INPUTS = [
    ("ar_proverb", "الكلام فضة ، لكن الصمت ذهب."),
    ("ar_question", "هل يمكنك أن تساعدني في حمل هذه الحقيبة؟"),
    ("ar_nfkc", "ﻻ أريد القهوة الآن، شكراً ١٢ ３"),
    ("fr_sentence", "Le train pour Paris part à huit heures du matin."),
    ("en_sentence", "Thank you very much for your help."),
    ("en_unknown_char", "The weather is nice ☃ today"),
    ("lang_code", ">>fr<< Where is the nearest pharmacy?"),
]

# (label, generate() kwargs). `max_new_tokens` is stt's `max_length`.
RUNS = [
    ("greedy", dict(num_beams=1, max_new_tokens=24)),
    ("beam4", dict(num_beams=4, max_new_tokens=24, length_penalty=1.0, early_stopping=False)),
    ("beam3_lp0.6", dict(num_beams=3, max_new_tokens=24, length_penalty=0.6, early_stopping=False)),
    ("beam5", dict(num_beams=5, max_new_tokens=40, length_penalty=1.0, early_stopping=False)),
    ("beam5_early", dict(num_beams=5, max_new_tokens=40, length_penalty=1.0, early_stopping=True)),
    ("beam4_lp2", dict(num_beams=4, max_new_tokens=40, length_penalty=2.0, early_stopping=False)),
    ("beam4_never_lp2", dict(num_beams=4, max_new_tokens=40, length_penalty=2.0, early_stopping="never")),
    ("beam4_no_renorm", dict(num_beams=4, max_new_tokens=24, length_penalty=1.0, renormalize_logits=False)),
    ("beam2_no_renorm", dict(num_beams=2, max_new_tokens=24, length_penalty=1.0, renormalize_logits=False)),
    ("greedy_forced_eos", dict(num_beams=1, max_new_tokens=5)),
    ("beam4_forced_eos", dict(num_beams=4, max_new_tokens=5)),
]

# Pairs of runs that differ in one option only; for each, some input must give different
# ids, or the reference could not catch an implementation that ignores that option.
MUST_DIFFER = [
    ("greedy", "beam4"),
    ("beam4", "beam4_no_renorm"),
    ("beam5", "beam5_early"),
    ("beam4_lp2", "beam4_never_lp2"),
]



def ensure_venv(venv: str) -> None:
    """Re-run this script inside a venv that has exactly the pinned packages."""
    venv_python = Path(venv) / "bin" / "python"
    if Path(sys.prefix).resolve() == Path(venv).resolve():
        return
    if not venv_python.exists():
        subprocess.check_call([sys.executable, "-m", "venv", venv])
    wanted = [f"{name}=={version}" for name, version in PINNED.items()]
    subprocess.check_call([str(venv_python), "-m", "pip", "install", "--quiet", *wanted])
    os.execv(str(venv_python), [str(venv_python), *sys.argv])


def check_versions() -> dict:
    import importlib.metadata as md

    found = {name: md.version(name) for name in PINNED}
    wrong = {n: (v, PINNED[n]) for n, v in found.items() if v != PINNED[n]}
    if wrong:
        sys.exit(f"package versions differ from the pinned ones (found, wanted): {wrong}")
    return found


# ---------------------------------------------------------------------------------------
# Tokenizers


def train_spm(sentences, prefix: Path, vocab_size: int) -> Path:
    import sentencepiece as spm

    text = prefix.with_suffix(".txt")
    text.write_text("\n".join(sentences) + "\n", encoding="utf-8")
    spm.SentencePieceTrainer.train(
        input=str(text),
        model_prefix=str(prefix),
        vocab_size=vocab_size,
        model_type="unigram",
        character_coverage=1.0,
        normalization_rule_name="nmt_nfkc",
        hard_vocab_limit=False,
        num_threads=1,
        seed_sentencepiece_size=100000,
        shuffle_input_sentence=False,
        minloglevel=2,
    )
    text.unlink()
    return prefix.with_suffix(".model")


def spm_to_tokenizer_json(spm_path: Path, out: Path):
    """Convert a SentencePiece model with transformers' converter (the Rust side can't read .spm)."""
    from transformers.convert_slow_tokenizer import SpmConverter, import_protobuf

    proto = import_protobuf().ModelProto()
    proto.ParseFromString(spm_path.read_bytes())
    if proto.trainer_spec.model_type != 1:
        sys.exit(f"{spm_path}: only unigram SentencePiece models (as opus-mt uses) are supported")
    vocab = [(piece.piece, piece.score) for piece in proto.pieces]
    tokenizer = SpmConverter.build_tokenizer_from_spm_proto(proto, vocab)
    tokenizer.save(str(out))
    return tokenizer


def check_tokenizer_json(tok_json: Path, spm_path: Path, texts) -> None:
    """The converted tokenizer must split exactly like SentencePiece does."""
    import sentencepiece as spm
    from tokenizers import Tokenizer

    sp = spm.SentencePieceProcessor(model_file=str(spm_path))
    tok = Tokenizer.from_file(str(tok_json))
    for text in texts:
        want = sp.encode(text, out_type=str)
        got = tok.encode(text, add_special_tokens=False).tokens
        if want != got:
            sys.exit(f"{tok_json.name} splits {text!r} as {got}, SentencePiece as {want}")


def build_vocab(source_spm: Path, target_spm: Path, extra=()) -> dict:
    """Shared Marian vocabulary: </s>=0, <unk>=1, all pieces of both models, <pad> last."""
    import sentencepiece as spm

    vocab = {"</s>": 0, "<unk>": 1}
    for token in extra:
        vocab.setdefault(token, len(vocab))
    for path in (source_spm, target_spm):
        sp = spm.SentencePieceProcessor(model_file=str(path))
        for i in range(sp.get_piece_size()):
            if sp.is_control(i) or sp.is_unknown(i):
                continue
            vocab.setdefault(sp.id_to_piece(i), len(vocab))
    vocab["<pad>"] = len(vocab)
    return vocab


# ---------------------------------------------------------------------------------------
# Model


def make_model(vocab_size: int, pad: int):
    """An opus-mt-shaped MarianMTModel, tiny, initialised from the fixed seed."""
    import torch
    from transformers import GenerationConfig, MarianConfig, MarianMTModel

    config = MarianConfig(
        vocab_size=vocab_size,
        decoder_vocab_size=vocab_size,
        d_model=D_MODEL,
        encoder_layers=LAYERS,
        decoder_layers=LAYERS,
        encoder_attention_heads=HEADS,
        decoder_attention_heads=HEADS,
        encoder_ffn_dim=FFN,
        decoder_ffn_dim=FFN,
        max_position_embeddings=MAX_POSITIONS,
        activation_function="swish",
        scale_embedding=True,
        share_encoder_decoder_embeddings=True,
        pad_token_id=pad,
        decoder_start_token_id=pad,
        eos_token_id=0,
        forced_eos_token_id=0,
        dropout=0.0,
        attention_dropout=0.0,
        activation_dropout=0.0,
    )
    config._attn_implementation = "eager"
    torch.manual_seed(SEED)
    model = MarianMTModel(config)
    with torch.no_grad():
        # Zero in a fresh model; random here so that the test exercises it.
        model.final_logits_bias.copy_(torch.randn(model.final_logits_bias.shape) * 0.1)
    # The lm head must be the shared embedding (tied), as candle's model assumes.
    assert model.lm_head.weight.data_ptr() == model.model.shared.weight.data_ptr()

    # What the opus-mt generation_config.json files hold (with this vocabulary's ids).
    model.generation_config = GenerationConfig(
        bad_words_ids=[[pad]],
        bos_token_id=0,
        decoder_start_token_id=pad,
        eos_token_id=0,
        forced_eos_token_id=0,
        pad_token_id=pad,
        max_length=MAX_POSITIONS,
        num_beams=4,
        renormalize_logits=True,
    )
    return model


def train_briefly(model, tokenizer, pairs, steps: int) -> float:
    """A few hundred full-batch Adam steps on `pairs`; returns the final loss.

    An untrained random model only repeats one or two tokens and never emits EOS by itself,
    which would test little. After this the model reproduces the sentences it saw (so the
    Rust test can check a real `translate()` call end to end) and produces varied,
    uncertain output on anything else, where greedy and beam search disagree.
    """
    import torch

    pad = model.config.pad_token_id
    batch = tokenizer(
        [src for src, _ in pairs], text_target=[tgt for _, tgt in pairs], padding=True, return_tensors="pt"
    )
    labels = batch["labels"].masked_fill(batch["labels"] == pad, -100)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    loss = None
    for _ in range(steps):
        optimizer.zero_grad()
        out = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=labels)
        out.loss.backward()
        optimizer.step()
        loss = out.loss.item()
    model.eval()
    return loss


def make_pad_likely(model, bias: float) -> None:
    """Raise the banned pad token's logit, so that banning it removes real probability.

    The pad token is never a training label, so after training its probability is tiny and
    renormalising after the ban (`renormalize_logits`) would change scores by less than
    the test's tolerance: the test could not tell whether an implementation renormalises.
    """
    import torch

    with torch.no_grad():
        model.final_logits_bias[0, model.config.pad_token_id] += bias


def run_reference(model, tokenizer, inputs):
    """generate() every run on every input, in float32 and (as a tie check) float64."""
    import copy

    import torch

    model64 = copy.deepcopy(model).double()
    results = []
    for name, text in inputs:
        enc = tokenizer(text, return_tensors="pt")
        source_ids = enc["input_ids"][0].tolist()
        runs = []
        for label, kwargs in RUNS:
            outs = []
            for m in (model, model64):
                with torch.no_grad():
                    out = m.generate(
                        **enc,
                        do_sample=False,
                        return_dict_in_generate=True,
                        output_scores=True,
                        **kwargs,
                    )
                ids = out.sequences[0].tolist()
                assert ids[0] == model.config.decoder_start_token_id
                score = None
                if kwargs["num_beams"] > 1:
                    score = float(out.sequences_scores[0])
                outs.append((ids[1:], score))
            (ids, score), (ids64, _) = outs
            if ids != ids64:
                return None, f"{name}/{label}: float32 {ids} != float64 {ids64} (near tie)"
            text_out = tokenizer.decode(
                ids,
                skip_special_tokens=True,
                use_source_tokenizer=False,
                clean_up_tokenization_spaces=False,
            )
            run = {"label": label, **kwargs, "ids": ids, "text": text_out}
            run.setdefault("length_penalty", 1.0)
            run.setdefault("early_stopping", False)
            run.setdefault("renormalize_logits", True)
            if score is not None:
                run["score"] = score
            runs.append(run)
        results.append({"name": name, "text": text, "source_ids": source_ids, "runs": runs})
    return results, None


def check_results(results):
    """The reference must be a meaningful test: varied, several tokens, both stop reasons."""
    greedy = [next(r for r in case["runs"] if r["label"] == "greedy") for case in results]
    lengths = [len(r["ids"]) for r in greedy]
    if min(lengths) < 3:
        return f"a greedy output is shorter than 3 tokens: {lengths}"
    if len({tuple(r["ids"]) for r in greedy}) < len(greedy):
        return "two inputs give the same greedy output"
    natural = [r for case in results for r in case["runs"] if "forced" not in r["label"]]
    stopped = sum(1 for r in natural if len(r["ids"]) < r["max_new_tokens"])
    if stopped < len(natural) // 2:
        return f"only {stopped}/{len(natural)} runs end with EOS before the length limit"
    if stopped == len(natural):
        return "no run reaches the length limit"
    by_label = [{r["label"]: r["ids"] for r in case["runs"]} for case in results]
    for a, b in MUST_DIFFER:
        if all(runs[a] == runs[b] for runs in by_label):
            return f"runs {a} and {b} give the same ids on every input"
    return None


# ---------------------------------------------------------------------------------------


def make(args) -> None:
    versions = check_versions()
    import sentencepiece as spm
    import torch
    import transformers
    from transformers import MarianTokenizer

    transformers.logging.set_verbosity_error()
    torch.set_num_threads(1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.iterdir():
        shutil.rmtree(old) if old.is_dir() else old.unlink()

    arabic, french, english = list(ARABIC), list(FRENCH), list(ENGLISH)
    if args.eval_manifest:
        for line in Path(args.eval_manifest).read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            ref = item.get("reference") or ""
            if ref and item.get("lang") == "ar":
                arabic.append(ref)
            elif ref and item.get("lang") == "fr":
                french.append(ref)
            elif ref and item.get("lang") == "en":
                english.append(ref.capitalize())
        arabic, french, english = (list(dict.fromkeys(x)) for x in (arabic, french, english))

    work = out / "_work"
    work.mkdir()
    source_spm = train_spm(arabic + french + english, work / "source", SOURCE_VOCAB)
    target_spm = train_spm(english, work / "target", TARGET_VOCAB)
    vocab = build_vocab(source_spm, target_spm, extra=[">>fr<<"])
    (work / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False, indent=2), encoding="utf-8")
    tokenizer = MarianTokenizer(
        source_spm=str(source_spm), target_spm=str(target_spm), vocab=str(work / "vocab.json")
    )

    texts = [text for _, text in INPUTS] + arabic[:10] + french[:5] + english[:10]
    spm_to_tokenizer_json(source_spm, out / "source.tokenizer.json")
    spm_to_tokenizer_json(target_spm, out / "target.tokenizer.json")
    check_tokenizer_json(out / "source.tokenizer.json", source_spm, [t.split("<<")[-1] for t in texts])
    check_tokenizer_json(out / "target.tokenizer.json", target_spm, english[:20])

    sp_source = spm.SentencePieceProcessor(model_file=str(source_spm))
    eos, unk, pad = vocab["</s>"], vocab["<unk>"], vocab["<pad>"]
    for _, text in INPUTS:
        # MarianTokenizer = optional >>xx<< code, SentencePiece pieces, vocab.json, </s>.
        code = [text[: text.find("<<") + 2]] if text.startswith(">>") else []
        rest = text[len(code[0]) :] if code else text
        pieces = code + sp_source.encode(rest, out_type=str)
        want = [vocab.get(p, unk) for p in pieces] + [eos]
        got = tokenizer(text)["input_ids"]
        assert got == want, (text, got, want)
    assert any(unk in tokenizer(t)["input_ids"] for _, t in INPUTS), "no input exercises <unk>"

    model = make_model(len(vocab), pad)
    pairs = list(zip(ARABIC, ENGLISH)) + list(zip(ENGLISH, ENGLISH))
    loss = train_briefly(model, tokenizer, pairs, TRAIN_STEPS)
    make_pad_likely(model, PAD_BIAS)
    print(f"trained {TRAIN_STEPS} steps on {len(pairs)} pairs, loss {loss:.4f}")
    results, problem = run_reference(model, tokenizer, INPUTS)
    if problem is None:
        problem = check_results(results)
    for case in results or []:
        for r in case["runs"]:
            print(f"  {case['name']:16} {r['label']:18} {len(r['ids']):>3}  {r['text']}")
    if problem:
        sys.exit(f"unusable reference: {problem}")

    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    (out / "stt-translation.json").write_text(
        json.dumps(
            {
                "model_type": "marian",
                "source_languages": ["ar"],
                "target_languages": ["en"],
                "description": "Tiny Marian test model (random init, 300 steps on 80 sentence pairs): "
                "test data only, it translates nothing but its training sentences.",
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    expected = {
        "about": "Reference MarianTokenizer / generate() output of the tiny Marian model in this "
        "directory, made by scripts/reference/make_marian_reference.py. Output ids exclude the "
        "decoder start token; max_new_tokens is stt's max_length.",
        "versions": versions,
        "seed": SEED,
        "eval_manifest_in_spm_training": bool(args.eval_manifest),
        "train_steps": TRAIN_STEPS,
        "train_loss": loss,
        "special_ids": {"eos": eos, "unk": unk, "pad": pad},
        "cases": results,
    }
    (out / "expected.json").write_text(json.dumps(expected, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    for f in work.iterdir():
        f.unlink()
    work.rmdir()
    # Files stt does not read (see the module docstring).
    for name in ("special_tokens_map.json", "source.spm", "target.spm"):
        if (out / name).exists():
            (out / name).unlink()
    total = 0
    for f in sorted(out.iterdir()):
        total += f.stat().st_size
        print(f"{f.stat().st_size:>9}  {f.name}")
    print(f"{total:>9}  total")


def convert(args) -> None:
    """Make a real opus-mt directory loadable by stt (tokenizer.json files, safetensors)."""
    check_versions()
    d = Path(args.dir)
    for side in ("source", "target"):
        spm_path = d / f"{side}.spm"
        if not spm_path.exists():
            sys.exit(f"{spm_path} is missing")
        spm_to_tokenizer_json(spm_path, d / f"{side}.tokenizer.json")
        print(f"wrote {d / f'{side}.tokenizer.json'}")
    if not (d / "model.safetensors").exists() and (d / "pytorch_model.bin").exists():
        from transformers import MarianMTModel

        model = MarianMTModel.from_pretrained(d)
        model.save_pretrained(d)
        print(f"wrote {d / 'model.safetensors'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--venv", default=DEFAULT_VENV, help="venv to create/use (default %(default)s)")
    sub = parser.add_subparsers(dest="command")
    make_p = sub.add_parser("make", help="build the tiny test model and expected.json (default)")
    for p in (parser, make_p):
        p.add_argument("--out", default="engine/tests/data/marian_tiny")
        p.add_argument("--eval-manifest", default=None, help="shared/eval/manifest.jsonl: more training text")
    conv_p = sub.add_parser("convert", help="add tokenizer.json files (and safetensors) to an opus-mt dir")
    conv_p.add_argument("dir")
    args = parser.parse_args()
    ensure_venv(args.venv)
    if args.command == "convert":
        convert(args)
    else:
        make(args)


if __name__ == "__main__":
    main()
