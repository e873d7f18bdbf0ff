"""Cross-lingual machine reading comprehension (Cui et al., 2019): answer alignment for
back-translation (SimpleMatch, `rayqa.crosslingual.matching`), the inputs of the Answer
Aligner and Answer Verifier (`rayqa.crosslingual.features`) and, in
`rayqa.models.dual_bert`, the Dual BERT layers."""

from rayqa.crosslingual.matching import char_f1, simple_match

__all__ = ["char_f1", "simple_match"]
