"""mDPR bi-encoder: a question encoder, a passage encoder, relevance by inner product.

DPR (Karpukhin et al., 2020) and CORA's mDPR start both encoders from the same
multilingual BERT and train them apart. A question is encoded as `[CLS] question [SEP]`,
a passage as `[CLS] title [SEP] text [SEP]`, each pooled to its `[CLS]` state (no
pooler layer), exactly as `rayqa.retrieval.encode.TextEncoder` with `pooling="cls"`
encodes them: a saved encoder directory indexes and queries without conversion.

Saved layout (`save_pretrained`)::

    query_encoder/     AutoModel + tokenizer: encodes questions
    passage_encoder/   AutoModel + tokenizer: encodes passages for the index
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

QUERY_DIR = "query_encoder"
PASSAGE_DIR = "passage_encoder"
PADDING_KEY = -1  # passage key of an empty hard-negative slot


class BiEncoder(nn.Module):
    """Two transformer encoders whose `[CLS]` vectors score by inner product.

    Args:
        query_encoder: An `AutoModel` (e.g. `BertModel`) for questions.
        passage_encoder: An `AutoModel` for `title [SEP] text` passages.
    """

    def __init__(self, query_encoder: nn.Module, passage_encoder: nn.Module):
        super().__init__()
        self.query_encoder = query_encoder
        self.passage_encoder = passage_encoder

    @classmethod
    def from_pretrained(cls, name_or_path: str | Path) -> BiEncoder:
        """Loads a saved bi-encoder, or starts both encoders from one checkpoint.

        Args:
            name_or_path: A directory written by `save_pretrained` (with `query_encoder/`
                and `passage_encoder/`), or any `AutoModel` name or directory, which
                initializes both encoders (DPR's start from BERT).
        """
        path = Path(name_or_path)
        if (path / QUERY_DIR).is_dir() and (path / PASSAGE_DIR).is_dir():
            return cls(_load_encoder(path / QUERY_DIR), _load_encoder(path / PASSAGE_DIR))
        return cls(_load_encoder(name_or_path), _load_encoder(name_or_path))

    def save_pretrained(self, directory: str | Path, state_dict: dict | None = None) -> None:
        """Writes `query_encoder/` and `passage_encoder/`, each an `AutoModel` directory.

        Args:
            directory: The output directory.
            state_dict: Weights of the whole bi-encoder (keys `query_encoder.*`,
                `passage_encoder.*`), e.g. gathered from ZeRO-3; the module's own when None.
        """
        state_dict = self.state_dict() if state_dict is None else state_dict
        for name in (QUERY_DIR, PASSAGE_DIR):
            prefix = name + "."
            part = {k[len(prefix):]: v for k, v in state_dict.items() if k.startswith(prefix)}
            getattr(self, name).save_pretrained(str(Path(directory) / name), state_dict=part)

    def encode_queries(self, **inputs: torch.Tensor) -> torch.Tensor:
        """`[batch, dim]` question vectors from tokenizer outputs."""
        return cls_pool(self.query_encoder, inputs)

    def encode_passages(self, **inputs: torch.Tensor) -> torch.Tensor:
        """`[batch, dim]` passage vectors from tokenizer outputs of (title, text) pairs."""
        return cls_pool(self.passage_encoder, inputs)

    def forward(self, queries: dict[str, torch.Tensor],
                passages: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns the question and passage vectors of one batch."""
        return self.encode_queries(**queries), self.encode_passages(**passages)


def _load_encoder(name_or_path: str | Path) -> nn.Module:
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(name_or_path))
    # CLS pooling never uses BERT's pooler. It stays in the model so the saved encoder
    # loads without missing weights, but frozen: it never gets a gradient.
    if getattr(model, "pooler", None) is not None:
        model.pooler.requires_grad_(False)
    return model


def cls_pool(encoder: nn.Module, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
    """The final hidden state of the first (`[CLS]`) token."""
    return encoder(**inputs).last_hidden_state[:, 0]


def biencoder_nll(queries: torch.Tensor, passages: torch.Tensor, positive_cols: torch.Tensor,
                  passage_keys: torch.Tensor | None = None
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """DPR's loss: NLL of each question's positive against every other passage.

    Args:
        queries: `[q, dim]` question vectors.
        passages: `[p, dim]` passage vectors: the positives and hard negatives of all
            the questions (the whole global batch in distributed training).
        positive_cols: `[q]` column of each question's positive in `passages`.
        passage_keys: `[p]` int64 identity of each passage. A column holding the same
            passage as a question's positive (another question on the same paragraph)
            is no negative for it and is masked; key `PADDING_KEY` marks an empty
            hard-negative slot, masked for every question.

    Returns:
        The mean loss and the `[q, p]` score matrix (masked entries `-inf`).
    """
    scores = queries @ passages.T
    if passage_keys is not None:
        rows = torch.arange(len(positive_cols), device=scores.device)
        own = passage_keys[positive_cols]
        masked = (passage_keys[None, :] == own[:, None]) | (passage_keys[None, :] == PADDING_KEY)
        masked[rows, positive_cols] = False
        scores = scores.masked_fill(masked, float("-inf"))
    return F.cross_entropy(scores, positive_cols), scores
