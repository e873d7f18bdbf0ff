"""Answerers: turn a question and passages into an answer (extractive today)."""
