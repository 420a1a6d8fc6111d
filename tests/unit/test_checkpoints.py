"""Users' own BERT / ALBERT checkpoints: discovered offline, listed with reasons, loaded equal to HF.

No real hub model exists here, so the tests build tiny random `BertForMaskedLM` / `AlbertForMaskedLM`
with `save_pretrained(safe_serialization=True)`, in plain folders and in a fake hub-cache layout
(`models--org--name/{blobs,refs,snapshots}` with symlinks, as huggingface_hub writes it). The reference
for every number is `transformers` itself (its from_pretrained, forward and AutoTokenizer).
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from transformers import (
    AlbertConfig,
    AlbertForMaskedLM,
    AutoTokenizer,
    BertConfig,
    BertForMaskedLM,
    BertModel,
)

from albertviz import checkpoints
from albertviz.checkpoints import CheckpointError, scan

TOL = 1e-5
TEXT = "The cat sat on the [MASK] because it was tired."
WORDS = ("the cat sat on mat because it was tired ghost of king walks castle walls at midnight dog ran in park and "
         "bird sang . , ! ? ' to be or not").split()
LETTERS = "abcdefghijklmnopqrstuvwxyz"
VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS, *LETTERS, *[f"##{c}" for c in LETTERS], "##ed"]


def randomise(model):
    """Random biases and LayerNorms too, so any weight albertviz fails to copy changes the outputs."""
    torch.manual_seed(7)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias") or "LayerNorm" in name:
                p.add_(torch.randn_like(p) * 0.1)
    return model.eval()


def bert_config(**kw) -> BertConfig:
    return BertConfig(vocab_size=len(VOCAB), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                      intermediate_size=37, max_position_embeddings=128, **kw)


def save_bert(folder: Path, head: bool = True, tokenizer_json: bool = False, **save_kw) -> Path:
    torch.manual_seed(0)
    model = randomise((BertForMaskedLM if head else BertModel)(bert_config()))
    model.save_pretrained(str(folder), safe_serialization=True, **save_kw)
    (folder / "vocab.txt").write_text("\n".join(VOCAB) + "\n")
    if tokenizer_json:  # what the hub ships: transformers' own tokenizer.json (vocab.txt removed)
        AutoTokenizer.from_pretrained(str(folder), local_files_only=True).save_pretrained(str(folder))
        (folder / "vocab.txt").unlink()
    return folder


@pytest.fixture(scope="session")
def spiece(tmp_path_factory) -> Path:
    """A small SentencePiece Unigram model with ALBERT's special pieces, trained here."""
    import sentencepiece as spm

    root = tmp_path_factory.mktemp("spm")
    sentences = [f"{a} {b} {c} {d}." for a in WORDS[:12] for b in WORDS[12:20] for c in WORDS[5:9] for d in WORDS[:3]]
    (root / "text.txt").write_text("\n".join(sentences))
    spm.SentencePieceTrainer.train(input=str(root / "text.txt"), model_prefix=str(root / "sp"), vocab_size=120,
                                   hard_vocab_limit=False, pad_id=0, unk_id=1, bos_id=-1, eos_id=-1,
                                   control_symbols=["[CLS]", "[SEP]", "[MASK]"], model_type="unigram",
                                   minloglevel=2)
    return root / "sp.model"


def save_albert(folder: Path, spiece: Path, tokenizer_json: bool = False, **cfg_kw) -> Path:
    import sentencepiece as spm

    size = spm.SentencePieceProcessor(model_file=str(spiece)).get_piece_size()
    cfg = AlbertConfig(**{**dict(vocab_size=size, embedding_size=16, hidden_size=32, num_hidden_layers=3,
                                 num_attention_heads=4, intermediate_size=37, max_position_embeddings=128), **cfg_kw})
    torch.manual_seed(1)
    randomise(AlbertForMaskedLM(cfg)).save_pretrained(str(folder), safe_serialization=True)
    shutil.copy(spiece, folder / "spiece.model")
    if tokenizer_json:
        AutoTokenizer.from_pretrained(str(folder), local_files_only=True).save_pretrained(str(folder))
        (folder / "spiece.model").unlink()
    return folder


def cache_repo(cache: Path, repo_id: str, source: Path, revision: str = "0" * 40) -> Path:
    """Copy `source` into a hub-cache layout: content-addressed blobs, symlinked snapshot, refs/main."""
    repo = cache / ("models--" + repo_id.replace("/", "--"))
    snap = repo / "snapshots" / revision
    (repo / "blobs").mkdir(parents=True, exist_ok=True)
    snap.mkdir(parents=True)
    for f in source.iterdir():
        digest = hashlib.sha256(f.read_bytes()).hexdigest()
        shutil.copy(f, repo / "blobs" / digest)
        (snap / f.name).symlink_to(Path("..", "..", "blobs", digest))
    (repo / "refs").mkdir(exist_ok=True)
    (repo / "refs" / "main").write_text(revision)
    return snap


@pytest.fixture(scope="module")
def world(tmp_path_factory, spiece):
    """ALBERTVIZ_MODELS folders and a fake HF cache, built once."""
    root = tmp_path_factory.mktemp("world")
    models = root / "models"
    save_bert(models / "tiny-bert")
    save_albert(models / "tiny-albert", spiece)
    cache = root / "hub"
    staging = root / "staging"
    cache_repo(cache, "org/albert-tiny", save_albert(staging / "a", spiece, tokenizer_json=True))
    cache_repo(cache, "org/bert-base-only", save_bert(staging / "b", head=False, tokenizer_json=True))
    gpt = staging / "gpt"
    gpt.mkdir()
    (gpt / "config.json").write_text(json.dumps({"model_type": "gpt2"}))
    cache_repo(cache, "gpt2", gpt)
    (cache / "datasets--org--corpus").mkdir()
    return {"root": root, "models": models, "cache": cache}


@pytest.fixture
def env(monkeypatch):
    """Point discovery at folders / a cache, as whoever starts the server would; rescan afterwards."""
    def use(models: list[Path] | None = None, cache: Path | None = None, **extra: str):
        monkeypatch.setenv("ALBERTVIZ_MODELS", os.pathsep.join(str(p) for p in models or []))
        monkeypatch.setenv("HF_HUB_CACHE", str(cache or Path("/nonexistent-albertviz-cache")))
        for k, v in extra.items():
            monkeypatch.setenv(k, v)
        checkpoints.discover.cache_clear()
        return checkpoints.discover()
    yield use
    checkpoints.discover.cache_clear()


def by_key(found) -> dict:
    return {c.key: c for c in found.checkpoints}


# ---------------------------------------------------------------- discovery

def test_folders_and_cache_are_discovered_and_listed(world, env):
    found = by_key(env([world["models"]], world["cache"]))
    assert set(found) == {"hf:tiny-bert", "hf:tiny-albert", "hf:org/albert-tiny", "hf:org/bert-base-only"}
    assert all(c.available for c in found.values()), [c.line() for c in found.values()]
    assert found["hf:tiny-bert"].tokenizer == "vocab.txt" and found["hf:tiny-bert"].has_head
    assert found["hf:tiny-albert"].tokenizer == "spiece.model" and found["hf:tiny-albert"].shape == "L3 H32 A4 E16"
    cached = found["hf:org/albert-tiny"]
    assert cached.tokenizer == "tokenizer.json" and cached.source == "HF cache"
    assert not found["hf:org/bert-base-only"].has_head
    assert found["hf:org/albert-tiny"].path.name == "0" * 40  # the snapshot refs/main names


def test_discovery_is_fixed_at_first_use(world, env, tmp_path):
    first = env([tmp_path])
    save_bert(tmp_path / "late-bert")
    assert checkpoints.discover() is first and not [c for c in first.checkpoints if c.available]
    checkpoints.discover.cache_clear()
    assert "hf:late-bert" in by_key(checkpoints.discover())


def test_a_single_model_folder_and_duplicate_names(world, tmp_path):
    a, b = tmp_path / "a" / "tiny-bert", tmp_path / "b" / "tiny-bert"
    shutil.copytree(world["models"] / "tiny-bert", a)
    shutil.copytree(world["models"] / "tiny-bert", b)
    assert [c.key for c in scan([a, b], None, 2000).checkpoints] == ["hf:tiny-bert", "hf:tiny-bert-2"]


def test_cache_dir_follows_huggingface_hub_precedence(tmp_path, monkeypatch):
    """Same answer as huggingface_hub's own constants (run fresh, since it reads the environment on import)."""
    cases = [{"HF_HUB_CACHE": str(tmp_path / "c")}, {"HF_HOME": str(tmp_path / "h")},
             {"XDG_CACHE_HOME": str(tmp_path / "x")}, {}]
    for case in cases:
        for var in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME", "XDG_CACHE_HOME"):
            monkeypatch.delenv(var, raising=False)
        for k, v in case.items():
            monkeypatch.setenv(k, v)
        theirs = subprocess.run([sys.executable, "-c", "from huggingface_hub import constants; "
                                 "print(constants.HF_HUB_CACHE)"], capture_output=True, text=True, check=True)
        assert Path(theirs.stdout.strip()) == checkpoints.hub_cache_dir(), case


def test_nothing_is_downloaded_when_loading(world, env, monkeypatch):
    env([world["models"]], world["cache"])
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)

    def no_network(*args, **kwargs):
        raise AssertionError("a checkpoint load tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    for key in ("hf:tiny-bert", "hf:org/albert-tiny"):
        assert checkpoints.load(key).head is not None
    assert os.environ["HF_HUB_OFFLINE"] == "1"


# ---------------------------------------------------------------- loaded models equal transformers'

REFERENCE = {"hf:tiny-bert": BertForMaskedLM, "hf:tiny-albert": AlbertForMaskedLM,
             "hf:org/albert-tiny": AlbertForMaskedLM, "hf:org/bert-base-only": BertModel}


@pytest.mark.parametrize("key", list(REFERENCE))
def test_loaded_checkpoint_equals_transformers(world, env, key):
    """Tokens, every hidden state, every attention map, and the masked-word logits."""
    found = by_key(env([world["models"]], world["cache"]))
    folder = found[key].path
    zm = checkpoints.load(key)
    hf = REFERENCE[key].from_pretrained(str(folder), local_files_only=True, use_safetensors=True,
                                        attn_implementation="eager").eval()
    hf_tok = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    for text in (TEXT, "A ghost walks the castle walls at midnight!", "Crème brûlée, naïve   café"):
        assert zm.encode(text).ids == hf_tok(text)["input_ids"], text
    enc, out = zm.run(TEXT)
    ids = torch.tensor([enc.ids])
    with torch.no_grad():
        theirs = hf(ids, output_hidden_states=True, output_attentions=True)
    assert len(out.hidden_states) == hf.config.num_hidden_layers + 1 == zm.config.num_layers + 1
    for a, b in zip(out.hidden_states, theirs.hidden_states, strict=True):
        torch.testing.assert_close(a, b, atol=TOL, rtol=0)
    for a, b in zip(out.attentions, theirs.attentions, strict=True):
        torch.testing.assert_close(a, b, atol=TOL, rtol=0)
    if zm.head is None:
        with pytest.raises(checkpoints.ZooError, match="no MLM head"):
            zm.predict_masked(TEXT)
        return
    with torch.no_grad():
        logits = zm.head(out.last_hidden_state, zm.encoder.embeddings.word_matrix())
    torch.testing.assert_close(logits, theirs.logits, atol=TOL, rtol=0)
    pos = enc.tokens.index("[MASK]")
    guess = zm.predict_masked(TEXT, top_k=3)
    assert guess[0]["position"] == pos
    top = theirs.logits[0, pos].softmax(-1).topk(3)
    assert guess[0]["tokens"] == hf_tok.convert_ids_to_tokens(top.indices.tolist())
    assert guess[0]["probs"] == pytest.approx(top.values.tolist(), abs=1e-5)


def test_sharded_safetensors_load(world, tmp_path):
    folder = save_bert(tmp_path / "sharded", max_shard_size="20KB")
    assert (folder / "model.safetensors.index.json").exists() and not (folder / "model.safetensors").exists()
    (c,) = scan([folder], None, 2000).checkpoints
    assert c.available and len(c.weights) > 1 and c.has_head


# ---------------------------------------------------------------- bad inputs: clear messages

def only(folder: Path, **kw):
    (c,) = scan([folder], None, kw.get("max_mb", 2000)).checkpoints
    return c


def test_folder_without_config_json(tmp_path):
    (tmp_path / "empty").mkdir()
    c = only(tmp_path / "empty")
    assert c.status == "unavailable" and c.reason.startswith("no config.json in") and c.short == "no config.json"
    assert "is not a folder" in only(tmp_path / "missing").reason


def test_unsupported_model_type(tmp_path):
    (tmp_path / "gpt").mkdir()
    (tmp_path / "gpt" / "config.json").write_text(json.dumps({"model_type": "gpt2"}))
    c = only(tmp_path / "gpt")
    assert c.status == "unavailable" and "model type 'gpt2' is not supported" in c.reason
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "config.json").write_text("{not json")
    assert "cannot be read" in only(tmp_path / "junk").reason


class Trap:
    """Unpickling this writes a file: proof that something executed the weights."""

    def __init__(self, target: str):
        self.target = target

    def __reduce__(self):
        return (Path.write_text, (Path(self.target), "pwned"))


def pickle_only_bert(folder: Path) -> Path:
    folder.mkdir(parents=True)
    torch.manual_seed(0)
    model = randomise(BertForMaskedLM(bert_config()))
    model.config.architectures = ["BertForMaskedLM"]
    model.config.save_pretrained(str(folder))
    torch.save(model.state_dict(), folder / "pytorch_model.bin")  # what transformers < 4.35 wrote by default
    (folder / "vocab.txt").write_text("\n".join(VOCAB) + "\n")
    return folder


def test_pickle_only_checkpoint_is_listed_with_a_conversion_that_works(tmp_path, monkeypatch):
    folder = pickle_only_bert(tmp_path / "old-bert")
    c = only(folder)
    assert c.status == "unavailable" and c.short.startswith("weights only in pytorch_model.bin")
    assert "never loads it" in c.reason and "AutoModelForMaskedLM" in c.reason
    # the printed command, run offline, gives a loadable checkpoint with the same masked-word logits
    command = c.reason.split("offline: ", 1)[1]
    assert command.startswith('python -c "') and command.endswith('"')
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    exec(command[len('python -c "'):-1], {})  # the user-facing command itself
    converted = only(folder)
    assert converted.available and converted.has_head
    ids = torch.tensor([[2, 7, 8, 4, 3]])
    reference = BertForMaskedLM.from_pretrained(str(folder), local_files_only=True, use_safetensors=True).eval()
    original = BertForMaskedLM(bert_config())
    original.load_state_dict(torch.load(folder / "pytorch_model.bin", weights_only=True))
    with torch.no_grad():
        torch.testing.assert_close(reference(ids).logits, original.eval()(ids).logits, atol=0, rtol=0)


def test_pickle_renamed_to_safetensors_is_refused_and_never_run(world, env, tmp_path):
    folder = tmp_path / "disguised"
    shutil.copytree(world["models"] / "tiny-bert", folder)
    sentinel = tmp_path / "pwned.txt"
    (folder / "model.safetensors").write_bytes(pickle.dumps({"w": Trap(str(sentinel))}))
    c = only(folder)
    assert c.status == "unavailable" and "not a safetensors file" in c.reason
    env([folder])
    with pytest.raises(CheckpointError, match="not a safetensors file"):
        checkpoints.load("hf:disguised")
    assert not sentinel.exists()


def test_truncated_safetensors(world, tmp_path):
    folder = tmp_path / "cut"
    shutil.copytree(world["models"] / "tiny-bert", folder)
    data = (folder / "model.safetensors").read_bytes()
    (folder / "model.safetensors").write_bytes(data[: len(data) - 1000])
    c = only(folder)
    assert c.status == "unavailable" and "truncated" in c.reason and f"{len(data) - 1000:,} bytes" in c.reason
    (folder / "model.safetensors").write_bytes(data[:5])
    assert "cut short" in only(folder).reason


@pytest.mark.parametrize("change, message", [
    ({"intermediate_size": 40}, r"disagree: bert.encoder.layer.0.intermediate.dense.bias is \(37,\) in the file "
                                r"but config.json asks for \(40,\) \(and 5 more\)"),
    ({"num_hidden_layers": 3}, r"lack 16 tensor\(s\)"),
    ({"num_hidden_layers": 1}, r"hold 16 tensor\(s\) config.json does not describe"),
])
def test_config_and_weights_that_disagree(world, env, tmp_path, change, message):
    folder = tmp_path / "odd"
    shutil.copytree(world["models"] / "tiny-bert", folder)
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, **change}))
    assert only(folder).available  # only headers are read at start; loading compares every shape
    env([folder])
    with pytest.raises(CheckpointError, match=message):
        checkpoints.load("hf:odd")


def test_folder_that_disappears_after_start(world, env, tmp_path):
    folder = tmp_path / "fleeting"
    shutil.copytree(world["models"] / "tiny-bert", folder)
    assert by_key(env([folder]))["hf:fleeting"].available
    shutil.rmtree(folder)
    with pytest.raises(CheckpointError, match="gone since the server started"):
        checkpoints.load("hf:fleeting")
    with pytest.raises(CheckpointError, match="No checkpoint 'hf:never'"):
        checkpoints.load("hf:never")


def test_empty_missing_and_unreadable_caches(tmp_path, monkeypatch):
    (tmp_path / "empty").mkdir()
    for cache in (tmp_path / "empty", tmp_path / "absent"):
        d = scan([], cache, 2000)
        assert d.checkpoints == () and d.notes == ()
    (tmp_path / "file").write_text("not a folder")
    d = scan([], tmp_path / "file", 2000)
    assert d.checkpoints == () and "cannot be read" in d.notes[0]
    locked = tmp_path / "locked"
    locked.mkdir()
    real_iterdir = Path.iterdir

    def iterdir(self):
        if self == locked:
            raise PermissionError(13, "Permission denied")
        return real_iterdir(self)

    monkeypatch.setattr(Path, "iterdir", iterdir)  # root ignores chmod, so refuse the way the OS would
    d = scan([], locked, 2000)
    assert d.checkpoints == () and "Permission denied" in d.notes[0]


def test_memory_cap_skips_big_models(world, env):
    c = only(world["models"] / "tiny-bert", max_mb=0.01)
    assert c.status == "skipped" and "over the 0 MB cap" in c.reason and c.size_mb > 0.01
    found = by_key(env([world["models"]], ALBERTVIZ_MAX_MODEL_MB="0.01"))
    assert found["hf:tiny-bert"].status == "skipped"
    with pytest.raises(CheckpointError, match="skipped.*ALBERTVIZ_MAX_MODEL_MB"):
        checkpoints.load("hf:tiny-bert")


def test_spiece_without_sentencepiece_says_what_to_install(world, monkeypatch):
    monkeypatch.setattr(checkpoints.inspection, "_has_sentencepiece", lambda: False)
    c = only(world["models"] / "tiny-albert")
    assert c.status == "unavailable" and "pip install sentencepiece protobuf" in c.reason


def test_no_tokenizer_and_a_tokenizer_bigger_than_the_model(world, env, tmp_path):
    folder = tmp_path / "notok"
    shutil.copytree(world["models"] / "tiny-bert", folder)
    (folder / "vocab.txt").unlink()
    assert "no tokenizer.json, vocab.txt or spiece.model" in only(folder).reason
    (folder / "vocab.txt").write_text("\n".join(VOCAB + ["extra1", "extra2"]) + "\n")
    env([folder])
    with pytest.raises(CheckpointError, match=f"tokenizer has {len(VOCAB) + 2} tokens but the model only {len(VOCAB)}"):
        checkpoints.load("hf:notok")


# ---------------------------------------------------------------- the picker

def test_picker_lists_ready_checkpoints_and_unavailable_ones_apart(world, env, tmp_path):
    from albertviz_app.ui.models import available_models, label, unavailable_models

    pickle_only_bert(world["root"] / "extra" / "old-bert")
    env([world["models"], world["root"] / "extra"])
    assert available_models()[-2:] == ["hf:tiny-albert", "hf:tiny-bert"]
    assert unavailable_models() == ["hf:old-bert"]
    assert label("hf:tiny-albert") == "tiny-albert (ALBERT L3 H32 A4 E16, your folder)"
    assert label("hf:old-bert") == "old-bert — unavailable: weights only in pytorch_model.bin (convert to safetensors)"


# ---------------------------------------------------------------- pages, with a checkpoint selected

@pytest.fixture(scope="module")
def app_env(world, tmp_path_factory):
    from fake_zoo import write_fake_zoo, zoo_at

    extra = tmp_path_factory.mktemp("extra")
    pickle_only_bert(extra / "old-bert")
    root = tmp_path_factory.mktemp("zoo")
    write_fake_zoo(root, ["none-full", "all-full"])
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ALBERTVIZ_MODELS", os.pathsep.join([str(world["models"]), str(extra)]))
        mp.setenv("HF_HUB_CACHE", str(world["cache"]))
        checkpoints.discover.cache_clear()
        with zoo_at(root):
            yield
    checkpoints.discover.cache_clear()


def app(slug: str):
    from conftest import page_file
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(page_file(slug), default_timeout=300)
    at.run()
    assert not at.exception
    return at


def page_problems(at) -> list[str]:
    return [str(e.value) for e in at.exception] + [e.value for e in at.error]


@pytest.mark.parametrize("key", ["hf:tiny-albert", "hf:org/bert-base-only"])
def test_attention_page_runs_with_a_checkpoint(app_env, key):
    from conftest import charts

    at = app("attention")
    at.selectbox(key="attention.model").set_value(key).run()
    assert not page_problems(at), page_problems(at)
    drawn = charts(at)
    assert {f"attention.head_map.{key}", f"attention.grid.{key}"} <= set(drawn)
    if key == "hf:tiny-albert":  # its own MLM head guesses, in the section that follows the picker
        assert f"attention.mask_chart.{key}" in drawn
    else:  # a base model has no head: left out of "Mask a token" with the reason, never an error
        assert f"attention.mask_chart.{key}" not in drawn
        assert any("cannot fill in [MASK]" in i.value for i in at.info)


def test_hidden_states_page_runs_with_a_checkpoint(app_env):
    from conftest import charts, values

    at = app("hidden_states")
    at.selectbox(key="hidden_states.model_a").set_value("hf:tiny-bert").run()
    at.selectbox(key="hidden_states.model_b").set_value("hf:tiny-albert").run()
    assert not page_problems(at), page_problems(at)
    fig = charts(at)["hidden_states.fig1"]
    lengths = {t["name"]: len(values(t["y"])) for t in fig["data"] if t.get("xaxis", "x") == "x"}
    assert sorted(lengths.values()) == [2, 3]  # the checkpoints' own layer counts


def test_an_unavailable_checkpoint_picked_shows_why_and_the_page_goes_on(app_env):
    at = app("attention")
    at.selectbox(key="attention.model").set_value("hf:old-bert").run()
    assert not at.exception
    assert any("pytorch_model.bin" in e.value and "never loads it" in e.value for e in at.error)


def metric(at, text: str) -> str:
    return next(m.value for m in at.metric if m.label == text)


def test_parameter_explorer_counts_a_checkpoint(app_env, world):
    at = app("parameters")
    assert not any(d.value.columns[0] == "count" for d in at.dataframe)  # nothing loads until one is picked
    at.selectbox(key="parameters.checkpoint").set_value("hf:tiny-bert").run()
    assert not page_problems(at), page_problems(at)
    table = next(d.value for d in at.dataframe if list(d.value.columns) == ["count", "parameters"])
    hf = BertForMaskedLM.from_pretrained(str(world["models"] / "tiny-bert"), local_files_only=True,
                                         use_safetensors=True)
    numel = sum(p.numel() for p in hf.parameters())
    counts = dict(zip(table["count"], table["parameters"], strict=True))
    assert counts["summed over the loaded modules"] == numel
    assert counts["count_parameters for this shape"] == numel
    assert any(f"The loaded modules hold {numel:,} parameters, exactly what count_parameters" in m.value
               for m in at.markdown)


def test_surgery_on_a_checkpoint_reports_its_counts_and_loss(app_env, world):
    from albertviz import count_parameters
    from albertviz.lessons.surgery_effect import masked_loss

    at = app("hidden_states")
    at.radio(key="hidden_states.surgery_op").set_value("tie").run()
    at.slider(key="hidden_states.tie_k").set_value(6).run()  # MiniLM's last layer …
    at.selectbox(key="hidden_states.surgery_model").set_value("hf:tiny-bert").run()  # … then a 2-layer model
    assert not page_problems(at), page_problems(at)
    assert at.slider(key="hidden_states.tie_k").value == 2
    model = checkpoints.load("hf:tiny-bert")
    assert metric(at, "Parameters after surgery") == f"{count_parameters(model.config.with_(sharing='all')).total:,}"
    text = at.text_input(key="hidden_states.sentence").value
    enc = model.encode(text)
    from albertviz.analysis import surgery

    after = masked_loss(model, surgery.tie_layers(model.encoder, 1).encoder, enc)
    assert metric(at, "Masked-word loss (nats)") == f"{after.mean_nll:.2f}"
    at.selectbox(key="hidden_states.surgery_model").set_value("hf:tiny-albert").run()
    at.radio(key="hidden_states.surgery_op").set_value("factorize").run()
    assert not at.exception
    assert any("already factorized" in e.value for e in at.error)
