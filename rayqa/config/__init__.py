"""Typed, validated configuration: YAML files plus dotted command-line overrides.

Each component has its own config model, in a module next to its kind of job
(``train``: Ray Train + DeepSpeed; ``reader``; ``index``; ``cora``: mDPR, mGEN and the
CORA job; ``dual_bert``: cross-lingual MRC's Dual BERT; ``data_prep``: passages,
translation, mixMRC, phrase mining). A job config groups the ones that job needs, and
code receives only its component's part (``cfg.train``, never the whole tree). ``base``
loads and validates them; unknown keys and wrong types fail with the file and the
dotted key named. The resolved config is written next to every output so a checkpoint
always says what made it.

Everything is re-exported here: ``from rayqa.config import TrainConfig``.
"""

from rayqa.config.base import (BASE_KEY, CONFIG_FILENAME, ConfigError, DataFile, Section,
                               apply_override, build_config, load_config, parse_yaml,
                               save_config)
from rayqa.config.cora import (BaselinesJobConfig, BiEncoderConfig, CORAJobConfig,
                               CORAMDPRConfig, CORAMGENConfig, CORAMiningConfig,
                               CORARetrievalConfig, GeneratorConfig, MDPRDataConfig,
                               MDPRJobConfig, MGENJobConfig)
from rayqa.config.data_prep import (ArticleFile, MixMRCJobConfig, PassagesJobConfig,
                                    PhraseMiningConfig, TranslatorConfig)
from rayqa.config.dual_bert import (DualBertDataConfig, DualBertJobConfig,
                                    DualBertOptionsConfig, FilePair)
from rayqa.config.index import EncoderConfig, IndexConfig, IndexJobConfig
from rayqa.config.reader import (AlignmentConfig, LAKMConfig, ReaderConfig, ReaderJobConfig,
                                 TaskConfig)
from rayqa.config.train import DataConfig, DeepSpeedConfig, TrainConfig
from rayqa.config.translate_test import (CrossLingualTableConfig, ReadingConfig,
                                         TranslateTestJobConfig)

__all__ = [
    "AlignmentConfig", "BASE_KEY", "CONFIG_FILENAME", "ArticleFile", "BaselinesJobConfig",
    "BiEncoderConfig",
    "CORAJobConfig", "CORAMDPRConfig", "CORAMGENConfig", "CORAMiningConfig",
    "CORARetrievalConfig", "ConfigError", "CrossLingualTableConfig", "DataConfig", "DataFile", "DeepSpeedConfig",
    "DualBertDataConfig", "DualBertJobConfig", "DualBertOptionsConfig", "FilePair",
    "EncoderConfig", "GeneratorConfig", "IndexConfig", "IndexJobConfig", "LAKMConfig",
    "MDPRDataConfig", "MDPRJobConfig", "MGENJobConfig", "MixMRCJobConfig",
    "PassagesJobConfig", "PhraseMiningConfig", "ReaderConfig", "ReaderJobConfig",
    "ReadingConfig", "Section", "TaskConfig", "TrainConfig", "TranslateTestJobConfig",
    "TranslatorConfig", "apply_override", "build_config", "load_config", "parse_yaml",
    "save_config",
]
