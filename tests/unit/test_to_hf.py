"""albertviz models out to Hugging Face: `to_hf` computes the same thing, a saved folder loads offline.

The other side of every comparison is `transformers` itself (its BertModel / AlbertModel forward, its
`from_pretrained`, its AutoTokenizer), not albertviz code.
"""

import json

import pytest
import torch
from transformers import AlbertForMaskedLM, AlbertModel, AutoModel, AutoModelForMaskedLM, AutoTokenizer, BertModel

from albertviz import ConfigError, MaskedLM, ModelConfig, from_hf
from albertviz.core.hf import masked_lm_from_hf
from albertviz.core.hf_export import export_hf_folder, to_hf

TOL = 1e-5


def cell(sharing: str, embedding: str, **kw) -> ModelConfig:
    """A zoo-shaped cell (post-LN, gelu, no pooler, sequence sharing), shrunk to test size."""
    base = dict(vocab_size=99, hidden_size=32, embedding_size=16 if embedding == "factorized" else 32, num_layers=4,
                num_heads=4, intermediate_size=37, max_position_embeddings=40, sharing=sharing, embedding=embedding,
                pooler=False)
    return ModelConfig(**{**base, **kw})


def trained_looking(cfg: ModelConfig, seed: int = 0) -> MaskedLM:
    """Random weights with non-trivial biases and LayerNorms, so a weight left unset changes the outputs."""
    torch.manual_seed(seed)
    lm = MaskedLM(cfg).eval()
    with torch.no_grad():
        for name, p in lm.named_parameters():
            if name.endswith("bias") or "LayerNorm" in name:
                p.add_(torch.randn_like(p) * 0.1)
    return lm


def batch():
    g = torch.Generator().manual_seed(3)
    ids = torch.randint(0, 99, (2, 9), generator=g)
    mask = torch.ones_like(ids)
    mask[0, 6:] = 0
    types = torch.zeros_like(ids)
    types[:, 4:] = 1
    return ids, mask, types


def compare(lm: MaskedLM, hf, with_logits: bool) -> None:
    ids, mask, types = batch()
    with torch.no_grad():
        mine = lm.encoder(ids, attention_mask=mask, token_type_ids=types)
        theirs = hf(ids, attention_mask=mask, token_type_ids=types, output_hidden_states=True, output_attentions=True)
    assert len(theirs.hidden_states) == lm.config.num_layers + 1
    for a, b in zip(mine.hidden_states, theirs.hidden_states, strict=True):
        torch.testing.assert_close(a, b, atol=TOL, rtol=0)
    for a, b in zip(mine.attentions, theirs.attentions, strict=True):
        torch.testing.assert_close(a, b, atol=TOL, rtol=0)
    if with_logits:
        with torch.no_grad():
            logits = lm.head(mine.last_hidden_state, lm.encoder.embeddings.word_matrix())
        torch.testing.assert_close(logits, theirs.logits, atol=TOL, rtol=0)


EXPRESSIBLE = [("none", "full", BertModel), ("all", "full", AlbertModel), ("all", "factorized", AlbertModel),
               ("none", "factorized", AlbertModel)]


@pytest.mark.parametrize("sharing, embedding, cls", EXPRESSIBLE, ids=[f"{s}-{e}" for s, e, _ in EXPRESSIBLE])
def test_to_hf_gives_equal_outputs(sharing, embedding, cls):
    lm = trained_looking(cell(sharing, embedding))
    hf = to_hf(lm.encoder)
    assert type(hf) is cls
    compare(lm, hf, with_logits=False)
    mlm = to_hf(lm.encoder, lm.head)
    assert type(mlm).__name__ == cls.__name__.replace("Model", "ForMaskedLM")
    compare(lm, mlm, with_logits=True)


def test_albert_layer_groups_carry_sequence_sharing_with_several_groups():
    lm = trained_looking(cell("all", "factorized", num_groups=2, share_strategy="sequence"))
    hf = to_hf(lm.encoder, lm.head)
    assert hf.config.num_hidden_groups == 2
    compare(lm, hf, with_logits=True)


def test_pooler_goes_along_with_the_base_model():
    lm = trained_looking(cell("none", "full", pooler=True))
    hf = to_hf(lm.encoder)
    ids, mask, types = batch()
    with torch.no_grad():
        torch.testing.assert_close(lm.encoder(ids, mask, types).pooler_output, hf(ids, mask, types).pooler_output,
                                   atol=TOL, rtol=0)


@pytest.mark.parametrize("sharing, embedding", [("all", "factorized"), ("none", "full"), ("all", "full")])
def test_round_trip_through_a_saved_folder(tmp_path, sharing, embedding):
    """albertviz → to_hf → save_pretrained → transformers' from_pretrained → from_hf: the same model."""
    lm = trained_looking(cell(sharing, embedding), seed=1)
    to_hf(lm.encoder, lm.head).save_pretrained(str(tmp_path), safe_serialization=True)
    assert (tmp_path / "model.safetensors").exists() and not list(tmp_path.glob("*.bin"))
    loaded = AutoModelForMaskedLM.from_pretrained(str(tmp_path), local_files_only=True, use_safetensors=True,
                                                  attn_implementation="eager").eval()
    compare(lm, loaded, with_logits=True)
    back = masked_lm_from_hf(loaded)
    assert back.config == lm.config
    compare(back, loaded, with_logits=True)
    for (n, a), (_, b) in zip(lm.state_dict().items(), back.state_dict().items(), strict=True):
        assert torch.equal(a, b), n


CANNOT = [
    (dict(sharing="all", embedding="hashed"), "Hashed"),
    (dict(sharing="ffn", embedding="full"), "shares only its ffn blocks"),
    (dict(sharing="attention", embedding="factorized"), "shares only its attention blocks"),
    (dict(sharing="all", embedding="factorized", num_groups=2, share_strategy="cycle"), "ABAB"),
    (dict(sharing="all", embedding="full", num_groups=3, share_strategy="cycle_rev"), "cycle_rev, M=3.*AABC"),
]


@pytest.mark.parametrize("changes, why", CANNOT, ids=[w for _, w in CANNOT])
def test_cells_hf_cannot_express_raise_config_error_saying_why(changes, why):
    cfg = cell(changes.pop("sharing"), changes.pop("embedding"), **changes)
    with pytest.raises(ConfigError, match=why):
        to_hf(MaskedLM(cfg).encoder)


def test_cycle_with_one_group_is_albert_and_exports():
    lm = trained_looking(cell("all", "factorized", share_strategy="cycle"))
    compare(lm, to_hf(lm.encoder, lm.head), with_logits=True)


@pytest.fixture(scope="module")
def fake_zoo(tmp_path_factory):
    from fake_zoo import write_fake_zoo, zoo_at

    root = tmp_path_factory.mktemp("zoo")
    write_fake_zoo(root, ["all-factorized", "ffn-full"])
    with zoo_at(root):
        yield root


def test_export_hf_cli_writes_a_folder_auto_classes_load_offline(fake_zoo, tmp_path, monkeypatch):
    from albertviz import cli, zoo

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    out = tmp_path / "all-factorized"
    assert cli.main(["export-hf", "all-factorized", str(out)]) == 0
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= {p.name for p in out.iterdir()}
    assert json.loads((out / "config.json").read_text())["model_type"] == "albert"
    zm = zoo.load("all", "factorized")
    base = AutoModel.from_pretrained(str(out), local_files_only=True, use_safetensors=True,
                                     attn_implementation="eager").eval()
    assert type(base) is AlbertModel
    mlm = AutoModelForMaskedLM.from_pretrained(str(out), local_files_only=True, use_safetensors=True,
                                               attn_implementation="eager").eval()
    assert type(mlm) is AlbertForMaskedLM
    text = "The cat sat on the [MASK] because it was tired."
    tok = AutoTokenizer.from_pretrained(str(out), local_files_only=True)
    enc = zm.encode(text)
    assert tok(text)["input_ids"] == enc.ids
    ids = torch.tensor([enc.ids])
    with torch.no_grad():
        mine = zm.encoder(ids)
        torch.testing.assert_close(base(ids).last_hidden_state, mine.last_hidden_state, atol=TOL, rtol=0)
        logits = zm.head(mine.last_hidden_state, zm.encoder.embeddings.word_matrix())
        torch.testing.assert_close(mlm(ids).logits, logits, atol=TOL, rtol=0)
    back = masked_lm_from_hf(mlm)  # (AutoModel adds a freshly initialised pooler: the zoo has none)
    assert back.config == zm.config
    assert from_hf(base).config == zm.config.with_(pooler=True)


def test_export_hf_cli_refuses_a_cell_hf_cannot_express(fake_zoo, tmp_path, capsys):
    from albertviz import cli

    assert cli.main(["export-hf", "ffn-full", str(tmp_path / "x")]) == 2
    assert "shares only its ffn blocks" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_export_refuses_a_tokenizer_bigger_than_the_model(tmp_path):
    from albertviz.data.tokenizer import load_tokenizer

    lm = trained_looking(cell("all", "factorized"))
    with pytest.raises(ConfigError, match="tokenizer has"):
        export_hf_folder(lm.encoder, lm.head, load_tokenizer(), tmp_path / "x")
