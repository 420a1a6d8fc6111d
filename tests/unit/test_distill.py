"""MiniLM's maps carried over to another tokenizer's pieces: exact when the pieces agree, mass kept when they don't."""

import numpy as np

from albertviz.analysis.teacher import kl_per_layer, overlap, transfer


def random_maps(L: int, T: int, seed: int = 0) -> np.ndarray:
    a = np.random.default_rng(seed).random((L, T, T)) + 0.01
    return a / a.sum(-1, keepdims=True)


def test_identical_pieces_carry_the_maps_over_unchanged():
    spans = np.array([[0, 3], [4, 7], [8, 9]])
    att = random_maps(2, 5)
    np.testing.assert_allclose(transfer(att, overlap(spans, spans)), att, atol=1e-6)


def test_a_teacher_word_split_in_two_student_pieces_shares_its_column_and_copies_its_row():
    teacher = np.array([[0, 7], [8, 11]])  # "playing", "well"
    student = np.array([[0, 4], [4, 7], [8, 11]])  # "play", "##ing", "well"
    att = random_maps(1, 4)  # [CLS] playing well [SEP]
    out = transfer(att, overlap(student, teacher))[0]
    att = att[0]
    assert out.shape == (5, 5)
    np.testing.assert_allclose(out.sum(-1), 1.0, atol=1e-6)
    np.testing.assert_allclose(out[1], out[2], atol=1e-6)  # both pieces read like their word
    np.testing.assert_allclose(out[1, 1], att[1, 1] / 2, atol=1e-6)  # the word's column mass, halved per piece
    np.testing.assert_allclose(out[1, 1] + out[1, 2], att[1, 1], atol=1e-6)
    np.testing.assert_allclose(out[0, 4], att[0, 3], atol=1e-6)  # [CLS] → [SEP] kept


def test_kl_is_zero_for_equal_maps_and_positive_otherwise():
    import torch

    a = torch.from_numpy(random_maps(3, 6)[None])
    b = torch.from_numpy(random_maps(3, 6, seed=1)[None])
    np.testing.assert_allclose(kl_per_layer(a, a), 0.0, atol=1e-6)
    assert (kl_per_layer(a, b) > 0).all()
