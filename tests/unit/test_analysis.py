"""Hidden-state analysis: ALBERT Fig. 1 numbers, layer similarity (cosine, linear CKA), PCA, the precompute.

Each measure is checked against a hand computation or an independent formula, and against the
invariances that define it (CKA ignores rotations and isotropic scaling, but not arbitrary stretching).
"""

import json
import math

import numpy as np
import pytest
import torch

from albertviz import Encoder, ModelConfig
from albertviz.analysis.measures import input_output_distance, layer_cka_matrix, layer_cosine_matrix, linear_cka, pca_2d
from albertviz.zoo.fig1 import fig1_over_chunks, held_out_fig1


def random_states(L: int = 4, T: int = 7, H: int = 16, seed: int = 0) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    return tuple(torch.randn(T, H, generator=g) for _ in range(L + 1))


def test_fig1_series_has_one_point_per_layer():
    series = input_output_distance(random_states(L=5))
    assert series["l2"].shape == (5,) and series["degrees"].shape == (5,)


def test_fig1_matches_a_hand_computation():
    # Token 0: (1,0) → (1,1) → (0,2): each step turns 45°, moves 1 then √2.
    # Token 1: (0,1) → (0,1) → (0,-3): no move, then a 180° turn of length 4.
    h0 = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    h1 = torch.tensor([[1.0, 1.0], [0.0, 1.0]])
    h2 = torch.tensor([[0.0, 2.0], [0.0, -3.0]])
    s = input_output_distance((h0, h1, h2))
    np.testing.assert_allclose(s["degrees"], [(45 + 0) / 2, (45 + 180) / 2], atol=1e-3)
    np.testing.assert_allclose(s["l2"], [(1 + 0) / 2, (math.sqrt(2) + 4) / 2], atol=1e-5)


def hsic_cka(x: np.ndarray, y: np.ndarray) -> float:
    """Linear CKA written the other way round: HSIC of the Gram matrices with an explicit centring matrix."""
    n = len(x)
    Hc = np.eye(n) - np.ones((n, n)) / n
    K, L = Hc @ x @ x.T @ Hc, Hc @ y @ y.T @ Hc
    return float(np.sum(K * L) / math.sqrt(np.sum(K * K) * np.sum(L * L)))


def test_cka_of_a_representation_with_itself_is_one():
    x = random_states()[0]
    assert linear_cka(x, x) == pytest.approx(1.0, abs=1e-12)


def test_cka_is_invariant_to_rotation_and_isotropic_scaling_but_not_to_stretching():
    x = random_states(T=20, H=8)[0].double()
    q, _ = torch.linalg.qr(torch.randn(8, 8, generator=torch.Generator().manual_seed(1), dtype=torch.float64))
    assert linear_cka(x, x @ q) == pytest.approx(1.0, abs=1e-10)
    assert linear_cka(x, 3.7 * x) == pytest.approx(1.0, abs=1e-10)
    assert linear_cka(x, 2.5 * x @ q + 4.0) == pytest.approx(1.0, abs=1e-10)  # plus a shift: centred away
    stretch = torch.diag(torch.tensor([10.0, 1, 1, 1, 0.1, 0.1, 0.1, 0.1], dtype=torch.float64))
    assert linear_cka(x, x @ stretch) < 0.9


def test_cka_matches_the_hsic_formula():
    a, b = random_states(L=1, T=12, H=5)
    assert linear_cka(a, b) == pytest.approx(hsic_cka(a.double().numpy(), b.double().numpy()), abs=1e-10)


def test_layer_matrices_have_unit_diagonal_and_are_symmetric():
    states = random_states(L=3)
    for m in (layer_cosine_matrix(states), layer_cka_matrix(states)):
        assert m.shape == (4, 4)
        np.testing.assert_allclose(np.diag(m), 1.0, atol=1e-6)
        np.testing.assert_allclose(m, m.T, atol=1e-6)


def test_cosine_matrix_entry_is_the_mean_per_token_cosine():
    a = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    b = torch.tensor([[1.0, 1.0], [-1.0, 0.0]])  # cosines 1/√2 and -1
    m = layer_cosine_matrix((a, b))
    assert m[0, 1] == pytest.approx((1 / math.sqrt(2) - 1) / 2, abs=1e-6)


def test_pca_2d_finds_the_main_direction():
    t = np.linspace(-1, 1, 11)
    points = np.outer(t, [3.0, 4.0, 0.0]) + 1.0  # a line along (3,4,0)/5 of length 10
    proj = pca_2d(points)
    np.testing.assert_allclose(np.abs(proj[:, 0]), np.abs(5 * t), atol=1e-9)
    np.testing.assert_allclose(proj[:, 1], 0.0, atol=1e-9)


def test_precomputed_fig1_is_the_mean_over_chunks():
    torch.manual_seed(0)
    cfg = ModelConfig(vocab_size=50, hidden_size=16, num_layers=3, num_heads=2, intermediate_size=32,
                      max_position_embeddings=16, pooler=False)
    enc = Encoder(cfg).eval()
    ids = torch.randint(50, (5, 9))
    got = fig1_over_chunks(enc, ids, batch=2)
    with torch.no_grad():
        per = [input_output_distance(tuple(h[0] for h in enc(ids[b:b + 1]).hidden_states)) for b in range(5)]
    assert got["n_chunks"] == 5 and len(got["degrees"]) == 3
    np.testing.assert_allclose(got["degrees"], np.mean([p["degrees"] for p in per], 0), atol=1e-3)
    np.testing.assert_allclose(got["l2"], np.mean([p["l2"] for p in per], 0), atol=1e-4)


def test_held_out_entries_from_other_weights_are_ignored(tmp_path):
    path = tmp_path / "fig1.json"
    path.write_text(json.dumps({"models": {"all-full": {"l2": [1, 2], "degrees": [3, 4], "sha256": "abc"}}}))
    assert held_out_fig1("all-full", "abc", path)["degrees"] == [3, 4]
    assert held_out_fig1("all-full", "other", path) is None  # retrained cell: stale numbers hidden
    assert held_out_fig1("none-full", None, path) is None
    assert held_out_fig1("all-full", None, tmp_path / "missing.json") is None


def test_committed_fig1_json_has_l_points_per_model():
    from albertviz.zoo.fig1 import FIG1_PATH

    data = json.loads(FIG1_PATH.read_text())
    assert "minilm-l6" in data["models"]
    for key, entry in data["models"].items():
        L = 6  # every zoo cell and MiniLM has six layers
        assert len(entry["l2"]) == len(entry["degrees"]) == L, key
        assert all(0 <= d <= 180 for d in entry["degrees"]), key
