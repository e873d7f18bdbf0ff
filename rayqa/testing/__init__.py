"""Test and demo utilities: tiny models built on the fly (tokenizers trained, weights random)."""
