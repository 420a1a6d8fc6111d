"""Parameter counts agree with Hugging Face, with a closed-form formula and with ALBERT's tables."""

import random

import pytest
import torch
from reference import param_count, unrolled_count
from transformers import AlbertConfig, AlbertModel, BertConfig, BertModel

from albertviz import PRESETS, ConfigError, Encoder, ModelConfig, count_parameters
from albertviz.core.config import EMBEDDING_TYPES, SHARE_STRATEGIES, SHARING_MODES


def hf_count(cfg: ModelConfig) -> int:
    """Build the matching HF model on the meta device and count its parameters."""
    common = dict(vocab_size=cfg.vocab_size, hidden_size=cfg.hidden_size, num_hidden_layers=cfg.num_layers,
                  num_attention_heads=cfg.num_heads, intermediate_size=cfg.intermediate_size,
                  max_position_embeddings=cfg.max_position_embeddings, type_vocab_size=cfg.type_vocab_size)
    with torch.device("meta"):
        if cfg.embedding == "factorized":
            model = AlbertModel(AlbertConfig(embedding_size=cfg.E, **common), add_pooling_layer=cfg.pooler)
        else:
            model = BertModel(BertConfig(**common), add_pooling_layer=cfg.pooler)
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("name", [n for n in PRESETS])
def test_every_preset_counts_exactly_like_hf(name):
    assert count_parameters(PRESETS[name]).total == hf_count(PRESETS[name])


def random_config(rng: random.Random, hf_compatible: bool) -> ModelConfig:
    heads = rng.choice([1, 2, 4, 8])
    H = heads * rng.choice([8, 16, 24, 64])
    L = rng.randint(1, 12)
    emb = rng.choice(["full", "factorized"] if hf_compatible else EMBEDDING_TYPES)
    E = H if emb == "full" else rng.randint(1, H - 1) if H > 1 else 1
    return ModelConfig(vocab_size=rng.randint(10, 40000), hidden_size=H, embedding_size=E, num_layers=L,
                       num_heads=heads, intermediate_size=rng.randint(1, 4 * H),
                       max_position_embeddings=rng.randint(8, 1024), type_vocab_size=rng.randint(1, 3),
                       embedding=emb, pooler=rng.random() < 0.5,
                       sharing="all" if emb == "factorized" and hf_compatible else
                       ("none" if hf_compatible else rng.choice(SHARING_MODES)),
                       num_groups=1 if hf_compatible else rng.randint(1, L),
                       share_strategy=rng.choice(SHARE_STRATEGIES))


def test_random_valid_configs_count_like_hf():
    rng = random.Random(7)
    for _ in range(25):
        cfg = random_config(rng, hf_compatible=True)
        assert count_parameters(cfg).total == hf_count(cfg), cfg


def test_random_configs_of_every_mode_match_the_formula_and_a_real_module():
    rng = random.Random(11)
    for _ in range(40):
        cfg = random_config(rng, hf_compatible=False)
        report = count_parameters(cfg)
        assert report.total == param_count(cfg), cfg
        assert report.unrolled == unrolled_count(cfg) == param_count(cfg.with_(sharing="none")), cfg
        assert report.total == sum(report.by_component.values())
    small = ModelConfig(vocab_size=100, hidden_size=32, num_heads=4, intermediate_size=64, num_layers=3,
                        sharing="ffn", embedding="hashed", embedding_size=16)
    assert count_parameters(small).total == sum(p.numel() for p in Encoder(small).parameters())


# ALBERT paper, Table 4 (ALBERT-base shape, V=30000): parameters in millions. The printed numbers are the
# encoder without the pooler: with it, not-shared E=768 would be 109.1M against the printed 108M.
TABLE_4 = {
    (768, "all"): 31, (768, "attention"): 83, (768, "ffn"): 57, (768, "none"): 108,
    (128, "all"): 12, (128, "attention"): 64, (128, "ffn"): 38, (128, "none"): 89,
}


@pytest.mark.parametrize("E, sharing", list(TABLE_4))
def test_albert_table_4_reproduces_within_one_million(E, sharing):
    cfg = PRESETS["albert-base"].with_(embedding_size=E, sharing=sharing, pooler=False,
                                       embedding="factorized" if E < 768 else "full")
    assert abs(count_parameters(cfg).total / 1e6 - TABLE_4[(E, sharing)]) < 1.0


# ALBERT paper, Table 1: parameters in millions, rounded as printed.
TABLE_1 = {"bert-base": 108, "bert-large": 334, "albert-base": 12, "albert-large": 18, "albert-xlarge": 60,
           "albert-xxlarge": 235}


@pytest.mark.parametrize("name", list(TABLE_1))
def test_albert_table_1_within_the_papers_rounding(name):
    # The paper's counts differ from HF's by the pooler and the vocabulary size; stay within 6%.
    got = count_parameters(PRESETS[name]).total / 1e6
    assert abs(got - TABLE_1[name]) / TABLE_1[name] < 0.06, got


def test_unrolled_is_what_no_sharing_costs_and_sharing_saves_most_of_albert():
    r = count_parameters(PRESETS["albert-base"])
    assert r.unrolled == count_parameters(PRESETS["albert-base"].with_(sharing="none")).total
    assert 0.85 < r.saving < 0.9


def test_sizes_memory_and_flops():
    tiny = count_parameters(PRESETS["bert-tiny"])
    assert abs(tiny.total / 1e6 - 4.39) < 0.01  # EELBERT's BERT-tiny figure
    assert abs(tiny.sizes_mb["fp32"] - 17.5) < 0.1
    assert tiny.bytes("fp16") * 2 == tiny.bytes("fp32") == tiny.bytes("int8") * 4
    assert tiny.adam_training_bytes == 16 * tiny.total
    assert tiny.by_component["embeddings"] / tiny.total > 0.9
    # Sharing changes parameters, not arithmetic.
    base = PRESETS["albert-base"]
    flops = {s: count_parameters(base.with_(sharing=s)).flops_per_token for s in SHARING_MODES}
    assert len(set(flops.values())) == 1
    H, F, L, T = 768, 3072, 12, 128
    assert flops["none"] == 2 * (L * (4 * H * H + 2 * H * F + 2 * T * H) + 128 * H)


def test_the_mlm_head_is_counted_apart_from_the_encoder():
    cfg = PRESETS["albert-base"]
    with_head = count_parameters(cfg, include_head=True)
    H, E, V = 768, 128, 30000
    assert with_head.by_component["head"] == H * E + E + 2 * E + V  # decoder weight tied to the word table
    assert with_head.total == count_parameters(cfg).total + with_head.by_component["head"]


def test_counting_allocates_no_weight_memory_even_for_xxlarge():
    import tracemalloc
    tracemalloc.start()
    count_parameters(PRESETS["albert-xxlarge"].with_(sharing="none"))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 50e6  # the real weights would take 9.7 GB


def test_absurd_sizes_are_refused_before_anything_is_built():
    with pytest.raises(ConfigError):
        count_parameters(ModelConfig(hidden_size=100000, num_heads=1))
