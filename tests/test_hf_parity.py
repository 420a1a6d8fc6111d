"""albertviz's Encoder reproduces Hugging Face BERT and ALBERT exactly (tiny random models, no download)."""

import pytest
import torch
from transformers import AlbertConfig, AlbertModel, BertConfig, BertModel

from albertviz import count_parameters, from_hf

TOL = 1e-5


def tiny_bert(**kw) -> BertModel:
    cfg = BertConfig(vocab_size=99, hidden_size=32, num_hidden_layers=3, num_attention_heads=4,
                     intermediate_size=37, max_position_embeddings=40, attn_implementation="eager", **kw)
    torch.manual_seed(0)
    return BertModel(cfg).eval()


def tiny_albert(**kw) -> AlbertModel:
    cfg = AlbertConfig(vocab_size=99, embedding_size=16, hidden_size=32, num_hidden_layers=4,
                       num_attention_heads=4, intermediate_size=37, max_position_embeddings=40,
                       attn_implementation="eager", **kw)
    torch.manual_seed(0)
    return AlbertModel(cfg).eval()


def batch():
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(0, 99, (2, 11), generator=g)
    mask = torch.ones_like(ids)
    mask[1, 7:] = 0  # padding in the second sentence
    types = torch.zeros_like(ids)
    types[:, 5:] = 1
    return ids, mask, types


@pytest.mark.parametrize("make", [tiny_bert, tiny_albert, lambda: tiny_bert(hidden_act="relu")],
                         ids=["bert", "albert", "bert-relu"])
def test_every_hidden_state_and_attention_matches_hf(make):
    hf = make()
    ours = from_hf(hf)
    ids, mask, types = batch()
    with torch.no_grad():
        theirs = hf(ids, attention_mask=mask, token_type_ids=types, output_hidden_states=True,
                    output_attentions=True)
        mine = ours(ids, attention_mask=mask, token_type_ids=types)
    assert len(mine.hidden_states) == len(theirs.hidden_states) == hf.config.num_hidden_layers + 1
    for a, b in zip(mine.hidden_states, theirs.hidden_states, strict=True):
        torch.testing.assert_close(a, b, atol=TOL, rtol=0)
    assert len(mine.attentions) == len(theirs.attentions)
    for a, b in zip(mine.attentions, theirs.attentions, strict=True):
        torch.testing.assert_close(a, b, atol=TOL, rtol=0)
    torch.testing.assert_close(mine.pooler_output, theirs.pooler_output, atol=TOL, rtol=0)


def test_fast_path_gives_the_same_hidden_states_without_attentions():
    ours = from_hf(tiny_bert())
    ids, mask, types = batch()
    with torch.no_grad():
        slow = ours(ids, mask, types, output_attentions=True)
        fast = ours(ids, mask, types, output_attentions=False)
    assert fast.attentions == ()
    torch.testing.assert_close(fast.last_hidden_state, slow.last_hidden_state, atol=TOL, rtol=0)


def test_model_without_pooler_loads_and_counts_like_hf():
    hf = BertModel(tiny_bert().config, add_pooling_layer=False)
    ours = from_hf(hf)
    assert ours.pooler is None
    assert count_parameters(ours.config).total == sum(p.numel() for p in hf.parameters())
