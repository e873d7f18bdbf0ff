"""The reader of multi-task training: a span head and an MLM head on one shared encoder.

The span head is the checkpoint's ``AutoModelForQuestionAnswering``; the MLM head is the
one of ``AutoModelForMaskedLM`` for the same checkpoint (pre-trained weights where the
checkpoint has them, as ``bert-base-multilingual-cased`` and ``xlm-roberta-*`` do), with
its encoder replaced by the reader's and its output projection tied to the reader's input
embeddings, as in BERT pre-training. Saving writes the reader alone: what multi-task
training produces is a reader, loadable by ``AutoModelForQuestionAnswering``.
"""

from __future__ import annotations

from torch import nn


class MultiTaskReader(nn.Module):
    """A question-answering model and optionally an MLM head sharing its encoder.

    Args:
        qa: An ``AutoModelForQuestionAnswering`` model.
        mlm: An ``AutoModelForMaskedLM`` model of the same architecture, or None; its
            encoder is discarded and replaced by ``qa``'s.
    """

    def __init__(self, qa, mlm=None):
        super().__init__()
        self.qa = qa
        self.mlm = mlm
        if mlm is not None:
            setattr(mlm, mlm.base_model_prefix, qa.base_model)
            mlm.tie_weights()  # decoder weight <- the (now shared) word embeddings

    @classmethod
    def from_pretrained(cls, name_or_path: str, with_mlm: bool = True) -> MultiTaskReader:
        """Load the reader (and the MLM head) from a hub name or directory."""
        from transformers import AutoModelForMaskedLM, AutoModelForQuestionAnswering

        qa = AutoModelForQuestionAnswering.from_pretrained(name_or_path)
        mlm = AutoModelForMaskedLM.from_pretrained(name_or_path) if with_mlm else None
        return cls(qa, mlm)

    @property
    def config(self):
        return self.qa.config

    def forward(self, task: str = "mrc", **inputs):
        """The span model's output, or the MLM head's for ``task="lakm"``."""
        if task == "lakm":
            if self.mlm is None:
                raise ValueError("this reader was built without an MLM head")
            return self.mlm(**inputs)
        return self.qa(**inputs)

    def save_pretrained(self, directory, state_dict=None, **kwargs) -> None:
        """Save the reader as a plain ``from_pretrained`` directory (no MLM head).

        ``state_dict`` is this module's full state dict when given (ZeRO-3 gathers it).
        """
        if state_dict is not None:
            state_dict = {k[len("qa."):]: v for k, v in state_dict.items() if k.startswith("qa.")}
        self.qa.save_pretrained(directory, state_dict=state_dict, **kwargs)
