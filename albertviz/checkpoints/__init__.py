"""Your own BERT / ALBERT checkpoints: found offline at server start, checked, loaded lazily.

- Where: folders in `ALBERTVIZ_MODELS` (os.pathsep-separated; a model folder, or a folder of model
  folders) and the local Hugging Face hub cache (`HF_HUB_CACHE`, else `HF_HOME`/hub, else
  ~/.cache/huggingface/hub), whose `models--org--name/snapshots/<hash>/` folders are read, never written.
- What: a folder whose config.json says `model_type` albert or bert. Discovery reads only config.json and
  the safetensors *headers* (no tensors, no transformers import), so it is fast and cannot run code.
- Safety: weights are loaded from safetensors only; a checkpoint with only pytorch_model.bin (pickle) is
  listed as unavailable with the command that converts it. Nothing is fetched: `local_files_only=True`
  and `HF_HUB_OFFLINE=1`.
- Size: a model whose fp32 weights exceed `ALBERTVIZ_MAX_MODEL_MB` (default 2000) is listed as skipped.
  Loading briefly holds two copies (the HF model and albertviz's), so peak memory is about twice that.
The list is fixed when first read (`discover()` is cached): the UI offers keys, never paths.
"""

from albertviz.checkpoints.discovery import (
    Discovery,
    configured_folders,
    discover,
    find,
    hub_cache_dir,
    scan,
)
from albertviz.checkpoints.inspection import (
    KEY_PREFIX,
    MAX_MB_ENV,
    MODELS_ENV,
    Checkpoint,
    CheckpointError,
    convert_command,
    inspect_folder,
    max_model_mb,
    read_safetensors_header,
)
from albertviz.checkpoints.loading import load
from albertviz.checkpoints.tokenizer import load_checkpoint_tokenizer, sentencepiece_tokenizer, wordpiece_tokenizer
from albertviz.zoo import ZooError

__all__ = ["KEY_PREFIX", "MAX_MB_ENV", "MODELS_ENV", "Checkpoint", "CheckpointError", "Discovery", "ZooError",
           "configured_folders", "convert_command", "discover", "find", "hub_cache_dir", "inspect_folder", "load",
           "load_checkpoint_tokenizer", "max_model_mb", "read_safetensors_header", "scan", "sentencepiece_tokenizer",
           "wordpiece_tokenizer"]
