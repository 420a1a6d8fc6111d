"""Quiz: practice questions with instant feedback, and interview cards you rate yourself.

The whole quiz is one `QuizSession` (albertviz.quiz.engine) kept in st.session_state, so switching to
another page and back finds it where it was. Interview notes live in the session too (and so in the CSV);
the setup and a half-given answer are kept by ui.keep, as Streamlit forgets widgets a run does not draw.
This page only reads widgets and draws.
"""

import time
from typing import NamedTuple

import streamlit as st
from streamlit.errors import StreamlitAPIException

from albertviz.quiz import TOPICS, Question, load_bank
from albertviz.quiz.engine import QuizError, QuizSession, interview_session, practice_session
from albertviz.quiz.grading import RATINGS, AnswerError
from albertviz_app.ui import keep
from albertviz_app.ui.export import table
from albertviz_app.ui.nav import PAGES
from albertviz_app.ui.page import start

STATE = "quiz.session"  # not a widget key: Streamlit keeps it across page switches
MODES = {"practice": "Practice — instant feedback", "interview": "Interview — open cards, rate yourself"}
LENGTHS = {"practice": 10, "interview": 5}  # questions, cards
SETUP = ("quiz.mode", "quiz.topics", "quiz.length", "quiz.seed", "quiz.timer", "quiz.minutes")


@st.cache_resource
def bank() -> list[Question]:
    return load_bank()


def link(slug: str) -> None:
    """A link to the page where the idea can be seen (plain text when the page is not in the menu)."""
    info = next(p for p in PAGES if p.slug == slug)
    try:
        st.page_link(info.path, label=f"See it on the {info.title} page", icon=info.icon)
    except StreamlitAPIException:
        st.caption(f"{info.icon} See it on the {info.title} page.")


def mode_changed() -> None:
    """Each mode starts at its own length (the one number box used to keep practice's 10 for interviews)."""
    st.session_state["quiz.length"] = LENGTHS[st.session_state["quiz.mode"]]
    topics = st.session_state.get("quiz.topics")
    if st.session_state["quiz.mode"] == "interview" and topics is not None:
        st.session_state["quiz.topics"] = [t for t in topics if t != "computed"]


def first(key: str, value) -> dict:
    """A widget's default, passed only while it has no value (a kept one would be set twice)."""
    return {} if key in st.session_state else {"value": value}


class Setup(NamedTuple):  # not a dataclass: see ui/page.py
    mode: str
    topics: list[str]
    length: int
    seed: int
    limit_s: float | None  # per interview card, or no timer


def controls() -> Setup | None:
    """Choose mode, topics, length and seed; the setup once Start is pressed, else None."""
    keep.restore(*SETUP)
    mode = st.radio("Mode", list(MODES), format_func=MODES.get, key="quiz.mode", horizontal=True,
                    on_change=mode_changed)
    interview = mode == "interview"
    choices = [t for t in TOPICS if not (interview and t == "computed")]
    topics = st.multiselect("Topics", choices, default=None if "quiz.topics" in st.session_state else choices,
                            format_func=TOPICS.get, key="quiz.topics")
    c1, c2, c3 = st.columns(3)
    length = c1.number_input("Questions" if not interview else "Cards", 1, 50, key="quiz.length",
                             **first("quiz.length", LENGTHS[mode]))
    seed = c2.number_input("Seed", 0, 1_000_000, key="quiz.seed", **first("quiz.seed", 0),
                           help="The same seed gives the same questions in the same order.")
    limit = None
    if interview and c3.toggle("Timer", key="quiz.timer", help="Practise answering under time pressure."):
        limit = 60.0 * c3.number_input("Minutes per card", 1, 15, key="quiz.minutes", **first("quiz.minutes", 2))
    keep.remember(*SETUP)
    if st.button("Start", key="quiz.start", type="primary"):
        return Setup(mode, topics, int(length), int(seed), limit)
    return None


def begin(s: Setup) -> None:
    """A new QuizSession from the setup (a warning when the chosen topics cannot fill it)."""
    try:
        st.session_state[STATE] = (
            interview_session(bank(), s.length, s.seed, s.topics, s.limit_s) if s.mode == "interview"
            else practice_session(bank(), s.topics, s.length, s.seed))
        keep.forget("quiz.answer.")
        st.rerun()
    except QuizError as err:
        st.warning(str(err), icon="🧭")


def answer_widget(q: Question, i: int) -> object:
    """The input for one closed question; returns the raw response for the engine to grade.

    A half-given answer survives a visit to another page (ui.keep)."""
    keys = [f"quiz.answer.{i}.{j}" for j in range(len(q.options))] if q.kind == "multiple" else [f"quiz.answer.{i}"]
    keep.restore(*keys)
    if q.kind == "single":
        response = st.radio("Your answer", range(len(q.options)), format_func=lambda j: q.options[j], index=None,
                            key=f"quiz.answer.{i}")
    elif q.kind == "multiple":
        st.caption("Tick every option that is true.")
        response = [j for j, o in enumerate(q.options) if st.checkbox(o, key=f"quiz.answer.{i}.{j}")]
    else:
        response = st.text_input(f"Your answer ({q.unit})" if q.unit else "Your answer", key=f"quiz.answer.{i}",
                                 placeholder="a number, e.g. 4.39")
    keep.remember(*keys)
    return response


def practice_card(s: QuizSession) -> None:
    q, i = s.current, s.position
    s.start_card(time.time())
    st.markdown(f"**{q.prompt}**")
    if not s.answered_current:
        response = answer_widget(q, i)
        if st.button("Check answer", key="quiz.submit", type="primary"):
            try:
                s.submit(response, s.elapsed(time.time()))
                st.rerun()
            except AnswerError as err:
                st.warning(str(err), icon="✍️")
        return
    g = s.last_grade
    if g.correct:
        st.success(f"Correct! ({g.response})", icon="✅")
    else:
        st.error(f"Not quite — you answered {g.response}. Right answer: {g.expected}", icon="❌")
    st.markdown(q.explanation)
    link(q.page)
    st.button("See results" if s.position + 1 == len(s.questions) else "Next question", key="quiz.next",
              on_click=s.advance, type="primary")


@st.fragment(run_every=1.0)
def countdown(s: QuizSession) -> None:
    left = s.remaining(time.time())
    if left is not None and not s.revealed:
        if left > 0:
            st.caption(f"⏱️ {int(left) // 60}:{int(left) % 60:02d} left for this card")
        else:
            st.warning("Time is up — reveal the model answer and rate yourself.", icon="⏱️")


def interview_card(s: QuizSession) -> None:
    q = s.current
    s.start_card(time.time())
    st.markdown(f"### {q.prompt}")
    if s.time_limit_s:
        countdown(s)
    key = f"quiz.notes.{s.position}"
    if key not in st.session_state and s.position in s.notes:  # back from another page
        st.session_state[key] = s.notes[s.position]
    notes = st.text_area("Your answer (notes for yourself, not graded; they go into the results CSV)", key=key)
    s.notes[s.position] = notes
    if not s.revealed:
        if st.button("Reveal model answer", key="quiz.reveal", type="primary"):
            s.revealed = True
            st.rerun()
        return
    with st.container(border=True):
        st.markdown("**Model answer**")
        st.markdown(q.model_answer)
    st.caption(q.explanation)
    link(q.page)
    st.markdown("**How well did you answer?**")
    for col, (j, label) in zip(st.columns(len(RATINGS)), enumerate(RATINGS), strict=True):
        if col.button(label, key=f"quiz.rate.{j}", width="stretch"):
            s.submit(label, s.elapsed(time.time()))
            s.advance()
            st.rerun()


def summary(s: QuizSession) -> None:
    total = len(s.questions)
    st.subheader("Results")
    # a share, not a change: no arrow (2/10 read "↑ 20%")
    st.metric("Final score", f"{s.score:g} / {total}", f"{s.score / total:.0%}", delta_color="off", delta_arrow="off")
    mistakes = s.mistakes()
    if not mistakes:
        st.success("No mistakes — well done!", icon="🏆")
    else:
        st.markdown(f"#### Review: {len(mistakes)} to look at again")
        for a in mistakes:
            with st.expander(f"{'🟡' if a.grade.score else '🔴'} {a.question.prompt}"):
                if a.question.kind != "open":
                    st.markdown(f"**Your answer:** {a.grade.response}")
                if a.question.kind == "open" and s.notes.get(s.attempts.index(a)):
                    st.markdown(f"**Your notes:** {s.notes[s.attempts.index(a)]}")
                st.markdown(f"**Right answer:** {a.grade.expected}")
                st.markdown(a.question.explanation)
                link(a.question.page)
    st.markdown("#### Every answer")
    table(s.results().drop(columns=["page"]), key="quiz.review", name=f"quiz-{s.mode}-review", hide_index=True)
    st.download_button("Download results with your notes (CSV)", s.to_csv(), key="quiz.download", mime="text/csv",
                       file_name=f"albertviz-quiz-{s.mode}-seed{s.seed}.csv", icon="⬇️", on_click="ignore")


def restart() -> None:
    st.session_state.pop(STATE, None)
    keep.forget("quiz.answer.")


def progress(s: QuizSession) -> None:
    n = len(s.questions)
    c1, c2, c3 = st.columns([3, 1, 1])
    c1.progress(min(s.position, n) / n,
                text=f"{MODES[s.mode]} · {'card' if s.mode == 'interview' else 'question'} "
                     f"{min(s.position + 1, n)} of {n}" if not s.finished else f"{MODES[s.mode]} · done")
    c2.metric("Score", f"{s.score:g} / {s.answered}")
    c3.button("Restart", key="quiz.restart", on_click=restart)


def main() -> None:
    start("quiz")
    st.title("🎓 Quiz")
    st.caption("Practice mixes single-choice, multiple-choice and numeric questions (some computed live from "
               "the parameter counter); interview mode shows one open question at a time — answer aloud or in "
               "notes, reveal the model answer, then rate yourself. Your progress stays while you visit other pages.")
    session: QuizSession | None = st.session_state.get(STATE)
    if session is None:
        if (chosen := controls()) is not None:
            begin(chosen)
        return
    progress(session)
    if session.finished:
        summary(session)
        return
    st.caption(TOPICS[session.current.topic])
    (practice_card if session.mode == "practice" else interview_card)(session)


main()
