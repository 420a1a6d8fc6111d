"""albertviz: see what cross-layer parameter sharing and cheaper embeddings do to a transformer."""

from albertviz import zoo  # the model zoo: zoo.load, zoo.list_models
from albertviz.core.config import PRESETS, ConfigError, ModelConfig
from albertviz.core.hf import from_hf
from albertviz.core.model import Encoder, EncoderOutput, MaskedLM, MLMHead
from albertviz.core.params import ParamReport, count_parameters
from albertviz.core.sharing import layer_plan

__all__ = ["PRESETS", "ConfigError", "Encoder", "EncoderOutput", "MLMHead", "MaskedLM", "ModelConfig",
           "ParamReport", "count_parameters", "from_hf", "layer_plan", "zoo"]
