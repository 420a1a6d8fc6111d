"""What one surgery did to a loaded model (MiniLM or a user's checkpoint), measured on one sentence.

Parameters before and after come from `count_parameters` (the counter every page uses); the effect is
measured by running both encoders: hidden-state cosine and attention movement (`surgery.drift`) and, when
the model has its own masked-word head, the pseudo-log-likelihood of the sentence before and after.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from tokenizers import Tokenizer

from albertviz.analysis.masked_loss import MaskedLoss, pseudo_masked_loss
from albertviz.analysis.surgery import SurgeryResult, drift
from albertviz.core.model import Encoder, EncoderOutput
from albertviz.core.params import count_parameters
from albertviz.data.tokenizer import Encoded
from albertviz.zoo.model import ZooModel


@dataclass(frozen=True)
class SurgeryEffect:
    tokens: list[str]
    before: int  # parameters of the encoder as loaded
    after: int  # parameters of the operated encoder
    cosine: np.ndarray  # (T,) last hidden state vs the original's
    tv: np.ndarray  # (L,) attention movement per layer
    loss_before: MaskedLoss | None  # None without an MLM head
    loss_after: MaskedLoss | None

    @property
    def saving(self) -> float:
        return 1 - self.after / self.before

    def sentence(self, name: str) -> str:
        """The page's computed summary of the surgery's price and effect."""
        text = (f"This operation changes {name} from {self.before:,} to {self.after:,} parameters "
                f"({self.saving:.0%} saved) and leaves the final hidden states at mean cosine "
                f"{self.cosine.mean():.2f} to the original's.")
        if self.loss_before is not None and self.loss_after is not None:
            b, a = self.loss_before, self.loss_after
            change = round(a.mean_nll - b.mean_nll, 2) + 0.0  # + 0.0 turns -0.0 into 0.0: no "-0.00"
            text += (f" Masking each of the sentence's {len(b.nll)} word pieces in turn, its own MLM head's loss "
                     f"goes from {b.mean_nll:.2f} to {a.mean_nll:.2f} nats ({change:+.2f}) and "
                     f"its first guess is right {b.accuracy:.0%} → {a.accuracy:.0%} of the time.")
        else:
            text += " It has no masked-word head, so the loss on masked words cannot be measured."
        return text


def special_ids(tokenizer: Tokenizer) -> set[int]:
    """[CLS], [SEP], [PAD]…: positions a masked-word score leaves out."""
    return {i for i, t in tokenizer.get_added_tokens_decoder().items() if t.special}


def masked_loss(model: ZooModel, encoder: Encoder, enc: Encoded) -> MaskedLoss | None:
    """`encoder` (the model's own or an operated one) under the model's own head and output table."""
    mask_id = model.tokenizer.token_to_id("[MASK]")
    if model.head is None or mask_id is None:
        return None
    return pseudo_masked_loss(encoder, model.head, enc.ids, enc.type_ids, mask_id, special_ids(model.tokenizer),
                              word_matrix=model.encoder.embeddings.word_matrix())


@torch.no_grad()
def surgery_effect(model: ZooModel, result: SurgeryResult, enc: Encoded, base: EncoderOutput) -> SurgeryEffect:
    """Run the operated encoder on the sentence the original already ran (`base`) and compare."""
    new = result.encoder(torch.tensor([enc.ids]), token_type_ids=torch.tensor([enc.type_ids]))
    d = drift(base, new)
    return SurgeryEffect(enc.tokens, count_parameters(model.config).total, result.report.total, d.token_cosine,
                         d.attention_tv, masked_loss(model, model.encoder, enc),
                         masked_loss(model, result.encoder, enc))
