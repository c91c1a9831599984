"""Questions the knowledge base could not answer (knowledge gaps), kept masked, and the
tallies of answered questions: both append-only, one event per record, so recording them
never reads or contends on a stream (see docs/architecture.md, "Knowledge base")."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime

from eventsourcing.domain import Aggregate, event

_NATIONAL_ID = re.compile(r"\d{17}[\dXx]|\d{15}")
_PHONE = re.compile(r"1[3-9]\d{9}|0\d{2,3}-?\d{7,8}")
_DIGITS = re.compile(r"\d+")
_NOT_WORD = re.compile(r"[\W_]+")


def mask_question(question: str) -> str:
    """The question with national ids, phone numbers and every other digit run masked."""
    text = unicodedata.normalize("NFKC", question).strip()
    text = _NATIONAL_ID.sub("[身份证号]", text)
    text = _PHONE.sub("[电话]", text)
    return _DIGITS.sub("#", text)


def normalised_question(masked: str) -> str:
    """The form gaps are counted by: lower case, punctuation and spaces removed."""
    return _NOT_WORD.sub("", masked.lower())


class KnowledgeGap(Aggregate):
    """One handed-off question, masked (never the question as asked)."""

    @event("Recorded")
    def __init__(self, *, masked: str, normalised: str, day: date, occurred_at: datetime) -> None:
        self.masked = masked
        self.normalised = normalised
        self.day = day


class AnswerTally(Aggregate):
    """How many questions one API process answered (not handed off) on one CST day since its
    previous tally: counted in memory, appended now and then (never one write per question)."""

    @event("Counted")
    def __init__(self, *, day: date, answered: int, occurred_at: datetime) -> None:
        self.day = day
        self.answered = answered
