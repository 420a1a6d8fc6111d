"""A user's checkpoint counted three ways, and surgery on it, each checked against transformers itself.

- "count this checkpoint": albertviz's loaded modules vs `sum(p.numel() for p in hf.parameters())` of the same
  folder loaded by transformers, vs BERT's closed formula written out here, vs the tensors in the file
  (read with safetensors' own reader); the reasons for every difference add up exactly.
- surgery: tying / averaging a real BERT equals an HF BERT whose layers were overwritten the same way, and
  the masked-word loss the page reports equals the one computed from HF's logits.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from test_checkpoints import VOCAB, randomise, save_albert, save_bert, spiece  # noqa: F401 - spiece: a fixture
from transformers import AlbertForMaskedLM, BertConfig, BertForMaskedLM, BertForPreTraining, BertModel

from albertviz import checkpoints, count_parameters
from albertviz.analysis import surgery
from albertviz.analysis.masked_loss import pseudo_masked_loss
from albertviz.checkpoints.counting import CheckpointCount, count_checkpoint
from albertviz.core.config import ConfigError
from albertviz.lessons.surgery_effect import special_ids, surgery_effect

TOL = 1e-5
TEXT = "the cat sat on the mat because it was tired"
HF_CLASSES = {"tiny-bert": BertForMaskedLM, "tiny-albert": AlbertForMaskedLM, "bert-base-only": BertModel,
              "pretraining-bert": BertForMaskedLM, "tiny-shape-bert": BertForMaskedLM}


def save_pretraining_bert(folder: Path) -> Path:
    """BERT as Google released it: MLM head, pooler and next-sentence head in one file."""
    torch.manual_seed(3)
    cfg = BertConfig(vocab_size=len(VOCAB), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                     intermediate_size=37, max_position_embeddings=128)
    randomise(BertForPreTraining(cfg)).save_pretrained(str(folder), safe_serialization=True)
    (folder / "vocab.txt").write_text("\n".join(VOCAB) + "\n")
    return folder


def save_tiny_shape_bert(folder: Path) -> Path:
    """The layers of the bert-tiny preset (L2 H128 A2 F512) with this test's small vocabulary."""
    torch.manual_seed(4)
    cfg = BertConfig(vocab_size=len(VOCAB), hidden_size=128, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=512, max_position_embeddings=64)
    randomise(BertForMaskedLM(cfg)).save_pretrained(str(folder), safe_serialization=True)
    (folder / "vocab.txt").write_text("\n".join(VOCAB) + "\n")
    return folder


@pytest.fixture(scope="module")
def models(tmp_path_factory, spiece):  # noqa: F811 - the fixture imported above
    root = tmp_path_factory.mktemp("count") / "models"
    save_bert(root / "tiny-bert")
    save_bert(root / "bert-base-only", head=False)
    save_albert(root / "tiny-albert", spiece)
    save_pretraining_bert(root / "pretraining-bert")
    save_tiny_shape_bert(root / "tiny-shape-bert")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ALBERTVIZ_MODELS", str(root))
        mp.setenv("HF_HUB_CACHE", "/nonexistent-albertviz-cache")
        checkpoints.discover.cache_clear()
        yield root
    checkpoints.discover.cache_clear()


def hf_model(root: Path, name: str):
    return HF_CLASSES[name].from_pretrained(str(root / name), local_files_only=True, use_safetensors=True,
                                            attn_implementation="eager").eval()


def file_numel(folder: Path) -> int:
    with safe_open(str(folder / "model.safetensors"), "pt") as f:
        return sum(f.get_tensor(k).numel() for k in f.keys())  # noqa: SIM118 - safe_open is not a dict


def bert_formula(V: int, H: int, L: int, F: int, P: int, pooler: bool, head: bool) -> int:  # noqa: N803
    """BERT's parameter count written out by hand (word/position/type tables, LayerNorms, Q K V O, FFN)."""
    embeddings = (V + P + 2) * H + 2 * H
    layer = 4 * (H * H + H) + 2 * H + (H * F + F) + (F * H + H) + 2 * H
    return embeddings + L * layer + (H * H + H if pooler else 0) + (H * H + H + 2 * H + V if head else 0)


@pytest.mark.parametrize("name", list(HF_CLASSES))
def test_three_counts_agree_with_transformers_and_the_file(models, name):
    c = count_checkpoint(checkpoints.load(f"hf:{name}"), checkpoints.find(f"hf:{name}"))
    hf = hf_model(models, name)
    assert c.loaded == sum(p.numel() for p in hf.parameters())  # HF counts tied weights once, as we do
    assert c.formula == c.loaded
    assert c.stored == file_numel(models / name)
    assert c.unexplained == 0
    if name in ("tiny-bert", "bert-base-only", "pretraining-bert"):
        base_only = name == "bert-base-only"
        expect = bert_formula(len(VOCAB), 32, 2, 37, 128, pooler=base_only, head=not base_only)
        assert c.loaded == expect


def test_a_pretraining_checkpoint_says_what_it_stores_beyond_the_model(models):
    c = count_checkpoint(checkpoints.load("hf:pretraining-bert"), checkpoints.find("hf:pretraining-bert"))
    H = 32  # noqa: N806
    pooler = next(n for r, n in c.left_out.items() if "pooler" in r)
    nsp = next(n for r, n in c.left_out.items() if "next-sentence" in r)
    assert (pooler, nsp) == (H * H + H, 2 * H + 2)
    assert c.stored - c.loaded == sum(c.left_out.values())
    text = c.caption()
    assert f"{c.loaded:,}" in text and f"{pooler:,} in the pooler" in text and "next-sentence" in text
    assert "no reason listed" not in text


def test_the_same_shape_preset_is_walked_to_the_checkpoint(models):
    c = count_checkpoint(checkpoints.load("hf:tiny-shape-bert"), checkpoints.find("hf:tiny-shape-bert"))
    assert c.preset is not None and c.preset.name == "bert-tiny"
    steps = dict(c.preset.steps)
    V, H, P = len(VOCAB), 128, 64  # noqa: N806
    assert steps[f"vocab_size 30522→{V}"] == (V - 30522) * H
    assert steps[f"max_position_embeddings 512→{P}"] == (P - 512) * H
    assert steps["pooler True→False"] == -(H * H + H)
    assert steps["its masked-word head"] == H * H + H + 2 * H + V
    assert c.preset.total + sum(steps.values()) == c.formula
    assert "other settings" not in steps
    assert "bert-tiny" in c.caption()


def test_caption_reports_a_disagreement_with_its_size():
    c = CheckpointCount(loaded=100, formula=90, stored=130, left_out={"the pooler": 20})
    text = c.caption()
    assert "+10): the counter and the model disagree" in text
    assert "+10 of that difference has no reason listed" in text


# ---------------------------------------------------------------- surgery on a real checkpoint

def hf_hidden(hf, ids: list[int]) -> torch.Tensor:
    with torch.no_grad():
        return hf.base_model(torch.tensor([ids])).last_hidden_state[0]


@pytest.mark.parametrize("op", ["tie", "average"])
def test_tying_a_real_bert_equals_hf_bert_with_its_layers_overwritten(models, op):
    model = checkpoints.load("hf:tiny-bert")
    result = surgery.apply(model.encoder, op, k=1)
    assert result.report.total == count_parameters(model.config.with_(sharing="all", num_groups=1)).total
    assert sum(p.numel() for p in result.encoder.parameters()) == result.report.total
    hf = hf_model(models, "tiny-bert")
    layers = hf.bert.encoder.layer
    with torch.no_grad():
        states = [layer.state_dict() for layer in layers]
        shared = states[1] if op == "tie" else {n: torch.stack([s[n] for s in states]).mean(0) for n in states[0]}
        for layer in layers:
            layer.load_state_dict(shared)
    ids = model.encode(TEXT).ids
    ours = result.encoder(torch.tensor([ids])).last_hidden_state[0]
    torch.testing.assert_close(ours, hf_hidden(hf, ids), atol=TOL, rtol=0)


def hf_pseudo_loss(hf, ids: list[int], mask_id: int, skip: set[int]) -> float:
    """Each ordinary position masked alone, scored from HF's own logits."""
    losses = []
    with torch.no_grad():
        for i, t in enumerate(ids):
            if t in skip:
                continue
            masked = list(ids)
            masked[i] = mask_id
            logp = hf(torch.tensor([masked])).logits[0, i].log_softmax(-1)
            losses.append(-float(logp[t]))
    return sum(losses) / len(losses)


@pytest.mark.parametrize("name", ["tiny-bert", "tiny-albert"])
def test_masked_word_loss_equals_transformers(models, name):
    model = checkpoints.load(f"hf:{name}")
    enc = model.encode(TEXT)
    mask_id = model.tokenizer.token_to_id("[MASK]")
    skip = special_ids(model.tokenizer)
    assert {enc.ids[0], enc.ids[-1]} <= skip
    ours = pseudo_masked_loss(model.encoder, model.head, enc.ids, enc.type_ids, mask_id, skip)
    assert len(ours.nll) == len(enc.ids) - 2
    assert ours.mean_nll == pytest.approx(hf_pseudo_loss(hf_model(models, name), enc.ids, mask_id, skip), abs=1e-4)


def test_surgery_effect_on_a_checkpoint_is_measured(models):
    model = checkpoints.load("hf:tiny-bert")
    enc, base = model.run(TEXT)
    same = surgery_effect(model, surgery.apply(model.encoder, "factorize", E=32), enc, base)  # E = H: no change
    assert same.after == same.before == count_parameters(model.config).total
    assert same.loss_after.mean_nll == pytest.approx(same.loss_before.mean_nll, abs=1e-5)
    small = surgery_effect(model, surgery.apply(model.encoder, "factorize", E=4), enc, base)
    assert small.after == count_parameters(model.config.with_(embedding="factorized", embedding_size=4)).total
    assert small.after < small.before
    assert abs(small.loss_after.mean_nll - small.loss_before.mean_nll) > 1e-3  # rank 3 of 32 changes the guesses
    text = small.sentence("tiny-bert")
    assert f"{small.before:,} to {small.after:,}" in text and f"{small.loss_after.mean_nll:.2f}" in text
    no_head = checkpoints.load("hf:bert-base-only")
    enc, base = no_head.run(TEXT)
    effect = surgery_effect(no_head, surgery.apply(no_head.encoder, "tie", k=0), enc, base)
    assert effect.loss_before is None and "no masked-word head" in effect.sentence("bert-base-only")


def test_factorizing_a_real_albert_is_refused_with_a_reason(models):
    with pytest.raises(ConfigError, match="already factorized"):
        surgery.apply(checkpoints.load("hf:tiny-albert").encoder, "factorize", E=8)



# ---------------------------------------------------------------- every page, with checkpoints on the server

def test_every_page_runs_with_a_checkpoint_picked(models):
    """The packaged zoo (pages without a picker read its logs) plus these checkpoints; where a page has a model
    picker, a checkpoint is picked in each one. A name no other test file uses, so no cached model is shared."""
    from conftest import page_file
    from streamlit.testing.v1 import AppTest

    from albertviz_app.ui.nav import PAGES

    pickers = {"attention": ["attention.model"],
               "hidden_states": ["hidden_states.model_a", "hidden_states.model_b", "hidden_states.surgery_model"],
               "parameters": ["parameters.checkpoint"]}
    assert set(pickers) <= {p.slug for p in PAGES}
    for page in PAGES:
        at = AppTest.from_file(page_file(page.slug), default_timeout=300)
        at.run()
        for box in pickers.get(page.slug, []):
            at.selectbox(key=box).set_value("hf:tiny-shape-bert").run()
            assert at.selectbox(key=box).value == "hf:tiny-shape-bert"
        problems = [str(e.value) for e in at.exception] + [e.value for e in at.error]
        assert not problems, (page.slug, problems)
