"""Every page, in a real headless Chromium against `streamlit run app.py`: it renders what a student should see.

A page passes when Streamlit has finished running it, no exception box is shown, no JavaScript dialog
fired, nothing was requested from the internet, and its charts and numbers are there — and change when
a student switches a sharing mode, an embedding type or a model, types a sentence or answers a question.
Each page is also saved as a full-page screenshot (tests/artifacts/screenshots; `make screenshots`
copies them into docs/screenshots for the README).
"""

from __future__ import annotations

import pytest

from albertviz import PRESETS, count_parameters
from albertviz.analysis.surgery import OPERATIONS
from albertviz_app.ui.models import available_models, label, load_model
from albertviz_app.ui.nav import PAGES

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# slug: (words of the page's title, least number of plotly charts once it has run with its defaults)
EXPECTED = {
    "home": ("see what parameter sharing does", 0),
    "parameters": ("Parameter explorer", 2),
    "attention": ("Attention", 4),
    "hidden_states": ("Hidden states", 4),
    "embeddings": ("Embeddings", 2),  # tab ① only: the other tabs run when opened
    "convergence": ("Convergence", 2),
    "quiz": ("Quiz", 0),
}

def test_every_page_in_the_menu_is_covered():
    assert set(EXPECTED) == {p.slug for p in PAGES}


@pytest.mark.parametrize("slug", [p.slug for p in PAGES])
def test_every_page_renders_its_charts_and_is_screenshotted(app, slug):
    title, least_charts = EXPECTED[slug]
    scripts = []  # the frontend's lazily loaded chunks this first visit fetched
    app.page.on("request", lambda r: scripts.append(r.url.rsplit("/", 1)[-1]) if "/static/js/" in r.url else None)
    app.visit(slug)
    app.assert_healthy()
    # st.code's syntax highlighter is 1.5 MB of JavaScript, evaluated before the charts draw (≈0.4 s of a new
    # browser's first visit to Attention): no page shows code on arrival (the link popover's st.code mounts on open)
    assert not [s for s in scripts if s.startswith("StreamlitSyntaxHighlighter")], scripts
    assert title in app.page.locator("h1").first.inner_text()
    assert app.charts() >= least_charts
    # the menu is the app's own navigation (titles), not Streamlit's file-name fallback
    nav = app.page.locator('[data-testid="stSidebarNav"]').inner_text()
    assert all(p.title in nav for p in PAGES), nav
    assert app.screenshot(slug).stat().st_size > 10_000


def test_home_shows_the_real_albert_saving(app):
    app.visit("home")
    base, albert = count_parameters(PRESETS["bert-base"]), count_parameters(PRESETS["albert-base"])
    assert app.metric("BERT-base parameters") == f"{base.total / 1e6:.0f}M"
    assert app.metric("ALBERT-base parameters") == f"{albert.total / 1e6:.0f}M"


def test_parameter_explorer_switches_sharing_and_embedding(app):
    """Clicking a sharing mode or an embedding type changes the count to what count_parameters says."""
    app.visit("parameters")
    base = PRESETS["albert-base"]
    shown = {"start": app.metric("Unique parameters")}
    assert shown["start"] == f"{count_parameters(base).total / 1e6:,.2f}M"
    app.radio("parameters.sharing", "not shared (BERT)")
    shown["none"] = app.metric("Unique parameters")
    assert shown["none"] == f"{count_parameters(base.with_(sharing='none')).total / 1e6:,.2f}M"
    app.radio("parameters.embedding", "hashed")
    shown["hashed"] = app.metric("Unique parameters")
    cfg = base.with_(sharing="none", embedding="hashed")
    assert shown["hashed"] == f"{count_parameters(cfg).total / 1e6:,.2f}M"
    assert len(set(shown.values())) == 3, shown
    assert app.charts() >= 2
    app.assert_healthy()


def test_attention_switches_models_and_reads_a_typed_sentence(app):
    app.visit("attention")
    models = available_models()
    first = models[0]
    assert app.charts(f"attention.plan.{first}") == 1
    other = next(k for k in models if k != first)
    app.select("attention.model", label(other))
    assert app.charts(f"attention.plan.{other}") == 1 and app.charts(f"attention.plan.{first}") == 0
    app.assert_healthy()

    app.type("attention.text", "Students love quiet libraries.")
    ticks = app.widget(f"attention.head_map.{other}").locator(".xtick text").all_text_contents()
    expected = load_model(other).encode("Students love quiet libraries.").tokens  # each model's own pieces
    assert ticks == expected, (ticks, expected)
    assert app.charts() >= 4
    app.assert_healthy()


def test_hidden_states_compares_two_models_on_a_new_sentence(app):
    app.visit("hidden_states")
    app.type("hidden_states.sentence", "A storm breaks over the sea.")
    assert app.charts("hidden_states.fig1") == 1
    assert app.options("hidden_states.token")[2] == "2: storm"
    assert app.widget("hidden_states.token").locator("input").input_value() \
        == "1: a"  # the box shows the new sentence's token, not the old one's
    tied = app.metric("Mean cosine to original")
    app.radio("hidden_states.surgery_op", OPERATIONS["average"])
    assert app.metric("Mean cosine to original") != tied
    app.assert_healthy()


def test_embeddings_hashes_any_typed_word(app):
    app.visit("embeddings")
    app.radio("embeddings.mode", "type any word")
    app.type("embeddings.word", "Unbelievable")
    assert app.charts("embeddings.fig_ngrams") == 1
    assert "'unbelievable' is wrapped as" in app.text()
    app.assert_healthy()


def test_embeddings_draws_only_the_open_tab_and_the_url_follows_it(app):
    """A link opens tab ② with its threshold; only that tab's charts exist; switching tabs keeps the threshold."""
    app.visit("embeddings?tab=collisions&threshold=0.9")
    app.assert_healthy()
    assert app.charts("embeddings.fig_nn") == 1 and app.charts("embeddings.fig_ngrams") == 0
    assert app.page.get_by_role("tab", name="② Collisions & neighbours").get_attribute("aria-selected") == "true"
    assert app.metric("Nearest other ≥ 0.90")
    app.act(app.page.get_by_role("tab", name="① Watch it hash").click)
    assert app.charts("embeddings.fig_ngrams") == 1 and app.charts("embeddings.fig_nn") == 0
    assert "threshold=0.9" in app.page.url and "tab=" not in app.page.url
    app.act(app.page.get_by_role("tab", name="② Collisions & neighbours").click)
    assert "tab=collisions" in app.page.url and app.charts("embeddings.fig_nn") == 1
    assert app.metric("Nearest other ≥ 0.90")
    app.assert_healthy()


def test_quiz_answers_one_question_and_scores_it(app):
    app.visit("quiz")
    app.click("quiz.start")
    assert app.metric("Score") == "0 / 0"
    box = app.widget("quiz.answer.0")
    if box.locator('input[type="radio"]').count():  # the first option, not the question's own label
        app.act(box.locator('[role="radiogroup"] label').first.click)
    elif app.widget("quiz.answer.0.0").count():
        app.act(app.widget("quiz.answer.0.0").locator("label").first.click)
    else:
        app.type("quiz.answer.0", "42")
    app.click("quiz.submit")
    assert app.metric("Score") in ("0 / 1", "1 / 1")
    assert any(s in app.text() for s in ("Correct!", "Not quite")), app.text()[:500]
    app.assert_healthy()


def test_convergence_trains_the_default_live_run(app):
    """▶ Train with the page's defaults: both tiny models finish, get below the character-frequency plateau
    (≈ 3.1 nats, see tests/test_convergence.py) and the curves and step times appear."""
    app.visit("convergence")
    app.click("convergence.train")
    assert "steps per model in" in app.text()
    assert app.charts("convergence.live_final") == 1 and app.charts("convergence.steptime_live") == 1
    held = app.page.evaluate("""() => {
        const plot = document.querySelector('.st-key-convergence-live_final .js-plotly-plot');
        return plot.data.filter(t => t.name.endsWith('held-out')).map(t => t.y[t.y.length - 1]);
    }""")
    assert len(held) == 2 and min(held) < 3.0, held
    app.assert_healthy()
    app.screenshot("convergence_live")
