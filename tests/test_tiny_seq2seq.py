"""Tiny mT5/Marian factories: save_pretrained output loads, tokenizes, generates, trains."""

from __future__ import annotations

import contextlib
import json
import time
import unicodedata

import pytest
import torch
from transformers import (
    AutoModelForSeq2SeqLM,
    AutoTokenizer,
    MarianMTModel,
    MarianTokenizer,
    MT5ForConditionalGeneration,
    T5Tokenizer,
)

from rayqa.testing.tiny_seq2seq import build_tiny_marian, build_tiny_mt5, train_sentencepiece

# MarianTokenizer warns on every load when sacremoses is missing; it changes nothing here.
pytestmark = pytest.mark.filterwarnings("ignore:Recommended. pip install sacremoses")

# Two sentences per script, parallel across languages, so no test needs ../shared.
INLINE = {
    "en": ["What is the capital of France?", "The river flows through the old city."],
    "de": ["Was ist die Hauptstadt von Frankreich?", "Der Fluss fließt durch die Altstadt."],
    "ar": ["ما هي عاصمة فرنسا؟", "يتدفق النهر عبر المدينة القديمة."],
    "zh": ["法国的首都是哪里？", "河流流经老城区。"],
    "hi": ["फ्रांस की राजधानी क्या है?", "नदी पुराने शहर से होकर बहती है।"],
    "th": ["เมืองหลวงของฝรั่งเศสคืออะไร", "แม่น้ำไหลผ่านเมืองเก่า"],
}
ALL_INLINE = [s for sents in INLINE.values() for s in sents]
PREFIXES = {"de": ">>deu<<", "ar": ">>ara<<", "zh": ">>zho<<", "hi": ">>hin<<", "th": ">>tha<<"}
XQUAD_LANGS = ("en", "de", "ar", "zh", "hi", "th")


def _inline_pairs() -> tuple[list[str], list[str]]:
    """Eight en -> X pairs, the source carrying X's OPUS-MT language code."""
    src, tgt = [], []
    for lang, code in list(PREFIXES.items())[:4]:
        for en, other in zip(INLINE["en"], INLINE[lang]):
            src.append(f"{code} {en}")
            tgt.append(other)
    return src, tgt


def _load(path):
    return AutoTokenizer.from_pretrained(path), AutoModelForSeq2SeqLM.from_pretrained(path)


def _batch(tokenizer, src, tgt):
    """A padded batch whose label padding is ignored by the loss."""
    batch = tokenizer(src, text_target=tgt, padding=True, return_tensors="pt")
    batch["labels"][batch["labels"] == tokenizer.pad_token_id] = -100
    return batch


@contextlib.contextmanager
def _single_thread():
    """Tiny tensors gain nothing from intra-op threads, and on a busy 2-CPU machine (Ray
    workers of other tests) OpenMP spin-waits made each step up to 50x slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _train_losses(model, batch, steps: int = 20, lr: float = 1e-3) -> list[float]:
    """Adam on one fixed batch; returns the loss before each step."""
    torch.manual_seed(0)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    with _single_thread():
        for _ in range(steps):
            loss = model(**batch).loss
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return losses


def _assert_learns(losses: list[float]) -> None:
    assert all(map(torch.isfinite, torch.tensor(losses)))
    # Mean of the last steps, so one dropout-noisy step cannot decide the outcome.
    assert sum(losses[-3:]) / 3 < 0.9 * losses[0], losses


def _assert_generates(tokenizer, model, texts: list[str]) -> None:
    model.eval()
    batch = tokenizer(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        out = model.generate(**batch, max_new_tokens=6, num_beams=2)
    assert out.shape[0] == len(texts) and 1 < out.shape[1] <= 7
    assert out[:, 0].eq(model.config.decoder_start_token_id).all()
    decoded = tokenizer.batch_decode(out, skip_special_tokens=True)
    assert len(decoded) == len(texts) and all(isinstance(d, str) for d in decoded)


@pytest.fixture(scope="module")
def mt5_dir(tmp_path_factory):
    return build_tiny_mt5(ALL_INLINE, tmp_path_factory.mktemp("mt5"), extra_ids=10)


@pytest.fixture(scope="module")
def marian_dir(tmp_path_factory):
    src, tgt = _inline_pairs()
    return build_tiny_marian(src, tgt, tmp_path_factory.mktemp("marian"),
                             target_prefixes=list(PREFIXES.values()))


# --------------------------------------------------------------------------- inline: mT5


def test_mt5_layout_and_auto_classes(mt5_dir):
    assert {"config.json", "generation_config.json", "model.safetensors", "spiece.model",
            "tokenizer.json", "tokenizer_config.json"} <= {p.name for p in mt5_dir.iterdir()}
    tokenizer, model = _load(mt5_dir)
    assert isinstance(tokenizer, T5Tokenizer)
    assert isinstance(model, MT5ForConditionalGeneration)
    assert (tokenizer.pad_token_id, tokenizer.eos_token_id, tokenizer.unk_token_id) == (0, 1, 2)
    assert model.config.decoder_start_token_id == 0 and model.config.eos_token_id == 1
    assert model.config.vocab_size == len(tokenizer)
    assert (model.config.d_model, model.config.num_layers, model.config.num_heads) == (64, 2, 2)


def test_mt5_sentinels_close_the_vocab(mt5_dir):
    tokenizer = AutoTokenizer.from_pretrained(mt5_dir)
    last = len(tokenizer) - 1
    assert tokenizer.convert_tokens_to_ids("<extra_id_0>") == last
    assert tokenizer.convert_tokens_to_ids("<extra_id_9>") == last - 9
    ids = tokenizer("Paris <extra_id_0> France", add_special_tokens=False).input_ids
    assert last in ids


@pytest.mark.parametrize("lang", sorted(INLINE))
def test_mt5_tokenizer_covers_every_script(mt5_dir, lang):
    tokenizer = AutoTokenizer.from_pretrained(mt5_dir)
    for sentence in INLINE[lang]:
        ids = tokenizer(sentence).input_ids
        assert ids[-1] == tokenizer.eos_token_id and tokenizer.unk_token_id not in ids
        # SentencePiece's nmt_nfkc normalizer is part of the tokenizer (e.g. ？ -> ?).
        expected = unicodedata.normalize("NFKC", sentence)
        assert tokenizer.decode(ids, skip_special_tokens=True) == expected


def test_mt5_unseen_characters_are_unk(mt5_dir):
    tokenizer = AutoTokenizer.from_pretrained(mt5_dir)
    assert tokenizer.unk_token_id in tokenizer("Ωμέγα").input_ids


def test_mt5_generates(mt5_dir):
    tokenizer, model = _load(mt5_dir)
    _assert_generates(tokenizer, model, ALL_INLINE[:4])


def test_mt5_trains_on_parallel_pairs(mt5_dir):
    tokenizer, model = _load(mt5_dir)
    losses = _train_losses(model, _batch(tokenizer, INLINE["en"] * 4, ALL_INLINE[2:10]))
    _assert_learns(losses)


# --------------------------------------------------------------------------- inline: Marian


def test_marian_layout_and_auto_classes(marian_dir):
    assert {"config.json", "generation_config.json", "model.safetensors", "source.spm",
            "target.spm", "vocab.json", "tokenizer_config.json"} <= {
                p.name for p in marian_dir.iterdir()}
    for tokenizer_cls, model_cls in ((MarianTokenizer, MarianMTModel),
                                     (AutoTokenizer, AutoModelForSeq2SeqLM)):
        tokenizer = tokenizer_cls.from_pretrained(marian_dir)
        model = model_cls.from_pretrained(marian_dir)
        assert isinstance(tokenizer, MarianTokenizer) and isinstance(model, MarianMTModel)
    vocab = json.loads((marian_dir / "vocab.json").read_text(encoding="utf-8"))
    pad = len(vocab) - 1
    assert (vocab["</s>"], vocab["<unk>"], vocab["<pad>"]) == (0, 1, pad)
    assert (tokenizer.eos_token_id, tokenizer.pad_token_id) == (0, pad)
    assert model.config.decoder_start_token_id == pad == model.config.pad_token_id
    assert model.config.vocab_size == len(vocab)
    assert model.generation_config.bad_words_ids == [[pad]]


def test_marian_target_prefixes_are_single_tokens(marian_dir):
    tokenizer = AutoTokenizer.from_pretrained(marian_dir)
    assert set(tokenizer.supported_language_codes) == set(PREFIXES.values())
    for code in PREFIXES.values():
        ids = tokenizer(f"{code} What is the capital?").input_ids
        assert tokenizer.convert_ids_to_tokens(ids[0]) == code
        assert tokenizer.unk_token_id not in ids


def test_marian_byte_fallback_avoids_unk(marian_dir):
    tokenizer = AutoTokenizer.from_pretrained(marian_dir)
    for text in ["Ωμέγα 😀", *ALL_INLINE]:
        ids = tokenizer(text).input_ids
        assert tokenizer.unk_token_id not in ids
        expected = unicodedata.normalize("NFKC", text)
        assert tokenizer.decode(ids, skip_special_tokens=True) == expected
    labels = tokenizer(text_target="Ωμέγα 河流").input_ids
    assert tokenizer.unk_token_id not in labels


def test_marian_generates(marian_dir):
    tokenizer, model = _load(marian_dir)
    _assert_generates(tokenizer, model, _inline_pairs()[0][:4])


def test_marian_trains_on_parallel_pairs(marian_dir):
    tokenizer, model = _load(marian_dir)
    _assert_learns(_train_losses(model, _batch(tokenizer, *_inline_pairs())))


# --------------------------------------------------------------------------- inline: factory


@pytest.mark.parametrize("fixture", ["mt5_dir", "marian_dir"])
def test_tokenizer_survives_a_second_save(request, tmp_path, fixture):
    """Checkpoints re-save the loaded tokenizer (rayqa.train.checkpoint); ids must not move."""
    tokenizer = AutoTokenizer.from_pretrained(request.getfixturevalue(fixture))
    tokenizer.save_pretrained(tmp_path)
    again = AutoTokenizer.from_pretrained(tmp_path)
    assert type(again) is type(tokenizer) and len(again) == len(tokenizer)
    for text in [*ALL_INLINE, ">>ara<< Paris <extra_id_3>"]:
        assert again(text).input_ids == tokenizer(text).input_ids


def test_builds_are_seeded_and_leave_global_rng_alone(tmp_path):
    state = torch.random.get_rng_state()
    a = build_tiny_marian(ALL_INLINE, ALL_INLINE, tmp_path / "a", seed=3)
    b = build_tiny_marian(ALL_INLINE, ALL_INLINE, tmp_path / "b", seed=3)
    assert torch.equal(torch.random.get_rng_state(), state)
    wa, wb = (MarianMTModel.from_pretrained(p).state_dict() for p in (a, b))
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_custom_dims(tmp_path):
    path = build_tiny_mt5(INLINE["en"], tmp_path, d_model=32, layers=1, heads=4, d_ff=48,
                          extra_ids=0)
    config = AutoModelForSeq2SeqLM.from_pretrained(path).config
    assert (config.d_model, config.num_layers, config.num_decoder_layers) == (32, 1, 1)
    assert (config.num_heads, config.d_kv, config.d_ff) == (4, 8, 48)


def test_vocab_size_grows_to_fit_every_character():
    import sentencepiece as spm

    chars = "".join(chr(c) for c in range(0x4E00, 0x4E00 + 600))  # 600 distinct CJK chars
    model = spm.SentencePieceProcessor(model_proto=train_sentencepiece([chars], vocab_size=100))
    assert model.get_piece_size() > 600
    assert model.unk_id() not in model.encode(chars)


def test_rejects_bad_inputs(tmp_path):
    with pytest.raises(ValueError, match="non-blank"):
        build_tiny_mt5(["", "  "], tmp_path / "m")
    with pytest.raises(ValueError, match=">>xxx<<"):
        build_tiny_marian(ALL_INLINE, ALL_INLINE, tmp_path / "t", target_prefixes=["ara"])


# --------------------------------------------------------------------------- XQuAD (../shared)


def _xquad_questions(shared_dir, lang: str) -> dict[str, str]:
    path = shared_dir / "data" / "xquad" / f"xquad.{lang}.json"
    if not path.is_file():
        pytest.skip(f"needs {path}")
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    return {qa["id"]: qa["question"] for article in data for paragraph in article["paragraphs"]
            for qa in paragraph["qas"]}


def _xquad_contexts(shared_dir, lang: str, articles: int) -> list[str]:
    path = shared_dir / "data" / "xquad" / f"xquad.{lang}.json"
    data = json.loads(path.read_text(encoding="utf-8"))["data"][:articles]
    return [paragraph["context"] for article in data for paragraph in article["paragraphs"]]


@pytest.fixture(scope="module")
def xquad(shared_dir):
    """Questions of every language, aligned by question id."""
    questions = {lang: _xquad_questions(shared_dir, lang) for lang in XQUAD_LANGS}
    ids = sorted(set.intersection(*(set(q) for q in questions.values())))
    assert len(ids) > 100
    return {lang: [questions[lang][i] for i in ids] for lang in XQUAD_LANGS}


@pytest.mark.shared
def test_mt5_on_xquad_builds_fast_and_covers_questions(shared_dir, xquad, tmp_path):
    texts = [q for qs in xquad.values() for q in qs]
    texts += [c for lang in XQUAD_LANGS for c in _xquad_contexts(shared_dir, lang, articles=2)]
    start = time.process_time()  # CPU seconds: wall time depends on what else runs
    path = build_tiny_mt5(texts, tmp_path, vocab_size=8000)
    assert time.process_time() - start < 10
    tokenizer, model = _load(path)
    assert 1000 < len(tokenizer) <= 8000 + 100
    for lang in XQUAD_LANGS:
        batch = tokenizer(xquad[lang][:200], padding=True, return_tensors="pt")
        assert not batch.input_ids.eq(tokenizer.unk_token_id).any(), lang
    _assert_generates(tokenizer, model, [xquad[lang][0] for lang in XQUAD_LANGS])


@pytest.mark.shared
def test_marian_on_xquad_translates_en_to_prefixed_targets(xquad, tmp_path):
    """One en -> {ar, zh, hi, th} model, as OPUS-MT's multilingual-target ones are."""
    src, tgt = [], []
    for lang in ("ar", "zh", "hi", "th"):
        src += [f"{PREFIXES[lang]} {q}" for q in xquad["en"][:300]]
        tgt += xquad[lang][:300]
    start = time.process_time()  # CPU seconds: wall time depends on what else runs
    path = build_tiny_marian(src, tgt, tmp_path, target_prefixes=list(PREFIXES.values()))
    assert time.process_time() - start < 10
    tokenizer, model = _load(path)
    pairs = [(src[i], tgt[i]) for i in range(0, 1200, 150)]  # 2 pairs per target language
    batch = _batch(tokenizer, [s for s, _ in pairs], [t for _, t in pairs])
    codes = [tokenizer.convert_tokens_to_ids(s.split()[0]) for s, _ in pairs]
    assert batch.input_ids[:, 0].tolist() == codes and len(set(codes)) == 4
    assert not batch.input_ids.eq(tokenizer.unk_token_id).any()
    _assert_learns(_train_losses(model, batch))
    _assert_generates(tokenizer, model, src[::300])
