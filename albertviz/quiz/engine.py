"""Quiz sessions: questions in order, the student's attempts, the score and the CSV, as plain Python.

The page only draws widgets and calls these functions, so the rules (how a score adds up, what the CSV
holds) are tested without Streamlit. Grading one answer is `albertviz.quiz.grading`; questions generated
from `count_parameters` are `albertviz.quiz.generated`.
"""

from __future__ import annotations

import io
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pandas as pd

from albertviz.quiz import TOPICS, Question
from albertviz.quiz.generated import generated_questions
from albertviz.quiz.grading import Grade, grade

MODES = ("practice", "interview")


class QuizError(ValueError):
    """A quiz that cannot be built or moved on (no questions for these topics, answering twice)."""


@dataclass
class Attempt:
    question: Question
    grade: Grade
    seconds: float | None = None


@dataclass
class QuizSession:
    """Questions in order, where the student is, and what they answered. Kept in st.session_state."""

    mode: str
    questions: list[Question]
    seed: int = 0
    time_limit_s: float | None = None  # interview timer per card, None = off
    position: int = 0
    attempts: list[Attempt] = field(default_factory=list)
    revealed: bool = False  # interview: the model answer of the current card is shown
    notes: dict[int, str] = field(default_factory=dict)  # interview: what the student wrote, per card position
    started_at: float | None = None  # when the current card was first shown (time.time())

    @property
    def current(self) -> Question | None:
        return self.questions[self.position] if self.position < len(self.questions) else None

    @property
    def answered_current(self) -> bool:
        return len(self.attempts) > self.position

    @property
    def finished(self) -> bool:
        return self.position >= len(self.questions)

    @property
    def score(self) -> float:
        return sum(a.grade.score for a in self.attempts)

    @property
    def answered(self) -> int:
        return len(self.attempts)

    @property
    def last_grade(self) -> Grade | None:
        return self.attempts[-1].grade if self.attempts else None

    def submit(self, response: object, seconds: float | None = None) -> Grade:
        """Grade the current question once; raises AnswerError for unusable input."""
        q = self.current
        if q is None:
            raise QuizError("The quiz is over; restart to play again.")
        if self.answered_current:
            raise QuizError("This question is already answered; go to the next one.")
        result = grade(q, response)
        self.attempts.append(Attempt(q, result, seconds))
        return result

    def advance(self) -> None:
        if not self.answered_current:
            raise QuizError("Answer this question before moving on.")
        self.position += 1
        self.revealed, self.started_at = False, None

    def start_card(self, now: float) -> None:
        """Start the clock of the current card the first time it is shown."""
        if self.started_at is None:
            self.started_at = now

    def elapsed(self, now: float) -> float | None:
        return None if self.started_at is None else max(0.0, now - self.started_at)

    def remaining(self, now: float) -> float | None:
        """Seconds left on the interview timer (negative when over), None without a timer."""
        spent = self.elapsed(now)
        return None if self.time_limit_s is None or spent is None else self.time_limit_s - spent

    def mistakes(self) -> list[Attempt]:
        """Attempts that did not earn the full point (partly-known open cards included)."""
        return [a for a in self.attempts if a.grade.score < 1.0]

    def results(self) -> pd.DataFrame:
        rows = [{"number": i + 1, "id": a.question.id, "topic": a.question.topic, "kind": a.question.kind,
                 "prompt": a.question.prompt, "your_answer": a.grade.response, "notes": self.notes.get(i, ""),
                 "expected": a.grade.expected, "score": a.grade.score, "correct": a.grade.correct,
                 "seconds": None if a.seconds is None else round(a.seconds, 1), "page": a.question.page}
                for i, a in enumerate(self.attempts)]
        columns = ["number", "id", "topic", "kind", "prompt", "your_answer", "notes", "expected", "score", "correct",
                   "seconds", "page"]
        return pd.DataFrame(rows, columns=columns)

    def to_csv(self) -> str:
        buffer = io.StringIO()
        self.results().to_csv(buffer, index=False)
        return buffer.getvalue()


def practice_session(bank: Sequence[Question], topics: Iterable[str], length: int, seed: int) -> QuizSession:
    """Closed questions (single, multiple, numeric) from `topics`, shuffled with `seed`.

    Choosing the topic 'computed' mixes in questions generated from count_parameters.
    """
    topics = set(topics)
    unknown = topics - set(TOPICS)
    if unknown:
        raise QuizError(f"Unknown topic(s): {', '.join(sorted(unknown))}.")
    if length < 1:
        raise QuizError("A quiz needs at least one question.")
    pool = [q for q in bank if q.topic in topics and q.kind != "open"]
    if "computed" in topics:
        pool += generated_questions(length, seed)
    if not pool:
        raise QuizError("No practice questions for these topics; choose at least one topic.")
    rng = random.Random(seed)
    rng.shuffle(pool)
    return QuizSession("practice", pool[:length], seed)


def interview_session(bank: Sequence[Question], length: int, seed: int, topics: Iterable[str] | None = None,
                      time_limit_s: float | None = None) -> QuizSession:
    """Open cards (the ten interview questions and a few more) from `topics`, shuffled with `seed`."""
    wanted = set(topics) if topics is not None else set(TOPICS)
    pool = [q for q in bank if q.kind == "open" and q.topic in wanted]
    if not pool:
        raise QuizError("No interview cards for these topics.")
    if length < 1:
        raise QuizError("An interview needs at least one card.")
    rng = random.Random(seed)
    rng.shuffle(pool)
    return QuizSession("interview", pool[:length], seed, time_limit_s)
