"""Layer plans: which block every layer runs, for ALBERT's modes and Takase & Kiyono's strategies."""

import pytest
import torch

from albertviz import Encoder, ModelConfig, layer_plan
from albertviz.core.sharing import group_of_layer, plan_letters


def cfg(**kw) -> ModelConfig:
    base = dict(vocab_size=50, hidden_size=16, num_heads=2, intermediate_size=32, num_layers=6)
    return ModelConfig(**{**base, **kw})


@pytest.mark.parametrize("strategy, letters", [
    ("sequence", "AABBCC"), ("cycle", "ABCABC"), ("cycle_rev", "ABCCBA")])
def test_takase_kiyono_strategies_with_three_groups_over_six_layers(strategy, letters):
    assert plan_letters(cfg(sharing="all", num_groups=3, share_strategy=strategy)) == (letters, letters)


def released_cycle_rev(num_layers: int, num_groups: int) -> list[int]:
    """Takase & Kiyono's cycle (rev), built the way their released fairseq encoder builds its layer list.

    Written step by step on purpose (an oracle, not the formula in albertviz.core.sharing): start with the M
    unique layers, append L - 2M copies cycling through them, then fill up to L by walking the unique
    layers backwards from the last.
    """
    layers = list(range(num_groups))
    for i in range(num_layers - 2 * num_groups):  # empty when L <= 2M, as range() of a negative is
        layers.append(layers[i % num_groups])
    unique = layers[:num_groups]
    for i in range(num_layers - len(layers)):
        layers.append(unique[-((i % num_groups) + 1)])
    return layers


@pytest.mark.parametrize("layers", range(1, 25))
def test_cycle_rev_matches_the_released_rule_for_every_l_and_m(layers):
    for groups in range(1, layers + 1):
        expected = released_cycle_rev(layers, groups)
        got = [group_of_layer(i, layers, groups, "cycle_rev") for i in range(layers)]
        assert got == expected, (layers, groups)


@pytest.mark.parametrize("groups, letters", [(3, "ABCCBA"), (4, "ABCDDC"), (2, "ABABBA"), (6, "ABCDEF"),
                                             (5, "ABCDEE"), (1, "AAAAAA")])
def test_cycle_rev_literal_examples_over_six_layers(groups, letters):
    assert plan_letters(cfg(sharing="all", num_groups=groups, share_strategy="cycle_rev")) == (letters, letters)


def test_albert_modes_share_the_named_sublayer_only():
    assert plan_letters(cfg(sharing="none")) == ("ABCDEF", "ABCDEF")
    assert plan_letters(cfg(sharing="all")) == ("AAAAAA", "AAAAAA")
    assert plan_letters(cfg(sharing="ffn")) == ("ABCDEF", "AAAAAA")
    assert plan_letters(cfg(sharing="attention")) == ("AAAAAA", "ABCDEF")


@pytest.mark.parametrize("strategy", ["sequence", "cycle", "cycle_rev"])
@pytest.mark.parametrize("layers, groups", [(6, 1), (6, 6), (7, 3), (12, 4), (5, 2)])
def test_every_group_is_used_and_ids_stay_in_range(strategy, layers, groups):
    plan = layer_plan(cfg(sharing="all", num_layers=layers, num_groups=groups, share_strategy=strategy))
    assert len(plan) == layers
    assert {a for a, _ in plan} == set(range(groups))


def test_encoder_holds_only_unique_blocks_and_reuses_them_in_plan_order():
    c = cfg(sharing="all", num_groups=2, share_strategy="cycle")
    enc = Encoder(c)
    assert len(enc.attention_blocks) == 2 and len(enc.ffn_blocks) == 2
    calls = []
    for i, block in enumerate(enc.attention_blocks):
        block.register_forward_hook(lambda m, a, o, i=i: calls.append(i))
    enc(torch.randint(0, 50, (1, 5)))
    assert calls == [0, 1, 0, 1, 0, 1]


def test_shared_weights_give_different_attention_in_different_layers():
    torch.manual_seed(0)
    enc = Encoder(cfg(sharing="all"))
    out = enc(torch.randint(0, 50, (1, 8)))
    assert not torch.allclose(out.attentions[0], out.attentions[1])
    for a in out.attentions:
        torch.testing.assert_close(a.sum(-1), torch.ones(a.shape[:-1]))
