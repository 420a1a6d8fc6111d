"""Grading, generated parameter-count questions and quiz sessions, as plain Python.

The page only draws widgets and calls these functions, so the rules (what counts as right, how a
score adds up, what the CSV holds) are tested without Streamlit. Generated questions ask for the
parameter count of a random valid `ModelConfig`; the answer comes from `count_parameters`, i.e.
from the real module the Parameter explorer uses.
"""

from __future__ import annotations

import io
import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pandas as pd

from albertviz import labels
from albertviz.core.config import ModelConfig
from albertviz.core.params import count_parameters
from albertviz.core.sharing import num_blocks, plan_letters
from albertviz.quiz import TOPICS, Question

# Self-assessment for open questions: label → score.
RATINGS: dict[str, float] = {"Nailed it": 1.0, "Partly": 0.5, "Missed it": 0.0}
MODES = ("practice", "interview")
GENERATED_REL_TOL = 0.02  # 2%: forgiving rounding and a forgotten LayerNorm, not a forgotten pooler
GENERATED_ABS_TOL = 0.01  # million parameters


class AnswerError(ValueError):
    """A response that cannot be graded (nothing picked, not a number); the message says what to do."""


class QuizError(ValueError):
    """A quiz that cannot be built or moved on (no questions for these topics, answering twice)."""


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
    score = RATINGS[response]  # type: ignore[index]
    return Grade(score == 1.0, score, expected, f"self-rated: {response}")


# ---------------------------------------------------------------------------------- generated questions

def random_config(rng: random.Random) -> ModelConfig:
    """A random, valid, BERT-like shape with a random sharing mode, strategy and embedding type."""
    H = rng.choice([128, 256, 384, 512, 768, 1024])
    heads = rng.choice([a for a in (2, 4, 8, 12, 16) if H % a == 0])
    L = rng.choice([2, 4, 6, 8, 12, 24])
    embedding = rng.choice(["full", "factorized", "factorized", "hashed"])
    E = H if embedding == "full" else rng.choice([e for e in (32, 64, 128, 256) if e < H])
    sharing = rng.choice(["none", "all", "ffn", "attention"])
    groups, strategy = 1, "sequence"
    if sharing != "none" and L > 2 and rng.random() < 0.4:
        groups = rng.choice([m for m in (2, 3, 4) if m < L and L % m == 0] or [1])
        strategy = rng.choice(["sequence", "cycle", "cycle_rev"])
    return ModelConfig(vocab_size=rng.choice([8000, 30000, 30522, 50000]), hidden_size=H, embedding_size=E,
                       num_layers=L, num_heads=heads, intermediate_size=H * rng.choice([2, 4]),
                       sharing=sharing, num_groups=groups, share_strategy=strategy, embedding=embedding)


def describe_for_question(cfg: ModelConfig) -> str:
    """The shape in words a student can compute from."""
    projected = " dims, projected E → H with bias" if cfg.has_projection else " dims"
    emb = {"full": "a full V × H word table",
           "factorized": f"factorized embeddings with E = {cfg.E} (an E → H projection with bias)",
           "hashed": f"hashed EELBERT-style word vectors (no stored word table) in E = {cfg.E}{projected}",
           }[cfg.embedding]
    share = labels.SHARING_ADJECTIVE[cfg.sharing]
    if cfg.sharing != "none":
        attn, ffn = plan_letters(cfg)
        groups = (f" with M = {cfg.num_groups} groups, {cfg.share_strategy}" if cfg.num_groups > 1
                  else " (one block reused by all layers)")
        share += f"{groups}; layer plan: attention {attn}, FFN {ffn}"
    return (f"{share}; L = {cfg.num_layers}, H = {cfg.hidden_size}, A = {cfg.num_heads}, "
            f"F = {cfg.intermediate_size}, V = {cfg.vocab_size:,}; {emb}")


def generated_question(seed: int) -> Question:
    """A numeric question 'how many parameters?' for the random config drawn with `seed`."""
    cfg = random_config(random.Random(seed))
    report = count_parameters(cfg)
    n_attn, n_ffn = num_blocks(cfg)
    parts = report.by_component
    explanation = (
        f"Embeddings {parts['embeddings'] / 1e6:.3f}M + attention {n_attn} block(s) "
        f"{parts['attention'] / 1e6:.3f}M + FFN {n_ffn} block(s) {parts['ffn'] / 1e6:.3f}M + pooler "
        f"{parts['pooler'] / 1e6:.3f}M = {report.total / 1e6:.3f}M. One attention block is 4·(H² + H) + 2H, "
        f"one FFN block 2·H·F + F + H + 2H.")
    if cfg.sharing != "none":
        explanation += (f" Without sharing the same shape has {report.unrolled / 1e6:.3f}M — yet both run "
                        f"the same {report.flops_per_token / 1e6:.1f}M FLOPs per token.")
    prompt = (
        f"How many parameters (millions) does this encoder have: {describe_for_question(cfg)}? "
        f"Assume 512 positions and 2 segment types (E-dim), LayerNorms after the embeddings and after each "
        f"sublayer, biases on every linear layer, and a pooler (H × H + bias).")
    return Question(id=f"computed-{seed}", topic="computed", kind="numeric", prompt=prompt,
                    explanation=explanation, page="parameters", answer=report.total / 1e6,
                    abs_tol=GENERATED_ABS_TOL, rel_tol=GENERATED_REL_TOL, unit="million parameters",
                    config=cfg.to_dict())


def generated_questions(n: int, seed: int) -> list[Question]:
    """`n` generated questions, reproducible from `seed`."""
    rng = random.Random(seed)
    return [generated_question(rng.randrange(2**31)) for _ in range(n)]


# ---------------------------------------------------------------------------------- sessions

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
