"""Live surgery on the real MiniLM: new models with the promised weights, honest counts, measured drift.

Each operation must leave the cached original untouched, build exactly the shape it claims (its
parameter count equals `count_parameters` of that shape and a hand formula), and its drift must behave
as the maths says: zero where nothing is lost, growing as the embedding rank shrinks.
"""

import pytest
import torch
from torch.nn import functional as F

from albertviz import ConfigError, count_parameters, zoo
from albertviz.analysis import surgery
from albertviz.core.sharing import num_blocks

SENTENCE = "The ghost of the king walks the castle walls at midnight, and Hamlet follows it."


@pytest.fixture(scope="module")
def minilm():
    return zoo.load_pretrained("minilm-l6").encoder


@pytest.fixture(scope="module")
def ids():
    from albertviz.data.tokenizer import encode, load_tokenizer

    return torch.tensor([encode(load_tokenizer(), SENTENCE).ids])


@pytest.fixture(scope="module")
def original(minilm, ids):
    with torch.no_grad():
        return minilm(ids)


@pytest.fixture(scope="module")
def basis(minilm):
    return surgery.embedding_basis(minilm)


def n_params(enc) -> int:
    return sum(p.numel() for p in enc.parameters())


def block_formula(H: int, F_: int) -> tuple[int, int]:
    """Parameters of one attention block (Q,K,V,O + LayerNorm) and one FFN block (up, down, LayerNorm)."""
    return 4 * (H * H + H) + 2 * H, (H * F_ + F_) + (F_ * H + H) + 2 * H


@pytest.mark.parametrize("k", [0, 3, 5])
def test_tie_puts_layer_k_weights_in_the_single_shared_block(minilm, k):
    r = surgery.tie_layers(minilm, k)
    assert (r.config.sharing, r.config.num_groups) == ("all", 1)
    assert num_blocks(r.config) == (1, 1) and r.encoder.plan == [(0, 0)] * 6
    for name, t in minilm.attention_blocks[k].state_dict().items():
        assert torch.equal(r.encoder.attention_blocks[0].state_dict()[name], t), name
    for name, t in minilm.ffn_blocks[k].state_dict().items():
        assert torch.equal(r.encoder.ffn_blocks[0].state_dict()[name], t), name
    assert torch.equal(r.encoder.embeddings.word_embeddings.weight, minilm.embeddings.word_embeddings.weight)


def test_tied_parameter_count_matches_count_parameters_and_hand_formula(minilm):
    r = surgery.tie_layers(minilm, 2)
    c = minilm.config
    H, V, P = c.hidden_size, c.vocab_size, c.max_position_embeddings
    attn, ffn = block_formula(H, c.intermediate_size)
    embeddings = (V + P + c.type_vocab_size) * H + 2 * H
    pooler = H * H + H
    assert n_params(r.encoder) == r.report.total == count_parameters(r.config).total
    assert r.report.total == embeddings + attn + ffn + pooler
    assert count_parameters(c).total - r.report.total == 5 * (attn + ffn)  # five blocks of each removed


@torch.no_grad()
def test_tied_model_runs_layer_k_six_times(minilm, ids):
    """Independent check of the forward pass: apply the original's layer k by hand, L times."""
    k = 4
    r = surgery.tie_layers(minilm, k)
    x = minilm.embeddings(ids, torch.zeros_like(ids))
    for _ in range(6):
        x = minilm.ffn_blocks[k](minilm.attention_blocks[k](x, None, False)[0])
    torch.testing.assert_close(r.encoder(ids).last_hidden_state, x, atol=1e-5, rtol=1e-5)


@torch.no_grad()
def test_tying_an_all_shared_model_is_identity(minilm, ids):
    tied = surgery.tie_layers(minilm, 1)
    for k in (0, 5):
        again = surgery.tie_layers(tied.encoder, k)
        assert again.config == tied.config
        for name, t in tied.encoder.state_dict().items():
            assert torch.equal(again.encoder.state_dict()[name], t), name
        torch.testing.assert_close(again.encoder(ids).last_hidden_state, tied.encoder(ids).last_hidden_state)


def test_average_block_is_the_mean_of_the_layers(minilm):
    r = surgery.average_layers(minilm)
    expect_q = torch.stack([b.query.weight for b in minilm.attention_blocks]).mean(0)
    expect_ln = torch.stack([b.LayerNorm.bias for b in minilm.ffn_blocks]).mean(0)
    torch.testing.assert_close(r.encoder.attention_blocks[0].query.weight, expect_q)
    torch.testing.assert_close(r.encoder.ffn_blocks[0].LayerNorm.bias, expect_ln)
    assert n_params(r.encoder) == count_parameters(r.config).total == surgery.tie_layers(minilm, 0).report.total


def test_operations_never_change_the_original(minilm, basis):
    before = {k: v.clone() for k, v in minilm.state_dict().items()}
    cfg = minilm.config
    for op, kw in (("tie", {"k": 2}), ("average", {}), ("factorize", {"E": 64})):
        surgery.apply(minilm, op, basis=basis, **kw)
    assert minilm.config == cfg
    for name, t in minilm.state_dict().items():
        assert torch.equal(t, before[name]), name


@torch.no_grad()
def test_factorize_at_full_rank_reproduces_the_original(minilm, ids, original, basis):
    """E = H keeps the plain embedding: a bit-for-bit copy, so 1e-6 is float32 rounding headroom only."""
    r = surgery.factorize_embedding(minilm, 384, basis)
    out = r.encoder(ids)
    torch.testing.assert_close(out.last_hidden_state, original.last_hidden_state, atol=1e-6, rtol=0)
    assert surgery.drift(original, out).attention_tv.max() < 1e-6


@torch.no_grad()
def test_factorized_embedding_equals_layernorm_of_the_rank_limited_sum(minilm, ids, basis):
    """The construction's claim, checked against a direct formula: proj(LN_E(·)) = LN_H(Q^T Q z_c)."""
    E = 48
    r = surgery.factorize_embedding(minilm, E, basis)
    emb = minilm.embeddings
    T = ids.shape[1]
    z = emb.word_embeddings(ids) + emb.position_embeddings.weight[:T] + emb.token_type_embeddings.weight[0]
    z = z - z.mean(-1, keepdim=True)
    Q = basis.directions[: E - 1]
    torch.testing.assert_close(Q @ Q.T, torch.eye(E - 1), atol=1e-5, rtol=0)
    expect = F.layer_norm(z @ Q.T @ Q, (384,), emb.LayerNorm.weight, emb.LayerNorm.bias, eps=1e-12)
    got = r.encoder.embeddings(ids, torch.zeros_like(ids))
    torch.testing.assert_close(got, expect, atol=2e-4, rtol=1e-4)


@torch.no_grad()
def test_factorize_one_below_full_rank_is_nearly_lossless(minilm, ids, original, basis):
    """E = H-1 keeps H-2 of the centred embedding's H-1 directions; the dropped one holds < 0.1% of the
    energy, so the final hidden states must stay within cosine 0.995 (measured: 0.9994)."""
    r = surgery.factorize_embedding(minilm, 383, basis)
    assert r.variance_kept > 0.999
    assert surgery.drift(original, r.encoder(ids)).mean_cosine > 0.995


@torch.no_grad()
def test_drift_grows_as_rank_shrinks(minilm, ids, original, basis):
    cos, tv = [], []
    for E in (384, 256, 128, 32):
        d = surgery.drift(original, surgery.factorize_embedding(minilm, E, basis).encoder(ids))
        cos.append(d.mean_cosine)
        tv.append(d.mean_attention_tv)
    assert all(a > b for a, b in zip(cos, cos[1:], strict=False)), cos
    assert tv[0] < 1e-6 < tv[1] < tv[3], tv


@pytest.mark.parametrize("E", [2, 32, 128, 383])
def test_factorized_count_matches_count_parameters_and_formula(minilm, basis, E):
    r = surgery.factorize_embedding(minilm, E, basis)
    c = minilm.config
    H = c.hidden_size
    rows = c.vocab_size + c.max_position_embeddings + c.type_vocab_size
    expect = count_parameters(c).total - rows * (H - E) - 2 * (H - E) + (E * H + H)  # tables + LN shrink; proj
    assert (r.config.embedding, r.config.E) == ("factorized", E)
    assert n_params(r.encoder) == r.report.total == count_parameters(r.config).total == expect


def test_word_only_svd_is_worse_than_the_embedding_sum_basis(minilm, ids, original, basis):
    """Why the basis includes positions: they live outside the word table's top directions."""
    word = surgery.embedding_basis(minilm, weighting="word")
    with torch.no_grad():
        d_sum = surgery.drift(original, surgery.factorize_embedding(minilm, 128, basis).encoder(ids))
        d_word = surgery.drift(original, surgery.factorize_embedding(minilm, 128, word).encoder(ids))
    assert d_sum.mean_cosine > d_word.mean_cosine + 0.2


def test_bad_requests_get_clear_errors(minilm, basis):
    with pytest.raises(ConfigError, match="does not exist"):
        surgery.tie_layers(minilm, 6)
    with pytest.raises(ConfigError, match="between 2 and H"):
        surgery.factorize_embedding(minilm, 1, basis)
    small = surgery.factorize_embedding(minilm, 64, basis).encoder
    with pytest.raises(ConfigError, match="already factorized"):
        surgery.embedding_basis(small)
    with pytest.raises(ConfigError, match="Unknown surgery"):
        surgery.apply(minilm, "prune")
