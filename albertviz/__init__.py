"""albertviz: see what cross-layer parameter sharing and cheaper embeddings do to a transformer."""

from .config import PRESETS, ConfigError, ModelConfig
from .hf import from_hf
from .model import Encoder, EncoderOutput, MaskedLM, MLMHead
from .params import ParamReport, count_parameters
from .sharing import layer_plan

__all__ = ["PRESETS", "ConfigError", "Encoder", "EncoderOutput", "MLMHead", "MaskedLM", "ModelConfig",
           "ParamReport", "count_parameters", "from_hf", "layer_plan"]
