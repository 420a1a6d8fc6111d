"""Grading one answer: what counts as right for each kind of question, as plain Python (tested without Streamlit)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from albertviz.quiz import Question

# Self-assessment for open questions: label → score.
RATINGS: dict[str, float] = {"Nailed it": 1.0, "Partly": 0.5, "Missed it": 0.0}


class AnswerError(ValueError):
    """A response that cannot be graded (nothing picked, not a number); the message says what to do."""


@dataclass(frozen=True)
class Grade:
    correct: bool
    score: float  # 0..1; open questions can score 0.5
    expected: str  # the right answer as text
    response: str  # what the student answered, as text


def parse_number(value: object) -> float:
    """A number from a float, an int or text such as ' 4.39 ', '4,390' or '1_000'; finite only."""
    if isinstance(value, bool):
        raise AnswerError("Type a number, not yes/no.")
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip().replace(",", "").replace("_", "").replace(" ", "")
        if not text:
            raise AnswerError("Type a number first.")
        try:
            number = float(text)
        except ValueError:
            raise AnswerError(f"'{value.strip()[:40]}' is not a number; type digits like 4.39.") from None
    else:
        raise AnswerError("Type a number first.")
    if not math.isfinite(number):
        raise AnswerError("Type a finite number.")
    return number


def format_number(x: float) -> str:
    return f"{x:,.4f}".rstrip("0").rstrip(".")


def expected_text(q: Question) -> str:
    """The right answer in words, for feedback, the review and the CSV."""
    if q.kind in ("single", "multiple"):
        return " | ".join(q.options[i] for i in q.correct)
    if q.kind == "numeric":
        tol = f" (± {format_number(q.tolerance)})" if q.tolerance else ""
        return f"{format_number(q.answer or 0.0)} {q.unit}".strip() + tol
    return q.model_answer


def grade(q: Question, response: object) -> Grade:
    """Grade one response: single = the one right index; multiple = exactly the right set;
    numeric = within tolerance; open = the student's own rating (a RATINGS label)."""
    expected = expected_text(q)
    if q.kind == "single":
        if isinstance(response, bool) or not isinstance(response, int):
            raise AnswerError("Pick one option first.")
        if not 0 <= response < len(q.options):
            raise AnswerError(f"There is no option {response}.")
        ok = response in q.correct
        return Grade(ok, float(ok), expected, q.options[response])
    if q.kind == "multiple":
        if response is None or isinstance(response, (str, int)):
            raise AnswerError("Tick the options you think are right.")
        chosen = set(response)  # type: ignore[call-overload]
        if not chosen:
            raise AnswerError("Tick at least one option.")
        if any(isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < len(q.options) for i in chosen):
            raise AnswerError("An option index is out of range.")
        ok = chosen == set(q.correct)
        return Grade(ok, float(ok), expected, " | ".join(q.options[i] for i in sorted(chosen)))
    if q.kind == "numeric":
        x = parse_number(response)
        ok = abs(x - (q.answer or 0.0)) <= q.tolerance * (1 + 1e-9) + 1e-12
        return Grade(ok, float(ok), expected, format_number(x))
    if response not in RATINGS:
        raise AnswerError(f"Rate yourself: {', '.join(RATINGS)}.")
    score = RATINGS[response]
    return Grade(score == 1.0, score, expected, f"self-rated: {response}")
