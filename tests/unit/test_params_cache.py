"""Parameter counts are cached per config (issue 15) and the cache changes nothing a caller can see."""

import random

from albertviz import PRESETS, count_parameters
from albertviz.core import params as P
from albertviz.core.config import EMBEDDING_TYPES, SHARE_STRATEGIES, SHARING_MODES


def uncached_sizes(config, include_head):
    return dict(P._cached_module_sizes.__wrapped__(config, include_head))


def test_cached_counts_equal_a_fresh_build():
    rng = random.Random(0)
    configs = list(PRESETS.values())
    for _ in range(20):
        base = rng.choice(configs)
        configs.append(base.with_(sharing=rng.choice(SHARING_MODES), share_strategy=rng.choice(SHARE_STRATEGIES),
                                  embedding=(e := rng.choice(EMBEDDING_TYPES)),
                                  embedding_size=base.hidden_size if e == "full" else rng.choice([16, 64, 128]),
                                  num_groups=rng.randint(1, base.num_layers)))
    for config in configs:
        for head in (False, True):
            assert P._module_sizes(config, head) == uncached_sizes(config, head)
            first, again = count_parameters(config, include_head=head), count_parameters(config, include_head=head)
            assert first == again


def test_equal_configs_share_one_entry_and_a_rerun_builds_nothing():
    P._cached_module_sizes.cache_clear()
    config = PRESETS["albert-base"]
    count_parameters(config)
    count_parameters(config.with_(sharing="all"))  # an equal, separately built config: same key
    count_parameters(config, seq_len=512)  # seq_len changes FLOPs only, not the modules
    info = P._cached_module_sizes.cache_info()
    assert (info.misses, info.hits) == (1, 2)


def test_a_caller_changing_its_report_cannot_change_the_next_one():
    config = PRESETS["bert-base"]
    report = count_parameters(config)
    report.by_component["embeddings"] = -1
    P._module_sizes(config, False)["embeddings"] = -1
    assert count_parameters(config).by_component["embeddings"] > 0
