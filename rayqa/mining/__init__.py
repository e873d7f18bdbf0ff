"""rayqa.mining: training data mining (CORA's cross-lingual positives and negatives)."""
