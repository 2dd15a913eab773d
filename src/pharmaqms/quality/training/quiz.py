"""Quizzes: checking a quiz that QA writes, and grading a trainee's answers against it. Pure
functions, no database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pharmaqms.kernel.errors import InvalidInput, QMSError

MAX_QUESTIONS = 50


class QuizFailed(QMSError):
    """Below the pass mark. The attempt is recorded (after the rollback), nothing is signed,
    and the trainee may try again."""

    status = 400
    code = "quiz_failed"
    title = "Quiz not passed"


def check_quiz(questions: list[dict[str, Any]], pass_mark_percent: int) -> list[dict[str, Any]]:
    """The quiz in its stored form, or the first thing wrong with it."""
    if not 1 <= pass_mark_percent <= 100:
        raise InvalidInput("the pass mark is 1 to 100 per cent", field="pass_mark_percent")
    if not 1 <= len(questions) <= MAX_QUESTIONS:
        raise InvalidInput(f"a quiz has 1 to {MAX_QUESTIONS} questions", field="questions")
    clean = []
    for number, question in enumerate(questions, start=1):
        text = str(question.get("question", "")).strip()
        options = [str(o).strip() for o in question.get("options", [])]
        answer = question.get("answer")
        where = f"questions.{number - 1}"
        if not text:
            raise InvalidInput(f"question {number} has no text", field=where)
        if len(options) < 2 or any(not o for o in options):
            raise InvalidInput(
                f"question {number} needs at least two non-empty options", field=where
            )
        if not isinstance(answer, int) or isinstance(answer, bool):
            raise InvalidInput(f"question {number} needs the index of its answer", field=where)
        if not 0 <= answer < len(options):
            raise InvalidInput(
                f"question {number}: the answer {answer} is not one of its "
                f"{len(options)} options (counted from 0)",
                field=where,
            )
        clean.append({"question": text, "options": options, "answer": answer})
    return clean


@dataclass(frozen=True)
class Grade:
    score_percent: int
    correct: int
    total: int
    passed: bool


def grade(questions: list[dict[str, Any]], pass_mark_percent: int, answers: list[int]) -> Grade:
    """Score rounded down, so a pass mark of 80 % is never met by 79.9 %."""
    if len(answers) != len(questions):
        raise InvalidInput(
            f"answer all {len(questions)} questions (got {len(answers)} answers)",
            field="answers",
        )
    correct = sum(1 for q, a in zip(questions, answers, strict=True) if q["answer"] == a)
    score = correct * 100 // len(questions)
    return Grade(score, correct, len(questions), score >= pass_mark_percent)


def without_answers(questions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What a trainee is shown."""
    return [{"question": q["question"], "options": list(q["options"])} for q in questions]


def parse_quiz_text(text: str) -> list[dict[str, Any]]:
    """The quiz as QA types it in a form: a question on a line starting ``Q:``, then its
    options one per line starting ``-``, the correct one starting ``*`` instead::

        Q: Minimum drying time after cleaning?
        - 10 minutes
        * 30 minutes
    """
    questions: list[dict[str, Any]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line[:2].upper() == "Q:":
            questions.append({"question": line[2:].strip(), "options": [], "answer": None})
        elif line[0] in "-*":
            if not questions:
                raise InvalidInput(f"line {number}: an option before any 'Q:' line", field="quiz")
            current = questions[-1]
            if line[0] == "*":
                if current["answer"] is not None:
                    raise InvalidInput(
                        f"line {number}: a second correct option ('*') for the same question",
                        field="quiz",
                    )
                current["answer"] = len(current["options"])
            current["options"].append(line[1:].strip())
        else:
            raise InvalidInput(
                f"line {number}: start a question with 'Q:', an option with '-', "
                "the correct option with '*'",
                field="quiz",
            )
    for number, question in enumerate(questions, start=1):
        if question["answer"] is None:
            raise InvalidInput(f"question {number} has no correct option ('*')", field="quiz")
    return questions


def quiz_as_text(questions: list[dict[str, Any]]) -> str:
    lines = []
    for question in questions:
        lines.append(f"Q: {question['question']}")
        for index, option in enumerate(question["options"]):
            lines.append(f"{'*' if index == question['answer'] else '-'} {option}")
    return "\n".join(lines)
