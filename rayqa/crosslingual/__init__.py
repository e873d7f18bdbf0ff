"""Cross-lingual machine reading comprehension (Cui et al., 2019): answer alignment for
back-translation (SimpleMatch) and, in `rayqa.models.dual_bert`, the Dual BERT layers."""

from rayqa.crosslingual.simple_match import char_f1, simple_match

__all__ = ["char_f1", "simple_match"]
