"""What a zoo cell is: one shared shape, a sharing mode × an embedding type, a seed; names and the grid."""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import nn

from albertviz.core.config import EMBEDDING_TYPES, SHARING_MODES, ModelConfig
from albertviz.core.model import MaskedLM
from albertviz.data.tokenizer import ZOO_VOCAB_SIZE, load_tokenizer, vocab_list
from albertviz.training.config import TrainConfig


class Cell(NamedTuple):
    """One zoo cell: a sharing mode × an embedding type. Its name ('all-hashed') keys the manifest, files and URLs."""

    sharing: str
    embedding: str

    @property
    def name(self) -> str:
        return f"{self.sharing}-{self.embedding}"

    @classmethod
    def parse(cls, name: str) -> Cell:
        """'all-hashed' -> Cell('all', 'hashed'); ValueError for anything that is not a cell of the grid."""
        sharing, _, embedding = name.partition("-")
        if sharing not in SHARING_MODES or embedding not in EMBEDDING_TYPES:
            raise ValueError(f"{name!r} is not a zoo cell: expected SHARING-EMBEDDING, sharing one of "
                             f"{', '.join(SHARING_MODES)} and embedding one of {', '.join(EMBEDDING_TYPES)}.")
        return cls(sharing, embedding)


def zoo_config(sharing: str, embedding: str) -> ModelConfig:
    """The one shape every zoo cell shares; only sharing and embedding differ."""
    return ModelConfig(vocab_size=ZOO_VOCAB_SIZE, hidden_size=128, num_layers=6, num_heads=4, intermediate_size=512,
                       max_position_embeddings=128, embedding=embedding, sharing=sharing,
                       # E=48: at E=32 the factorized cells ended at 1.8-2.0x the baseline (zoo v1)
                       embedding_size=48 if embedding == "factorized" else 128, pooler=False,
                       # unit-length hashed vectors: 15.4% vs 11.9% held-out accuracy after 600 steps (zoo v1)
                       hash_normalize=embedding == "hashed")


def weights_name(sharing: str, embedding: str, seed: int) -> str:
    """File stem of a cell's weights: 'none-full' for seed 0 (what the pages show), 'none-full.seed1' etc."""
    return Cell(sharing, embedding).name + (f".seed{seed}" if seed else "")


def new_model(sharing: str, embedding: str, seed: int = 0,
              factorized_word_std: float = TrainConfig.factorized_word_std) -> MaskedLM:
    """A freshly initialised zoo cell, exactly as the trainer starts it."""
    mcfg = zoo_config(sharing, embedding)
    torch.manual_seed(seed)
    model = MaskedLM(mcfg, vocab_list(load_tokenizer()))
    proj = model.encoder.embeddings.projection
    if proj is not None:  # keep the projected vectors' scale close to a full table's
        nn.init.normal_(proj.weight, std=1 / math.sqrt(mcfg.E))
        nn.init.normal_(model.encoder.embeddings.word_embeddings.weight, std=factorized_word_std)
    return model


def grid(seeds: tuple[int, ...] = (0, 1, 2)) -> list[tuple[str, str, int]]:
    """Every cell at seed 0 (grid order), then the extra seeds of the four full-embedding cells."""
    cells = [(s, e, 0) for e in EMBEDDING_TYPES for s in SHARING_MODES]
    return cells + [(s, "full", seed) for seed in seeds if seed for s in SHARING_MODES]
