"""Cross-lingual machine reading comprehension (Cui et al., 2019), the method itself:
answer alignment for back-translation (SimpleMatch, `rayqa.crosslingual.matching`), the
pieces a passage is translated in (`rayqa.crosslingual.translation_units`), the inputs of
the Answer Aligner and Answer Verifier (`rayqa.crosslingual.features`) and of Dual BERT
(`rayqa.crosslingual.dual_bert_features`; the layers are `rayqa.models.dual_bert`). The
jobs that chain these with training and translation are in `rayqa.pipelines`."""

from rayqa.crosslingual.matching import char_f1, simple_match

__all__ = ["char_f1", "simple_match"]
