"""The quiz: a question bank kept as data (bank.yaml) and validated when it is loaded.

Questions live in YAML so a teacher can add one without touching code; `load_bank()` turns each
entry into a frozen `Question` and refuses the whole bank, with the id and the field at fault, when
an entry is malformed (a wrong option index, an empty explanation, a page that does not exist).
Numbers are not typed into the bank: `{name}` in a text and `compute: name` as a numeric answer take
them from `albertviz.quiz.facts`, i.e. from the counter, the FLOP formula and the paper tables.
Grading is in `albertviz.quiz.grading`, generated questions in `albertviz.quiz.generated`, quiz
sessions in `albertviz.quiz.engine`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from albertviz.quiz.facts import FactError, number, render

BANK_PATH = Path(__file__).with_name("bank.yaml")

KINDS = ("single", "multiple", "numeric", "open")
# Topic slug → label shown in the app. "computed" holds questions generated from count_parameters.
TOPICS: dict[str, str] = {
    "sharing": "Cross-layer sharing (ALBERT)",
    "strategies": "Sharing strategies (Takase & Kiyono)",
    "embeddings": "Factorized embeddings",
    "eelbert": "Hashed embeddings (EELBERT)",
    "convergence": "Why sharing works (Lin et al. 2023)",
    "cost": "Parameters vs FLOPs",
    "training": "ALBERT's other choices (SOP, dropout, E, training time)",
    "deploy": "Deployment (quantization, latency, memory)",
    "computed": "Computed: count the parameters",
}
# The app's page slugs (ui/nav.py holds the same list; the library does not import the UI).
PAGE_SLUGS = ("home", "parameters", "attention", "hidden_states", "embeddings", "convergence", "quiz")

_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_REQUIRED = ("id", "topic", "kind", "prompt", "explanation", "page")
_ALLOWED = {
    "single": {"options", "correct"},
    "multiple": {"options", "correct"},
    "numeric": {"answer", "compute", "abs_tol", "rel_tol", "unit"},
    "open": {"model_answer"},
}


class BankError(ValueError):
    """A question bank entry that cannot be used; the message names the question and the field."""


@dataclass(frozen=True)
class Question:
    """One quiz question. Which answer fields matter depends on `kind`.

    single/multiple: `options` and `correct` (0-based indices; exactly one for single).
    numeric: `answer` with tolerance max(`abs_tol`, `rel_tol`·|answer|), in `unit`.
    open: `model_answer`, graded by the student's own rating after revealing it.
    """

    id: str
    topic: str
    kind: str
    prompt: str
    explanation: str
    page: str
    options: tuple[str, ...] = ()
    correct: tuple[int, ...] = ()
    answer: float | None = None
    abs_tol: float = 0.0
    rel_tol: float = 0.0
    unit: str = ""
    model_answer: str = ""
    interview: bool = False
    config: dict | None = None  # the ModelConfig fields of a generated question
    computed: str = ""  # the albertviz.quiz.facts name the numeric answer was computed from

    @property
    def tolerance(self) -> float:
        """The largest accepted distance from `answer`."""
        return max(self.abs_tol, self.rel_tol * abs(self.answer or 0.0))


def _render(text: str, field: str, where: str) -> str:
    """Fill in `{fact}` placeholders; an unknown fact or a bad format refuses the entry."""
    try:
        return render(text)
    except FactError as err:
        raise BankError(f"{where}: in '{field}', {err.args[0]}.") from None


def _text(entry: dict, field: str, where: str) -> str:
    value = entry.get(field)
    if not isinstance(value, str) or not value.strip():
        raise BankError(f"{where}: '{field}' must be non-empty text, got {value!r}.")
    return _render(value.strip(), field, where)


def _number(value: Any, field: str, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise BankError(f"{where}: '{field}' must be a finite number, got {value!r}.")
    return float(value)


def _choice_fields(entry: dict, kind: str, where: str) -> dict:
    options = entry.get("options")
    if not isinstance(options, list) or len(options) < 2:
        raise BankError(f"{where}: a {kind} question needs a list of at least 2 options.")
    if not all(isinstance(o, str) and o.strip() for o in options):
        raise BankError(f"{where}: every option must be non-empty text.")
    if len({o.strip() for o in options}) != len(options):
        raise BankError(f"{where}: two options have the same text.")
    correct = entry.get("correct")
    indices = [correct] if kind == "single" else correct
    if kind == "single" and isinstance(correct, list):
        raise BankError(f"{where}: a single-choice question has one correct index, not a list {correct!r}.")
    if not isinstance(indices, list) or not indices:
        raise BankError(f"{where}: 'correct' must list the indices of the right options, got {correct!r}.")
    for i in indices:
        if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < len(options):
            raise BankError(f"{where}: correct option {i!r} is not an index 0..{len(options) - 1}.")
    if len(set(indices)) != len(indices):
        raise BankError(f"{where}: 'correct' repeats an index: {indices!r}.")
    rendered = tuple(_render(o.strip(), "options", where) for o in options)
    if len(set(rendered)) != len(rendered):
        raise BankError(f"{where}: two options have the same text once numbers are filled in.")
    return {"options": rendered, "correct": tuple(sorted(indices))}


def _numeric_fields(entry: dict, where: str) -> dict:
    if "answer" in entry and "compute" in entry:
        raise BankError(f"{where}: give either 'answer' or 'compute', not both.")
    if "compute" in entry:
        try:
            answer = number(str(entry["compute"]))
        except FactError as err:
            raise BankError(f"{where}: 'compute': {err.args[0]}.") from None
        if not math.isfinite(answer):
            raise BankError(f"{where}: 'compute' {entry['compute']!r} is not a finite number.")
    elif "answer" in entry:
        answer = _number(entry["answer"], "answer", where)
    else:
        raise BankError(f"{where}: a numeric question needs an 'answer' or a 'compute' fact.")
    abs_tol = _number(entry.get("abs_tol", 0.0), "abs_tol", where)
    rel_tol = _number(entry.get("rel_tol", 0.0), "rel_tol", where)
    if abs_tol < 0 or rel_tol < 0:
        raise BankError(f"{where}: tolerances cannot be negative.")
    unit = entry.get("unit", "")
    if not isinstance(unit, str):
        raise BankError(f"{where}: 'unit' must be text.")
    return {"answer": answer, "abs_tol": abs_tol, "rel_tol": rel_tol, "unit": unit,
            "computed": str(entry["compute"]) if "compute" in entry else ""}


def parse_question(entry: Any, position: int = 0) -> Question:
    """Validate one bank entry (a dict from the YAML) and build its Question."""
    where = f"Question #{position + 1}"
    if not isinstance(entry, dict):
        raise BankError(f"{where}: expected a mapping of fields, got {type(entry).__name__}.")
    qid = entry.get("id")
    if not isinstance(qid, str) or not _ID.match(qid):
        raise BankError(f"{where}: 'id' must be lower-case letters, digits and dashes, got {qid!r}.")
    where = f"Question '{qid}'"
    missing = [f for f in _REQUIRED if f not in entry]
    if missing:
        raise BankError(f"{where}: missing field(s) {', '.join(missing)}.")
    kind = entry["kind"]
    if kind not in KINDS:
        raise BankError(f"{where}: kind must be one of {', '.join(KINDS)}, got {kind!r}.")
    unknown = sorted(set(entry) - set(_REQUIRED) - {"interview"} - _ALLOWED[kind])
    if unknown:
        raise BankError(f"{where}: field(s) {', '.join(unknown)} do not belong to a {kind} question.")
    if entry["topic"] not in TOPICS:
        raise BankError(f"{where}: topic must be one of {', '.join(TOPICS)}, got {entry['topic']!r}.")
    if entry["page"] not in PAGE_SLUGS:
        raise BankError(f"{where}: page must be one of {', '.join(PAGE_SLUGS)}, got {entry['page']!r}.")
    interview = entry.get("interview", False)
    if not isinstance(interview, bool):
        raise BankError(f"{where}: 'interview' must be true or false.")
    fields: dict[str, Any] = {}
    if kind in ("single", "multiple"):
        fields = _choice_fields(entry, kind, where)
    elif kind == "numeric":
        fields = _numeric_fields(entry, where)
    else:
        fields = {"model_answer": _text(entry, "model_answer", where)}
    return Question(id=qid, topic=entry["topic"], kind=kind, prompt=_text(entry, "prompt", where),
                    explanation=_text(entry, "explanation", where), page=entry["page"],
                    interview=interview, **fields)


def parse_bank(data: Any) -> list[Question]:
    """Validate a whole bank (the parsed YAML: a list of entries); ids must be unique."""
    if not isinstance(data, list) or not data:
        raise BankError("The question bank must be a non-empty list of questions.")
    questions = [parse_question(entry, i) for i, entry in enumerate(data)]
    seen: set[str] = set()
    for q in questions:
        if q.id in seen:
            raise BankError(f"Question id '{q.id}' is used twice; ids must be unique.")
        seen.add(q.id)
    return questions


def load_bank(path: str | Path | None = None) -> list[Question]:
    """Read and validate the bank (albertviz/quiz/bank.yaml unless `path` is given)."""
    source = Path(path) if path is not None else BANK_PATH
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise BankError(f"{source.name} is not valid YAML: {err}") from err
    return parse_bank(data)


__all__ = ["BANK_PATH", "KINDS", "PAGE_SLUGS", "TOPICS", "BankError", "Question", "load_bank",
           "parse_bank", "parse_question"]
