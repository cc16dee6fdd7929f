"""Screening answers checked as Kombo and the ATS check them: an answer must fit its question's
format (Kombo validates answers: an option's id, not its name), a required question the
candidate is asked must be answered (the ATS refuses the application otherwise), and an answer
Kombo cannot submit (an unknown question, one not asked) is a warning."""

from __future__ import annotations

import json
from typing import Any

from . import validation


def _fits(fmt: dict[str, Any], answer: Any) -> str | None:
    """None when `answer` fits the question's format, else what the question takes."""
    kind = fmt.get("type")
    options = [o["id"] for o in fmt.get("options") or []]
    named = ", ".join(f"{o['id']} ({o['name']})" for o in fmt.get("options") or [])
    if kind == "BOOLEAN" and not isinstance(answer, bool):
        return "true or false"
    if kind == "NUMBER":
        if isinstance(answer, bool) or not isinstance(answer, (int, float)):
            return "a number"
        low, high = fmt.get("min"), fmt.get("max")
        if (low is not None and answer < low) or (high is not None and answer > high):
            return f"a number from {low} to {high}"
    if kind == "TEXT":
        if not isinstance(answer, str):
            return "text"
        if fmt.get("max_length") and len(answer) > fmt["max_length"]:
            return f"text of at most {fmt['max_length']} characters"
    if kind == "SINGLE_SELECT" and answer not in options:
        return f"the id of one of its options: {named}"
    if kind == "MULTI_SELECT" and not (
        isinstance(answer, list) and all(a in options for a in answer)
    ):
        return f"a list of ids of its options: {named}"
    if kind == "DATE" and not (isinstance(answer, str) and validation.is_kombo_moment(answer)):
        return "a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)"
    if kind == "FILE" and not isinstance(answer, dict):
        return "a file: {name, content_type, data or data_url}"
    return None


def answer_problems(job: dict[str, Any], answers: list[dict[str, Any]]) -> list[validation.Invalid]:
    questions = {q["id"]: q for q in job["screening_questions"]}
    problems = []
    for i, given in enumerate(answers):
        question = questions.get(given["question_id"])
        if question is None:
            continue
        takes = _fits(question["format"], given["answer"])
        if takes is not None:
            problems.append(
                validation.Invalid(
                    f"screening_question_answers[{i}].answer",
                    f"{json.dumps(given['answer'], ensure_ascii=False)[:80]} does not fit "
                    f"question '{question['title']}' ({question['format']['type']}), which "
                    f"takes {takes}.",
                )
            )
    return problems


def _shown(question: dict[str, Any], questions: dict[str, Any], given: dict[str, Any]) -> bool:
    """Whether the ATS asks `question`: always, or when its precondition question (itself
    shown) is answered with one of the precondition's options."""
    before = question.get("precondition_question_id")
    if not before:
        return True
    if before not in questions or before not in given:
        return False
    answer = given[before]
    chosen = answer if isinstance(answer, list) else [answer]
    options = question.get("precondition_options") or []
    return any(c in options for c in chosen) and _shown(questions[before], questions, given)


def missing_required(job: dict[str, Any], answers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    questions = {q["id"]: q for q in job["screening_questions"]}
    given = {a["question_id"]: a["answer"] for a in answers}
    return [
        q
        for q in job["screening_questions"]
        if q["required"] and q["id"] not in given and _shown(q, questions, given)
    ]


def answer_warnings(job: dict[str, Any], answers: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Kombo logs, and does not refuse, answers it cannot submit."""
    questions = {q["id"]: q for q in job["screening_questions"]}
    given = {a["question_id"]: a["answer"] for a in answers}
    warnings = []
    for answer in answers:
        question = questions.get(answer["question_id"])
        if question is None:
            warnings.append(
                {
                    "message": f"Screening question {answer['question_id']} does not exist on "
                    "this job; its answer was not submitted."
                }
            )
        elif not _shown(question, questions, given):
            warnings.append(
                {
                    "message": f"Screening question {question['id']} is not asked unless its "
                    "precondition is met; its answer was not submitted."
                }
            )
    return warnings
