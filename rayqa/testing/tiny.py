"""Tiny multilingual BERT readers built on the fly, for tests and laptop demos.

The tokenizer and model are saved with `save_pretrained` and loaded back with
`AutoTokenizer` / `AutoModelForQuestionAnswering`, so everything downstream runs the
code path of `bert-base-multilingual-cased`, only smaller.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import torch
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
from transformers import BertConfig, BertForQuestionAnswering, BertTokenizerFast

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
CONTINUATION = "##"  # WordPiece's prefix for a piece inside a word


def build_tokenizer(texts: Iterable[str], out_dir: str | Path | None = None,
                    vocab_size: int = 8000) -> BertTokenizerFast:
    """Trains a cased WordPiece tokenizer that covers every script in `texts`.

    The normalization is mBERT's: no lower-casing and no accent stripping (so Devanagari,
    Thai and Arabic marks survive), and every CJK ideograph is its own word. Every
    character seen is in the vocabulary both as a word start and as a `##` continuation,
    because WordPiece turns a whole word into `[UNK]` when one of its characters is missing.

    Args:
        texts: Training text, e.g. the contexts and questions of the data.
        out_dir: Where to `save_pretrained` the tokenizer; not saved when None.
        vocab_size: Target size; the character inventory comes on top when larger.

    Returns:
        The tokenizer, a `BertTokenizerFast`.
    """
    texts = list(texts)
    trainer_tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    trainer_tokenizer.normalizer = _normalizer()
    trainer_tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS,
                                        continuing_subword_prefix=CONTINUATION,
                                        show_progress=False)
    trainer_tokenizer.train_from_iterator(texts, trainer=trainer)
    vocab = _with_all_characters(trainer_tokenizer.get_vocab(), _characters(texts))
    tokenizer = BertTokenizerFast(vocab=vocab, do_lower_case=False, strip_accents=False,
                                  tokenize_chinese_chars=True)
    if out_dir is not None:
        tokenizer.save_pretrained(str(out_dir))
    return tokenizer


def _normalizer() -> normalizers.Normalizer:
    """mBERT's normalizer, the one `BertTokenizerFast` rebuilds from its saved settings."""
    return normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True,
                                      strip_accents=False, lowercase=False)


def _characters(texts: list[str]) -> set[str]:
    """Returns the non-space characters of `texts` after normalization."""
    normalizer = _normalizer()
    return {char for text in texts for char in normalizer.normalize_str(text) if not char.isspace()}


def _with_all_characters(vocab: dict[str, int], characters: set[str]) -> dict[str, int]:
    """Returns `vocab` with ids for each character alone and as a continuation piece."""
    vocab = dict(vocab)
    for char in sorted(characters):
        for piece in (char, CONTINUATION + char):
            vocab.setdefault(piece, len(vocab))
    return vocab


def build_tiny_encoder(tokenizer: str | Path | BertTokenizerFast, out_dir: str | Path,
                       hidden: int = 64, layers: int = 2, heads: int = 2,
                       intermediate: int = 128, max_position: int = 512,
                       seed: int = 0) -> BertForQuestionAnswering:
    """Builds a randomly initialized small BERT reader and saves it with its tokenizer.

    The checkpoint loads with `AutoModelForQuestionAnswering` (span head) and `AutoModel`
    (encoder only, e.g. for dense retrieval).

    Args:
        tokenizer: A tokenizer or the directory it was saved in.
        out_dir: Where the model and tokenizer are saved.
        hidden: Hidden size.
        layers: Number of transformer layers.
        heads: Attention heads per layer.
        intermediate: Feed-forward size.
        max_position: Longest input in tokens.
        seed: Seed of the initialization, so that builds are reproducible.

    Returns:
        The model.
    """
    if not isinstance(tokenizer, BertTokenizerFast):
        tokenizer = BertTokenizerFast.from_pretrained(str(tokenizer))
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=hidden, num_hidden_layers=layers,
                        num_attention_heads=heads, intermediate_size=intermediate,
                        max_position_embeddings=max_position,
                        pad_token_id=tokenizer.pad_token_id)
    # A private RNG state keeps the caller's global torch seed untouched.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = BertForQuestionAnswering(config)
    model.save_pretrained(str(out_dir))
    tokenizer.save_pretrained(str(out_dir))
    return model


def build_tiny_reader(texts: Iterable[str], out_dir: str | Path, vocab_size: int = 8000,
                      **encoder_kwargs: int) -> Path:
    """Trains a tokenizer on `texts` and saves a tiny BERT reader with it in `out_dir`.

    Args:
        texts: Training text for the tokenizer.
        out_dir: The checkpoint directory, loadable with `from_pretrained`.
        vocab_size: Target vocabulary size of the tokenizer.
        **encoder_kwargs: Sizes passed to `build_tiny_encoder`.

    Returns:
        `out_dir` as a Path.
    """
    tokenizer = build_tokenizer(texts, vocab_size=vocab_size)
    build_tiny_encoder(tokenizer, out_dir, **encoder_kwargs)
    return Path(out_dir)
