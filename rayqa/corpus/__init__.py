"""Article collections turned into retrieval passages (CORA / DPR style).

`articles` reads JSONL and wikiextractor output, `chunking` cuts articles into
100-token passages that are exact slices of the article text, `language_links` groups
the same entity across languages, `build` is the Ray Data job and `xquad` builds the
12-language parallel test collection from XQuAD.
"""
