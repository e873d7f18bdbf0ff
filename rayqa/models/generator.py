"""mGEN (CORA's multilingual answer generator): input formatting, batching and its loss.

The generator is an mT5 seq2seq model; this module holds the parts around it that
training, dev evaluation and inference must agree on. The source string follows the
official CORA conversion script (``mGEN/convert_dpr_retrieval_results_to_seq2seq.py``)::

    <Q>: ロンポールの学部時代の専攻は何? [ja] <P>:<0: ロン・ポール> ロナルド… <1: Ron Paul> Paul…

- ``[lang]`` is the question's language code; it tells mGEN which language to answer in
  (paper §2.1 and Table 7), so ``[ja]`` with an English question asks for a Japanese answer.
- Passages follow ``<P>:`` in retrieval order, each as ``<rank: title> text``.
- Closed-book (no passages, paper B.9) is ``<Q>: question [lang]``.
- The official script deletes newlines; here they become spaces so that words on
  either side of a line break stay apart.

Truncation cuts the end of the tokenized source, so passages are cut (the lowest ranked
first) and the question, in front, is kept. Pure functions, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F

IGNORE_INDEX = -100  # label positions the loss skips (padding)


def _one_line(text: str) -> str:
    return text.replace("\r", " ").replace("\n", " ")


def format_passages(passages: Sequence[Mapping]) -> str:
    """``<0: title> text <1: title> text ...`` for passages in retrieval order.

    Args:
        passages: Dicts with ``"text"`` and optionally ``"title"``.
    """
    context = ""
    for rank, passage in enumerate(passages):
        if context and not context.endswith(" "):
            context += " "
        context += f"<{rank}: {passage.get('title') or ''}> {passage['text']}"
    return context


def format_source(question: str, lang: str | None, passages: Sequence[Mapping] = ()) -> str:
    """The mGEN input for one question.

    Args:
        question: The question text.
        lang: Language code of the answer to generate (the question's language; a
            synthetic example sets another). None leaves the tag out.
        passages: Retrieved passages, best first; empty gives the closed-book input.

    Returns:
        ``<Q>: question [lang] <P>:<0: title> text ...`` on one line.
    """
    source = f"<Q>: {question}" + (f" [{lang}]" if lang else "")
    if passages:
        source += " <P>:" + format_passages(passages)
    return _one_line(source)


def encode_sources(tokenizer, sources: Sequence[str], max_length: int) -> list[list[int]]:
    """Token ids of the sources, cut at ``max_length`` from the end (eos kept)."""
    return tokenizer(list(sources), max_length=max_length, truncation=True)["input_ids"]


def encode_targets(tokenizer, answers: Sequence[str], max_length: int) -> list[list[int]]:
    """Token ids of the target answers, cut at ``max_length`` (eos kept)."""
    return tokenizer(text_target=[_one_line(a) for a in answers], max_length=max_length,
                     truncation=True)["input_ids"]


def _pad(rows: Sequence[Sequence[int]], value: int) -> torch.Tensor:
    width = max(len(row) for row in rows)
    return torch.tensor([list(row) + [value] * (width - len(row)) for row in rows])


def collate(features: Sequence[Mapping], pad_id: int) -> dict[str, torch.Tensor]:
    """Pad a batch to its longest source and target; label padding becomes -100.

    Args:
        features: Dicts with ``"input_ids"`` and ``"labels"`` (lists of ints).
        pad_id: The tokenizer's pad id.
    """
    input_ids = _pad([f["input_ids"] for f in features], pad_id)
    return {"input_ids": input_ids, "attention_mask": input_ids.ne(pad_id).long(),
            "labels": _pad([f["labels"] for f in features], IGNORE_INDEX)}


def shift_right(labels: torch.Tensor, start_id: int, pad_id: int) -> torch.Tensor:
    """Decoder inputs for teacher forcing: the start token, then the labels but the last."""
    shifted = labels.new_full(labels.shape, pad_id)
    shifted[:, 1:] = labels[:, :-1]
    shifted[:, 0] = start_id
    return shifted.masked_fill(shifted.eq(IGNORE_INDEX), pad_id)


def seq2seq_loss(model, batch: Mapping[str, torch.Tensor], label_smoothing: float = 0.0,
                 config=None) -> torch.Tensor:
    """Label-smoothed token cross entropy of ``batch["labels"]`` (mean over real tokens).

    Smoothing as in the official mGEN (fairseq's ``label_smoothed_nll_loss``):
    ``(1 - eps) * nll + eps * mean over the vocabulary of -log p``.

    Args:
        model: A seq2seq model or a DeepSpeed engine around one.
        batch: ``input_ids``, ``attention_mask`` and ``labels`` from :func:`collate`.
        label_smoothing: Epsilon (paper Table 10: 0.1).
        config: The model config (``decoder_start_token_id``, ``pad_token_id``);
            taken from ``model.config`` when None.
    """
    config = config or model.config
    labels = batch["labels"]
    decoder_input_ids = shift_right(labels, config.decoder_start_token_id, config.pad_token_id)
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                   decoder_input_ids=decoder_input_ids).logits
    # Softmax in fp32: bf16 logits lose the small probabilities smoothing spreads mass on.
    return F.cross_entropy(logits.float().flatten(0, 1), labels.flatten(),
                           ignore_index=IGNORE_INDEX, label_smoothing=label_smoothing)
