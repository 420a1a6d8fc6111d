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


# ---------------------------------------------------------------- MLM heads, ALBERT layer groups, E = H

def tiny_mlm(kind: str, **kw):
    """A tiny random …ForMaskedLM; biases and LayerNorms randomised too, so a skipped copy shows."""
    from transformers import AlbertForMaskedLM, BertForMaskedLM

    if kind == "bert":
        cfg = BertConfig(vocab_size=99, hidden_size=32, num_hidden_layers=3, num_attention_heads=4,
                         intermediate_size=37, max_position_embeddings=40, attn_implementation="eager", **kw)
        cls = BertForMaskedLM
    else:
        cfg = AlbertConfig(**{**dict(vocab_size=99, embedding_size=16, hidden_size=32, num_hidden_layers=4,
                                     num_attention_heads=4, intermediate_size=37, max_position_embeddings=40,
                                     attn_implementation="eager"), **kw})
        cls = AlbertForMaskedLM
    torch.manual_seed(0)
    model = cls(cfg).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias") or "LayerNorm" in name:
                p.add_(torch.randn_like(p) * 0.1)
    return model


def assert_same_outputs(hf, ours, ids, mask, types):
    with torch.no_grad():
        theirs = hf(ids, attention_mask=mask, token_type_ids=types, output_hidden_states=True, output_attentions=True)
        mine = ours.encoder(ids, attention_mask=mask, token_type_ids=types) if hasattr(ours, "encoder") else \
            ours(ids, attention_mask=mask, token_type_ids=types)
    assert len(mine.hidden_states) == len(theirs.hidden_states)
    for a, b in zip(mine.hidden_states, theirs.hidden_states, strict=True):
        torch.testing.assert_close(a, b, atol=TOL, rtol=0)
    for a, b in zip(mine.attentions, theirs.attentions, strict=True):
        torch.testing.assert_close(a, b, atol=TOL, rtol=0)
    return mine, theirs


@pytest.mark.parametrize("kind", ["bert", "albert"])
def test_masked_word_logits_equal_hf(kind):
    from albertviz.core.hf import masked_lm_from_hf

    hf = tiny_mlm(kind)
    lm = masked_lm_from_hf(hf)
    ids, mask, types = batch()
    mine, theirs = assert_same_outputs(hf, lm, ids, mask, types)
    with torch.no_grad():
        logits = lm.head(mine.last_hidden_state, lm.encoder.embeddings.word_matrix())
    assert logits.shape == theirs.logits.shape == (2, 11, 99)
    torch.testing.assert_close(logits, theirs.logits, atol=TOL, rtol=0)
    # the head really is the checkpoint's: a fresh head gives other logits
    assert (lm.head.bias - hf.get_output_embeddings().bias).abs().max() == 0
    assert lm.encoder.pooler is None  # …ForMaskedLM has no pooler


def test_from_hf_takes_the_encoder_out_of_a_masked_lm():
    hf = tiny_mlm("albert")
    enc = from_hf(hf)
    ids, mask, types = batch()
    assert_same_outputs(hf, enc, ids, mask, types)


@pytest.mark.parametrize("groups, sharing", [(2, "all"), (4, "none"), (1, "all")])
def test_albert_layer_groups_load_as_sequence_sharing(groups, sharing):
    hf = tiny_mlm("albert", num_hidden_groups=groups)
    enc = from_hf(hf)
    assert enc.config.sharing == sharing and len(enc.attention_blocks) == groups
    if sharing == "all":
        assert enc.config.num_groups == groups and enc.config.share_strategy == "sequence"
    ids, mask, types = batch()
    assert_same_outputs(hf, enc, ids, mask, types)
    assert count_parameters(enc.config).total == sum(p.numel() for p in hf.albert.parameters())


def test_albert_with_e_equal_h_loads_only_with_an_identity_projection():
    from albertviz import ConfigError

    hf = tiny_mlm("albert", embedding_size=32)
    with pytest.raises(ConfigError, match="learned E→H projection"):
        from_hf(hf)
    proj = hf.albert.encoder.embedding_hidden_mapping_in
    with torch.no_grad():
        proj.weight.copy_(torch.eye(32))
        proj.bias.zero_()
    enc = from_hf(hf)
    assert enc.config.embedding == "full" and enc.embeddings.projection is None
    assert_same_outputs(hf, enc, *batch())


def test_models_albertviz_cannot_hold_are_refused_with_the_reason():
    from albertviz import ConfigError
    from albertviz.core.hf import head_from_hf

    with pytest.raises(ConfigError, match="inner_group_num=2"):
        from_hf(tiny_albert(inner_group_num=2))
    with pytest.raises(ConfigError, match="decoder"):
        from_hf(tiny_bert(is_decoder=True))
    untied = tiny_mlm("bert", tie_word_embeddings=False)
    with torch.no_grad():
        untied.get_output_embeddings().weight.add_(1.0)
    with pytest.raises(ConfigError, match="not tied"):
        head_from_hf(untied, from_hf(untied))
    with pytest.raises(ConfigError, match="no masked-word head"):
        head_from_hf(tiny_bert(), from_hf(tiny_bert()))
