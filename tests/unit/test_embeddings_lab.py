"""The Embeddings page's numbers: hashed vectors, collisions, sizes, latency — checked against hand
derivations, brute force, formulas and count_parameters."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from reference import embedding_params, param_count

from albertviz import PRESETS, ConfigError, ModelConfig, count_parameters
from albertviz.core.embeddings import hash_token, hashed_table, ngram_hash, ngram_vector
from albertviz.core.model import Encoder, MaskedLM
from albertviz.data.tokenizer import load_tokenizer
from albertviz.lessons import embedding_hashing as hashing
from albertviz.lessons import embedding_price as price
from albertviz.lessons import embedding_sizes as sizes
from albertviz.zoo.cells import zoo_config

ROOT = Path(__file__).resolve().parents[2]
TOKENS = ["playing", "##ing", "thou", "[CLS]", "naïve", "x"]


# ---------------------------------------------------------------- hashing, step by step

@pytest.mark.slow
def test_hashing_is_deterministic_across_processes():
    """Two fresh interpreters (with different str-hash salts) produce bit-identical vectors and hashes."""
    script = (
        "import json, sys; from albertviz.core.embeddings import hash_token\n"
        f"out = {{t: [hash_token(t, 48, 2, 4, seed=7).pooled.tolist(), hash_token(t, 48, 2, 4, seed=7).hashes]"
        f" for t in {TOKENS!r}}}\n"
        "json.dump(out, sys.stdout)\n")
    runs = []
    for salt in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": salt}
        proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=120, check=True)
        runs.append(json.loads(proc.stdout))
    assert runs[0] == runs[1]
    here = {t: [hash_token(t, 48, 2, 4, seed=7).pooled.tolist(), hash_token(t, 48, 2, 4, seed=7).hashes]
            for t in TOKENS}
    assert json.loads(json.dumps(here)) == runs[0]
    # A different seed is a different function.
    assert not np.allclose(hash_token("playing", 48, 2, 4, seed=8).pooled, np.array(runs[0]["playing"][0]))


def test_ngrams_match_a_hand_derivation():
    """'cat' is wrapped as '<cat>'; '##ing' (a continuation) as 'ing>' with no start mark."""
    steps = hashing.hashed_steps("cat", 8, 2, 3)
    assert steps.ngrams == ["<c", "ca", "at", "t>", "<ca", "cat", "at>"]
    assert hashing.hashed_steps("##ing", 8, 2, 2).ngrams == ["in", "ng", "g>"]
    assert hashing.hashed_steps("a", 8, 4, 5).ngrams == ["<a>"]
    # Each step is what it claims: per-n-gram hash and vector, pooled = their mean.
    assert steps.hashes == [ngram_hash(g, 0) for g in steps.ngrams]
    np.testing.assert_array_equal(steps.vectors, np.stack([ngram_vector(g, 8, 0) for g in steps.ngrams]))
    np.testing.assert_allclose(steps.pooled, steps.vectors.mean(0), rtol=1e-6)
    assert np.all(np.abs(steps.vectors) <= 1.0)
    rows = hashing.ngram_rows(steps, dims=3)
    assert [r["n-gram"] for r in rows] == steps.ngrams + ["pooled"]
    assert rows[0]["64-bit hash"] == f"{steps.hashes[0]:016x}" and len(rows[0]["64-bit hash"]) == 16


def test_hashed_table_row_is_the_step_by_step_vector():
    """What the page shows for one token is exactly the row the hashed model uses."""
    vocab = ["[PAD]", "the", "##s", "playing", "play"]
    table = hashing.hashed_matrix(vocab, 24, 2, 4)
    for i, tok in enumerate(vocab):
        np.testing.assert_allclose(table[i], hash_token(tok, 24, 2, 4).pooled, rtol=0, atol=1e-6)
    model_table = hashed_table(vocab, ModelConfig(vocab_size=5, hidden_size=24, num_heads=1, embedding="hashed"))
    np.testing.assert_allclose(table, model_table.numpy(), rtol=0, atol=1e-6)
    # The timed on-the-fly path computes the same vectors.
    np.testing.assert_allclose(price.hash_on_the_fly(vocab, 24, 2, 4), table, rtol=0, atol=1e-6)


@pytest.mark.parametrize(("dim", "n_min", "n_max", "needle"), [
    (0, 2, 4, "at least 1"), (-3, 2, 4, "at least 1"), (16, 4, 2, "reversed"), (16, 0, 2, "empty"),
    (16, 2, 99, "longer than"), (hashing.MAX_DIM + 1, 2, 4, "at most")])
def test_invalid_settings_raise_config_error(dim, n_min, n_max, needle):
    with pytest.raises(ConfigError, match=needle):
        hashing.hashed_steps("play", dim, n_min, n_max)
    with pytest.raises(ConfigError):
        hashing.hashed_matrix(["a", "b"], dim, n_min, n_max)


@pytest.mark.parametrize("word", ["", "   ", "\u200b", "\t\n", "\u200b \u2060"])
def test_a_word_without_visible_characters_is_refused(word):
    with pytest.raises(ConfigError, match="no visible characters"):
        hashing.word_to_token(word)


def test_words_are_normalized_and_mapped_to_vocabulary_rows():
    tok = load_tokenizer()
    assert hashing.word_to_token("  Playing ", tok) == "playing"
    with pytest.raises(ConfigError, match="single word"):
        hashing.word_to_token("two words", tok)
    inside = hashing.vocab_row("running", tok)
    assert inside.in_vocab and inside.token_id == tok.token_to_id("running")
    outside = hashing.vocab_row("unbelievably", tok)
    assert not outside.in_vocab
    assert outside.pieces == tok.encode("unbelievably", add_special_tokens=False).tokens
    assert outside.token == outside.pieces[0] and outside.token_id == tok.token_to_id(outside.pieces[0])
    with pytest.raises(ConfigError):
        sizes.size_rows(0)


def test_learned_vectors_project_the_layernormed_row():
    """Factorized: E-dim row, then W·LayerNorm(row) + b (checked by hand); full: the H-dim row only."""
    torch.manual_seed(0)
    cfg = zoo_config("none", "factorized")
    emb = MaskedLM(cfg).encoder.embeddings
    with torch.no_grad():
        emb.LayerNorm.weight.uniform_(0.5, 1.5)
        emb.LayerNorm.bias.uniform_(-0.1, 0.1)
    out = hashing.learned_vectors(emb, 2652)
    row = emb.word_embeddings.weight[2652].detach().double()
    assert cfg.embedding_size < cfg.hidden_size
    assert out["row"].shape == (cfg.embedding_size,) and out["projected"].shape == (cfg.hidden_size,)
    np.testing.assert_allclose(out["row"], row.numpy(), rtol=1e-6)
    normed = (row - row.mean()) / torch.sqrt(row.var(unbiased=False) + 1e-12)
    normed = normed * emb.LayerNorm.weight.double() + emb.LayerNorm.bias.double()
    expected = emb.projection.weight.double() @ normed + emb.projection.bias.double()
    np.testing.assert_allclose(out["projected"], expected.detach().numpy(), rtol=1e-4, atol=1e-5)
    full = hashing.learned_vectors(MaskedLM(zoo_config("none", "full")).encoder.embeddings, 2652)
    assert set(full) == {"row"} and full["row"].shape == (128,)


# ---------------------------------------------------------------- collisions

SMALL_VOCAB = ["listen", "silent", "enlist", "tinsel", "abc", "bca", "cab", "ab", "ba", "a", "hello", "help",
               "helper", "##ing", "ing", "playing", "praying", "##s", "s", "sing"]


def _brute_force(vocab, dim, n_min, n_max):
    """Pairwise loops over independently computed vectors: duplicates and nearest-other cosines."""
    vecs = [hash_token(t, dim, n_min, n_max).pooled.astype(np.float64) for t in vocab]
    same = [[j != i and np.allclose(vecs[i], vecs[j], rtol=0, atol=1e-6) for j in range(len(vocab))]
            for i in range(len(vocab))]
    dup = sum(any(row) for row in same)
    best = []
    for i, u in enumerate(vecs):
        cos = [float(u @ v / (np.linalg.norm(u) * np.linalg.norm(v))) for j, v in enumerate(vecs) if j != i]
        best.append(max(cos))
    return dup, np.array(best)


@pytest.mark.parametrize(("dim", "n_min", "n_max"), [(8, 1, 1), (16, 2, 3), (2, 2, 4)])
def test_collision_counts_agree_with_brute_force(dim, n_min, n_max):
    report = hashing.collision_report(hashing.hashed_matrix(SMALL_VOCAB, dim, n_min, n_max))
    dup, best = _brute_force(SMALL_VOCAB, dim, n_min, n_max)
    assert report.tokens_in_duplicates == dup
    np.testing.assert_allclose(report.nn_cos, best, atol=1e-5)
    for t in (0.5, 0.8, 0.9, 0.95, 0.99, 1.0):
        assert report.near(t) == int((best >= t - 1e-6).sum())
    # The nearest token reported really has that cosine.
    table = hashing.hashed_matrix(SMALL_VOCAB, dim, n_min, n_max).astype(np.float64)
    for i, j in enumerate(report.nn_index):
        assert i != j
        cos = table[i] @ table[j] / (np.linalg.norm(table[i]) * np.linalg.norm(table[j]))
        assert math.isclose(cos, report.nn_cos[i], abs_tol=1e-5)


def test_unigrams_make_anagrams_collide_exactly():
    """With 1-grams only, spelling order is lost: listen/silent/enlist/tinsel, abc/bca/cab, ab/ba."""
    report = hashing.collision_report(hashing.hashed_matrix(SMALL_VOCAB, 8, 1, 1))
    assert report.duplicate_groups == 3 and report.tokens_in_duplicates == 9
    assert hashing.collision_report(hashing.hashed_matrix(SMALL_VOCAB, 8, 2, 4)).duplicate_groups == 0


def test_blocked_scan_equals_one_block():
    x = np.random.default_rng(0).normal(size=(37, 5)).astype(np.float32)
    one = hashing.nearest_other(x, block=1000)
    many = hashing.nearest_other(x, block=4)
    np.testing.assert_allclose(one[0], many[0], atol=1e-6)
    np.testing.assert_array_equal(one[1], many[1])


def test_nearest_neighbours_exclude_the_token_itself():
    table = hashing.hashed_matrix(SMALL_VOCAB, 32, 2, 4)
    nn = hashing.nearest_neighbours(table, SMALL_VOCAB, SMALL_VOCAB.index("playing"), k=3)
    assert len(nn) == 3 and "playing" not in [r["token"] for r in nn]
    assert nn[0]["token"] == "praying"  # shares '<p', 'ayi', 'ying', 'ng>', ...: spelling neighbours
    assert [r["cosine"] for r in nn] == sorted((r["cosine"] for r in nn), reverse=True)
    learned = torch.nn.Parameter(torch.tensor(table))  # a trained table is a Parameter that requires grad
    assert hashing.nearest_neighbours(learned, SMALL_VOCAB, SMALL_VOCAB.index("playing"), k=3) == nn


# ---------------------------------------------------------------- sizes

TORCH_DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "int8": torch.int8}


def module_bytes(cfg: ModelConfig, dtype: str) -> int:
    """Bytes of the real encoder's parameters stored as `dtype`: built on the meta device (no memory), each
    tensor's element_size() from torch itself — independent of albertviz.core.params.BYTES_PER_PARAM."""
    with torch.device("meta"):
        encoder = Encoder(cfg)
    return sum(p.numel() * p.to(TORCH_DTYPES[dtype]).element_size() for p in encoder.parameters())


@pytest.mark.parametrize("e_size", [32, 128, 256])
def test_every_size_table_number_matches_the_closed_form_and_the_real_module(e_size):
    rows = sizes.size_rows(e_size)
    assert {(r.model, r.embedding) for r in rows} == {(m, e) for m in sizes.SIZE_MODELS
                                                      for e in ("full", "factorized", "hashed")}
    assert set(sizes.DTYPES) == set(TORCH_DTYPES)
    for row in rows:
        rec = row.record()
        total, emb = param_count(row.config), embedding_params(row.config)
        assert rec["parameters"] == row.total == total == count_parameters(row.config).total
        assert rec["embedding params"] == emb
        assert rec["embedding share"] == pytest.approx(emb / total, rel=1e-12)
        for dtype in sizes.DTYPES:
            assert rec[f"MB {dtype}"] == pytest.approx(module_bytes(row.config, dtype) / 1e6, rel=1e-12), dtype
        if row.embedding == "factorized":
            assert row.config.E == min(e_size, row.config.hidden_size)
    base = next(r for r in rows if r.model == "bert-base" and r.embedding == "full")
    assert base.total == 109_482_240  # HF BertModel('bert-base-uncased') with pooler
    assert base.record()["MB fp32"] == pytest.approx(437.93, abs=0.01)  # 4 bytes × 109,482,240


def test_eelbert_headline_is_reproduced():
    h = sizes.eelbert_headline()
    tiny = PRESETS["bert-tiny"]
    assert h.bert_tiny.total == count_parameters(tiny).total == param_count(tiny)
    assert round(h.bert_tiny.total / 1e6, 2) == 4.39  # EELBERT: BERT-tiny has 4.39M parameters
    assert abs(h.bert_tiny.mb["fp32"] - 17.5) < 0.1  # ≈ 17.5 MB in fp32
    assert 0.89 < h.bert_tiny.share < 0.92  # ~90% of it is embeddings
    assert h.eelbert_tiny.total == h.bert_tiny.total - tiny.vocab_size * tiny.hidden_size
    u = h.uno
    assert u["MB"] == pytest.approx(module_bytes(u["config"], u["dtype"]) / 1e6, rel=1e-12)
    assert abs(u["MB"] / 1.2 - 1) < 0.1  # UNO-EELBERT: 1.2 MB ...
    assert 13 < h.shrink < 17  # ... ~15× smaller than BERT-tiny
    assert all(abs(c["off by"]) >= abs(u["off by"]) - 0.005 for c in sizes.uno_candidates())
    sentence = sizes.headline_sentence()
    assert f"**{h.bert_tiny.total / 1e6:.2f}M**" in sentence and f"{u['parameters']:,} parameters" in sentence
    assert "4.39M" in sentence and "1.2 MB" in sentence  # the paper's two figures, as the page states them


# ---------------------------------------------------------------- the price

def test_latency_is_measured_for_every_way():
    vocab = [f"w{i}" for i in range(200)] + ["the", "play"]
    lats = price.measure_latency(["the", "play", "w3"] * 20, vocab, repeats=2)
    assert [x.embedding for x in lats] == ["full", "factorized", "hashed (cached)", "hashed"]
    assert all(x.ms_per_batch > 0 and x.n_tokens == 60 for x in lats)
    assert lats[0].us_per_token == pytest.approx(1000 * lats[0].ms_per_batch / 60)


def test_sample_tokens_has_the_requested_length():
    toks = price.sample_tokens(load_tokenizer(), 300)
    assert len(toks) == 300 and all(isinstance(t, str) and t for t in toks)


def test_the_hashed_cells_pretraining_output_table_is_one_learned_row_per_vocabulary_piece():
    cfg = zoo_config("none", "hashed")
    assert sizes.hashed_output_table_params() == cfg.vocab_size * cfg.E


def test_price_points_use_count_parameters_and_the_manifest():
    entries = [{"name": f"none-{e}", "config": zoo_config("none", e).to_dict(), "held_out_accuracy": acc,
                "unigram_baseline_accuracy": 0.07} for e, acc in (("full", 0.2), ("hashed", 0.15))]
    entries.append({**entries[0], "name": "all-full", "config": zoo_config("all", "full").to_dict(),
                    "held_out_accuracy": 0.18})
    lats = [price.Latency("a", "full", 1.0, 10), price.Latency("b", "hashed", 50.0, 10)]
    points = price.price_points(entries, lats)
    for p, e in zip(points, entries, strict=True):
        cfg = zoo_config(p["sharing"], p["embedding"])
        with torch.device("meta"):  # the deployed encoder alone, counted from the real module
            encoder_params = sum(t.numel() for t in Encoder(cfg).parameters())
        assert p["parameters"] == encoder_params and p["MB"] == encoder_params * 4 / 1e6
        assert p["held-out accuracy"] == e["held_out_accuracy"]
    assert [p["ms per batch"] for p in points] == [1.0, 50.0, 1.0]
    by_type = {r["embedding"]: r for r in price.accuracy_by_embedding(entries)}
    assert by_type["full"]["cells"] == 2 and by_type["full"]["mean held-out accuracy"] == pytest.approx(0.19)


def cells(**by_type):
    """Constructed manifest entries: embedding type → list of (held-out accuracy, held-out loss)."""
    return [{"name": f"c{i}-{emb}", "config": {"embedding": emb}, "held_out_accuracy": acc, "held_out_loss": loss}
            for emb, pairs in by_type.items() for i, (acc, loss) in enumerate(pairs)]


def test_embedding_verdict_when_hashed_wins_top1_but_loses_on_loss():
    entries = cells(full=[(0.20, 5.0), (0.22, 5.2)], factorized=[(0.17, 5.6)], hashed=[(0.18, 7.4), (0.19, 7.2)])
    text = price.embedding_verdict(entries)
    assert "held-out top-1: full 21.0%, hashed 18.5%, factorized 17.0%" in text
    assert "held-out loss (lower is better): full 5.10, factorized 5.60, hashed 7.30 nats" in text
    assert "against full, lower top-1 and higher loss — they pay on both" in text
    assert "against factorized, higher top-1 and higher loss — they rank the right word first more often" in text
    assert "pay in accuracy" not in text


def test_embedding_verdict_the_other_way_round_and_with_ties():
    text = price.embedding_verdict(cells(full=[(0.15, 6.0)], factorized=[(0.10, 6.5)], hashed=[(0.16, 5.5)]))
    assert "against full, higher top-1 and lower loss — better on both" in text
    assert "against factorized, higher top-1 and lower loss" in text and "pay" not in text
    text = price.embedding_verdict(cells(full=[(0.15, 6.0)], hashed=[(0.1502, 6.001)]))
    assert "against full, the same top-1 and the same loss" in text
    text = price.embedding_verdict(cells(full=[(0.15, 6.0)], hashed=[(0.12, 5.0)]))
    assert "lower top-1 and lower loss" in text and "higher log-probability" in text


def test_embedding_verdict_without_hashed_cells_or_numbers():
    assert "Hashed cells" not in price.embedding_verdict(cells(full=[(0.2, 5.0)], factorized=[(0.1, 6.0)]))
    assert price.embedding_verdict([]) == "No trained cell has held-out numbers yet."
