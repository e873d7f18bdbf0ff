"""Training-data augmentation: mixMRC translated and mixed-language pairs, and
sentence-order copies (``rayqa.augment.sentence_order``).

``rayqa.augment.mixmrc`` holds the per-example logic (answer markers, span recovery,
mixed pairs, the skip table) as pure functions over any ``Translator``;
``rayqa.augment.mixmrc_job`` runs it over whole files with Ray Data and writes the
outputs. Importing this package loads neither Ray nor torch.
"""
