"""rayqa: Ray-native multilingual and cross-lingual question answering.

Importing the package stays light: heavy libraries (torch, ray, transformers) load in
the submodules that need them.
"""

__version__ = "0.1.0"
