"""A loaded model (zoo cell, MiniLM or a user's checkpoint) with what a page needs to run it on a sentence."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from tokenizers import Tokenizer

from albertviz.core.config import ModelConfig
from albertviz.core.model import Encoder, MaskedLM, MLMHead
from albertviz.data.tokenizer import encode
from albertviz.zoo.manifest_file import ZooError


@dataclass
class ZooModel:
    """A loaded model with everything a page needs to run it on a sentence."""

    name: str
    encoder: Encoder
    head: MLMHead | None
    tokenizer: Tokenizer
    entry: dict

    @property
    def config(self) -> ModelConfig:
        return self.encoder.config

    def encode(self, text: str, pair: str | None = None):
        return encode(self.tokenizer, text, pair, max_len=self.config.max_position_embeddings)

    lm: MaskedLM | None = None  # encoder + head as one module (zoo cells only)

    def as_masked_lm(self) -> MaskedLM:
        """The encoder and head as one MaskedLM (what the trainer's evaluation takes)."""
        if self.lm is None:
            raise ZooError(f"{self.name} has no MLM head.")
        return self.lm

    @torch.no_grad()
    def run(self, text: str, pair: str | None = None):
        """(Encoded, EncoderOutput) for one sentence (or pair), attentions included."""
        enc = self.encode(text, pair)
        ids = torch.tensor([enc.ids])
        out = self.encoder(ids, token_type_ids=torch.tensor([enc.type_ids]))
        return enc, out

    @torch.no_grad()
    def predict_masked(self, text: str, top_k: int = 5, target: str | None = None) -> list[dict]:
        """For each [MASK] in `text`: its position and the top-k tokens with probabilities.

        With `target` (the hidden word), each result also gives its probability and rank (1 = the model's first
        guess) when the target is one piece of this model's vocabulary, else None for both.
        """
        if self.head is None:
            raise ZooError(f"{self.name} has no MLM head, so it cannot fill in [MASK].")
        enc, out = self.run(text)
        mask_id = self.tokenizer.token_to_id("[MASK]")
        logits = self.head(out.last_hidden_state[0], self.encoder.embeddings.word_matrix())
        target_id = self.tokenizer.token_to_id(target.lower()) if target else None
        results = []
        for pos, tid in enumerate(enc.ids):
            if tid != mask_id:
                continue
            probs = logits[pos].float().softmax(-1)
            p, ids = probs.topk(top_k)
            r = {"position": pos, "tokens": [self.tokenizer.id_to_token(int(i)) for i in ids],
                 "probs": [float(x) for x in p], "target_prob": None, "target_rank": None}
            if target_id is not None:
                r["target_prob"] = float(probs[target_id])
                r["target_rank"] = int((probs > probs[target_id]).sum()) + 1
            results.append(r)
        return results
