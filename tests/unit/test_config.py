"""ModelConfig refuses shapes that cannot be built, with messages a student can act on."""

import pytest

from albertviz import PRESETS, ConfigError, ModelConfig


@pytest.mark.parametrize("changes, words", [
    ({"hidden_size": 100, "num_heads": 12}, "hidden_size 100 is not divisible by num_heads 12"),
    ({"embedding": "factorized", "embedding_size": 1024}, "larger than hidden_size"),
    ({"sharing": "all", "num_groups": 13}, "1 ≤ M ≤ L"),
    ({"num_groups": 0}, "at least 1"),
    ({"num_layers": 0}, "num_layers must be at least 1"),
    ({"hidden_size": -768}, "hidden_size must be at least 1"),
    ({"vocab_size": 0}, "vocab_size must be at least 1"),
    ({"hidden_size": 100000, "num_heads": 1}, "too large"),
    ({"sharing": "some"}, "sharing must be one of"),
    ({"embedding": "onehot"}, "embedding must be one of"),
    ({"num_layers": 2.5}, "whole number"),
    ({"hash_ngram_min": 4, "hash_ngram_max": 2}, "empty or reversed"),
    ({"embedding_size": 64}, "Choose embedding='factorized'"),
])
def test_invalid_shapes_raise_a_clear_config_error(changes, words):
    with pytest.raises(ConfigError, match=words):
        ModelConfig(**changes)


def test_embedding_size_defaults_to_hidden_size_and_follows_it_for_full_tables():
    c = ModelConfig(hidden_size=256, num_heads=4)
    assert c.embedding_size == 256
    assert c.with_(hidden_size=512).embedding_size == 512


def test_with_validates_the_copy_and_leaves_the_original_alone():
    base = PRESETS["albert-base"]
    with pytest.raises(ConfigError):
        base.with_(num_heads=7)
    assert base.num_heads == 12


def test_round_trip_through_a_dict():
    for cfg in PRESETS.values():
        assert ModelConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ConfigError, match="Unknown config field"):
        ModelConfig.from_dict({"hidden": 3})


def test_presets_have_the_published_shapes():
    shapes = {name: (c.num_layers, c.hidden_size, c.num_heads, c.intermediate_size) for name, c in PRESETS.items()}
    assert shapes["bert-tiny"] == (2, 128, 2, 512)
    assert shapes["bert-large"] == (24, 1024, 16, 4096)
    assert shapes["albert-xxlarge"] == (12, 4096, 64, 16384)
    assert shapes["minilm-l6"] == (6, 384, 12, 1536)
    for name in ("albert-base", "albert-large", "albert-xlarge", "albert-xxlarge"):
        c = PRESETS[name]
        assert (c.vocab_size, c.embedding_size, c.sharing, c.embedding) == (30000, 128, "all", "factorized")
