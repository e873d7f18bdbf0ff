"""Tiny mT5 and Marian checkpoints, built on the fly for tests and the offline demo.

Both factories write an ordinary ``save_pretrained`` directory, so the code under test
loads them through exactly the path that loads ``google/mt5-base`` or
``Helsinki-NLP/opus-mt-en-de`` for real users::

    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSeq2SeqLM.from_pretrained(path)

The SentencePiece vocabularies are trained on the caller's texts in well under a second,
so no model is ever downloaded. The weights are random (seeded): the models generate
gibberish, but they tokenize, batch, train and generate like the real ones.

Layouts written (the same files the hub checkpoints have)::

    build_tiny_mt5:    config.json  generation_config.json  model.safetensors
                       spiece.model  tokenizer.json  tokenizer_config.json
    build_tiny_marian: config.json  generation_config.json  model.safetensors
                       source.spm  target.spm  vocab.json  tokenizer_config.json
"""

from __future__ import annotations

import io
import json
import os
import unicodedata
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path

import sentencepiece as spm
import torch
from sentencepiece import sentencepiece_model_pb2
from transformers import (
    GenerationConfig,
    MarianConfig,
    MarianMTModel,
    MarianTokenizer,
    MT5Config,
    MT5ForConditionalGeneration,
    PreTrainedModel,
    T5Tokenizer,
)

__all__ = ["build_tiny_mt5", "build_tiny_marian", "train_sentencepiece"]

# SentencePiece caps the training input so that a caller passing a whole corpus still
# gets a build in seconds; the sample is evenly spaced, hence deterministic.
MAX_TRAIN_SENTENCES = 20_000
# Unigram training stops early on small corpora (hard_vocab_limit=False), but every
# character must fit (character_coverage=1.0), so the requested size is raised to this.
_BYTE_PIECES = 256
_VOCAB_MARGIN = 64

# Piece types of sentencepiece_model.proto: NORMAL, USER_DEFINED, BYTE are text pieces
# that the Marian vocab needs; UNKNOWN and CONTROL (<s>, </s>) are mapped explicitly.
_TEXT_PIECE_TYPES = (1, 4, 6)

MARIAN_EOS, MARIAN_UNK, MARIAN_PAD = "</s>", "<unk>", "<pad>"


# --------------------------------------------------------------------------- sentencepiece


def _sample_texts(texts: Iterable[str], limit: int = MAX_TRAIN_SENTENCES) -> list[str]:
    """Non-blank texts, thinned to at most ``limit`` evenly spaced ones."""
    kept = [t for t in texts if t and t.strip()]
    if not kept:
        raise ValueError("need at least one non-blank text to train a SentencePiece model")
    if len(kept) <= limit:
        return kept
    step = len(kept) / limit
    return [kept[int(i * step)] for i in range(limit)]


def _min_vocab_size(texts: Sequence[str], byte_fallback: bool) -> int:
    """A vocab size that always fits every character (raw and NFKC-normalized)."""
    chars = set()
    for text in texts:
        chars.update(text)
        chars.update(unicodedata.normalize("NFKC", text))
    return len(chars) + (_BYTE_PIECES if byte_fallback else 0) + _VOCAB_MARGIN


def train_sentencepiece(
    texts: Iterable[str],
    vocab_size: int = 4000,
    *,
    t5_ids: bool = False,
    byte_fallback: bool = True,
) -> bytes:
    """Train a unigram SentencePiece model in memory.

    Args:
        texts: Training sentences in any script; every character gets a piece.
        vocab_size: Upper bound on the vocabulary; a small corpus yields fewer pieces
            and a corpus with more distinct characters raises it as needed.
        t5_ids: Use T5's special ids (pad=0, eos=1, unk=2, no bos) instead of
            SentencePiece's defaults (unk=0, bos=1, eos=2), which Marian models use.
        byte_fallback: Encode unseen characters as UTF-8 byte pieces rather than unk.

    Returns:
        The serialized model (the bytes of a ``.model``/``.spm`` file).
    """
    sample = _sample_texts(texts)
    ids = dict(pad_id=0, eos_id=1, unk_id=2, bos_id=-1) if t5_ids else {}
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(sample),
        model_writer=model,
        model_type="unigram",
        vocab_size=max(vocab_size, _min_vocab_size(sample, byte_fallback)),
        hard_vocab_limit=False,  # a handful of sentences cannot fill thousands of pieces
        character_coverage=1.0,  # CJK, Thai, Arabic, Devanagari: no character is dropped
        byte_fallback=byte_fallback,
        max_sentence_length=1 << 16,  # XQuAD contexts exceed the 4 KiB default in bytes
        num_threads=max(1, min(4, os.cpu_count() or 1)),
        minloglevel=2,
        **ids,
    )
    return model.getvalue()


def _parse_spm(model: bytes) -> sentencepiece_model_pb2.ModelProto:
    proto = sentencepiece_model_pb2.ModelProto()
    proto.ParseFromString(model)
    return proto


# --------------------------------------------------------------------------- models


def _random_model(model_cls: type[PreTrainedModel], config, seed: int) -> PreTrainedModel:
    """Seeded random weights that leave the caller's global RNG state untouched."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return model_cls(config).eval()


def _save(model: PreTrainedModel, tokenizer, generation: GenerationConfig, out_dir: Path) -> Path:
    # transformers 5 reads generation defaults (bad_words_ids, forced eos, ...) from
    # generation_config.json, as the hub checkpoints ship them, not from config.json.
    model.generation_config = generation
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir


# --------------------------------------------------------------------------- mT5


def _mt5_tokenizer(model: bytes, extra_ids: int) -> T5Tokenizer:
    """A T5 tokenizer over a T5-style SentencePiece model plus ``<extra_id_*>`` sentinels.

    transformers 5 has no slow (sentencepiece) T5 tokenizer and no MT5Tokenizer: the
    ``tokenizers``-backed ``T5Tokenizer`` (``T5TokenizerFast`` is an alias) is built from
    the piece scores and the normalizer's precompiled charsmap.
    """
    proto = _parse_spm(model)
    sentinels = [f"<extra_id_{i}>" for i in range(extra_ids)]
    # As in t5/mt5 checkpoints the sentinels close the vocab in reverse order, so
    # <extra_id_0> is the last id.
    vocab = [(p.piece, p.score) for p in proto.pieces] + [(s, 0.0) for s in reversed(sentinels)]
    return T5Tokenizer(
        vocab=vocab,
        _spm_precompiled_charsmap=proto.normalizer_spec.precompiled_charsmap or None,
        extra_ids=extra_ids,
        additional_special_tokens=list(sentinels),
    )


def build_tiny_mt5(
    texts: Iterable[str],
    out_dir: str | os.PathLike,
    *,
    vocab_size: int = 4000,
    d_model: int = 64,
    layers: int = 2,
    heads: int = 2,
    d_ff: int = 128,
    extra_ids: int = 100,
    dropout: float = 0.1,
    seed: int = 0,
) -> Path:
    """Write a tiny random mT5 checkpoint whose tokenizer is trained on ``texts``.

    Like ``google/mt5-*``: pad=0, eos=1, unk=2, decoding starts from pad, gated-GELU
    feed-forward, ``<extra_id_0..extra_ids-1>`` sentinels at the end of the vocab.
    The tokenizer has no byte fallback (neither has mT5's): characters absent from
    ``texts`` encode as ``<unk>``.

    Args:
        texts: Sentences to train the SentencePiece vocabulary on (all languages the
            test will feed in).
        out_dir: Directory to write; created if missing.
        vocab_size: Upper bound on the SentencePiece vocabulary (see
            :func:`train_sentencepiece`).
        d_model: Hidden size.
        layers: Encoder layers, and as many decoder layers.
        heads: Attention heads; ``d_kv = d_model // heads``.
        d_ff: Feed-forward size.
        extra_ids: Number of ``<extra_id_*>`` sentinel tokens.
        dropout: Dropout rate (0.1 as in mT5).
        seed: Seed for the random weights.

    Returns:
        ``out_dir`` as a Path, loadable with ``AutoTokenizer`` and
        ``AutoModelForSeq2SeqLM``.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    # byte_fallback off: the tokenizers-backed T5Tokenizer rebuilds its Unigram model
    # without byte fallback on every load, so byte pieces would only waste ids.
    model_bytes = train_sentencepiece(texts, vocab_size, t5_ids=True, byte_fallback=False)
    tokenizer = _mt5_tokenizer(model_bytes, extra_ids)
    config = MT5Config(
        vocab_size=len(tokenizer),
        d_model=d_model,
        d_kv=d_model // heads,
        d_ff=d_ff,
        num_layers=layers,
        num_decoder_layers=layers,
        num_heads=heads,
        dropout_rate=dropout,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.pad_token_id,
    )
    model = _random_model(MT5ForConditionalGeneration, config, seed)
    generation = GenerationConfig(
        decoder_start_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    # The hub checkpoints ship spiece.model next to tokenizer.json; tokenizer.json wins
    # on load, the .model keeps the layout (and sentencepiece users) identical.
    (out_dir / "spiece.model").write_bytes(model_bytes)
    return _save(model, tokenizer, generation, out_dir)


# --------------------------------------------------------------------------- Marian


def _marian_vocab(spm_models: Sequence[bytes], target_prefixes: Sequence[str]) -> dict[str, int]:
    """The shared vocab.json of OPUS-MT: eos, unk, language codes, pieces, then pad.

    MarianTokenizer maps SentencePiece pieces through this file (their spm ids are not
    used), strips a leading ``>>xxx<<`` code before SentencePiece and looks it up here,
    so a code listed here encodes as one token.
    """
    vocab = {MARIAN_EOS: 0, MARIAN_UNK: 1}
    for prefix in target_prefixes:
        if not (prefix.startswith(">>") and prefix.endswith("<<")):
            raise ValueError(f"target prefix {prefix!r} is not of the form >>xxx<<")
        vocab.setdefault(prefix, len(vocab))
    for model in spm_models:
        for piece in _parse_spm(model).pieces:
            if piece.type in _TEXT_PIECE_TYPES:
                vocab.setdefault(piece.piece, len(vocab))
    vocab[MARIAN_PAD] = len(vocab)  # pad is the last id, as in every OPUS-MT vocab
    return vocab


def _marian_tokenizer(out_dir: Path, source: bytes, target: bytes, vocab: dict) -> MarianTokenizer:
    """Write source.spm, target.spm and vocab.json into ``out_dir`` and load them."""
    (out_dir / "source.spm").write_bytes(source)
    (out_dir / "target.spm").write_bytes(target)
    vocab_json = json.dumps(vocab, ensure_ascii=False, indent=1)
    (out_dir / "vocab.json").write_text(vocab_json, encoding="utf-8")
    with warnings.catch_warnings():
        # MarianTokenizer warns on every construction when sacremoses is absent.
        warnings.filterwarnings("ignore", message="Recommended: pip install sacremoses")
        return MarianTokenizer(
            source_spm=str(out_dir / "source.spm"),
            target_spm=str(out_dir / "target.spm"),
            vocab=str(out_dir / "vocab.json"),
        )


def build_tiny_marian(
    src_texts: Iterable[str],
    tgt_texts: Iterable[str],
    out_dir: str | os.PathLike,
    target_prefixes: list[str] | None = None,
    *,
    vocab_size: int = 4000,
    d_model: int = 64,
    layers: int = 2,
    heads: int = 2,
    d_ff: int = 128,
    dropout: float = 0.1,
    seed: int = 0,
) -> Path:
    """Write a tiny random MarianMT (OPUS-MT style) checkpoint.

    Like ``Helsinki-NLP/opus-mt-*``: one SentencePiece model per side, a shared
    vocab.json with eos=0, unk=1 and pad last, decoding starts from pad, shared
    encoder/decoder/output embeddings, sinusoidal positions, swish activations, and a
    generation config that bans pad (but keeps the default ``max_length`` of 20 where
    OPUS-MT sets 512: random weights would otherwise generate 512 tokens). Both
    SentencePiece models use byte fallback, so any text encodes without ``<unk>``.

    Args:
        src_texts: Source-side sentences for ``source.spm``.
        tgt_texts: Target-side sentences for ``target.spm``.
        out_dir: Directory to write; created if missing.
        target_prefixes: Language codes such as ``">>ara<<"`` that multilingual-target
            OPUS-MT models expect at the start of the source; each becomes one token.
        vocab_size: Upper bound on each SentencePiece vocabulary.
        d_model: Hidden size.
        layers: Encoder layers, and as many decoder layers.
        heads: Attention heads.
        d_ff: Feed-forward size.
        dropout: Dropout rate (0.1 as in OPUS-MT).
        seed: Seed for the random weights.

    Returns:
        ``out_dir`` as a Path, loadable with ``MarianTokenizer``/``AutoTokenizer`` and
        ``MarianMTModel``/``AutoModelForSeq2SeqLM``.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    source = train_sentencepiece(src_texts, vocab_size)
    target = train_sentencepiece(tgt_texts, vocab_size)
    vocab = _marian_vocab([source, target], target_prefixes or [])
    tokenizer = _marian_tokenizer(out_dir, source, target, vocab)
    pad, eos = vocab[MARIAN_PAD], vocab[MARIAN_EOS]
    config = MarianConfig(
        vocab_size=len(vocab),
        d_model=d_model,
        encoder_layers=layers,
        decoder_layers=layers,
        encoder_attention_heads=heads,
        decoder_attention_heads=heads,
        encoder_ffn_dim=d_ff,
        decoder_ffn_dim=d_ff,
        max_position_embeddings=512,
        activation_function="swish",
        dropout=dropout,
        scale_embedding=True,
        pad_token_id=pad,
        eos_token_id=eos,
        forced_eos_token_id=eos,
        decoder_start_token_id=pad,
    )
    model = _random_model(MarianMTModel, config, seed)
    generation = GenerationConfig(
        bad_words_ids=[[pad]],  # OPUS-MT never emits pad, which is also the start token
        decoder_start_token_id=pad,
        eos_token_id=eos,
        forced_eos_token_id=eos,
        pad_token_id=pad,
    )
    return _save(model, tokenizer, generation, out_dir)
