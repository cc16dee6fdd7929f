"""What the sandbox's integration holds: the jobs, stages, questions and option ids
`mappings/example.yaml` uses (so the demo runs end to end), one job with required and conditional
questions (which the example does not apply to), users, tags and rejection reasons."""

from __future__ import annotations

from typing import Any

TIMESTAMP = "2026-11-01T09:00:00.000Z"
STAGES = [
    ("8x3YKRDcuRnwShdh96ShBNn1", "Applied"),
    ("2R1cQwBq3iKbdMR7bm5xNvcP", "Screening"),
    ("6pYTGdQ6zyv9vHJ1WaWd5Cyo", "Interview"),
]

# A question: (id, title, format, required, precondition: (question id, answers that show it)).
Question = tuple[str, str, dict[str, Any], bool, tuple[str, list[Any]] | None]


def _options(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [
        {"id": option_id, "remote_id": str(i + 1), "name": name}
        for i, (option_id, name) in enumerate(pairs)
    ]


WORK_PERMIT = "3phFBNXRweGnDmsU9o2vdPuQ"
SKILLS = "EYJjhMQT3LtVKXnTbnRT8s6U"
WORK_MODEL = "Mn4kXJcWgHq2VsLp8RdTzYb3"
# the names are the example's Skills column: an answer by name needs its option id
SKILL_OPTIONS = _options(
    ("bqzpxsTcRGv9cQSboSDaoqzS", "Python"),
    ("3vILy5griB5wF8HwsJsme0z8", "SQL"),
    ("0PvNco5lcVpDJFLcfvq3yIhD", "Figma"),
    ("AWVmaXiYDOru2f312ZyFmoQ9", "Go"),
    ("vFYP20Pvfd85MJxFtdM3Q1EZ", "Kubernetes"),
    ("lYcneBizl50WVR6pJfO1SE1g", "Salesforce"),
    ("4KocL3Mqw70RDvMdGZZuXSPu", "Excel"),
    ("CmYTwNPZycIk46FarUjiH7We", "Tableau"),
    ("lvBRemJoFIdPvExGbv9BhuxB", "React"),
)
COMMON_QUESTIONS: list[Question] = [
    (WORK_PERMIT, "Do you have a work permit for the EU?", {"type": "BOOLEAN"}, False, None),
    (
        SKILLS,
        "Which of these do you use?",
        {"type": "MULTI_SELECT", "options": SKILL_OPTIONS},
        False,
        None,
    ),  # fmt: skip
    (
        WORK_MODEL,
        "How do you want to work?",
        {
            "type": "SINGLE_SELECT",
            "options": _options(
                ("Rm7oTe2WoRkQ9xLp3NbVcZa1", "Remote"),
                ("Hy8bRiD3wOrK5mQz7LpXcVn2", "Hybrid"),
                ("Of9fIcE4wOrK6nRa8MqYdWo3", "Office"),
            ),
        },
        False,
        None,
    ),
]

# The night nurse job: required questions, one shown only after a yes (BOOLEAN precondition),
# one only after some options (SINGLE_SELECT precondition).
NIGHT_SHIFTS = "UjyBupYUok6wGtCW5kz9PWgv"
SHIFTS_A_MONTH = "tfrHMmx0eMSyNj5IfiVysLXB"
REGISTRATION = "1HzXaWdWKVVKqs1dzQKDMH4e"
REGISTRATION_NUMBER = "JRFMRDARbhOZaP6geod0PIYO"
START_DATE = "Zq4vN8mKx2RtW6pLc9HbYd3S"
REGISTERED_NURSE, NURSING_ASSISTANT, NOT_REGISTERED = (
    "m0QJ0GqRh8fbzHFHjYjzZIP7",
    "SXh7f6PN8CPJJKWXEB9y9w7J",
    "pW20A3mRbyRHv7KAnwWyK62h",
)
NURSE_QUESTIONS: list[Question] = [
    COMMON_QUESTIONS[0],
    (NIGHT_SHIFTS, "Can you work night shifts?", {"type": "BOOLEAN"}, True, None),
    (
        SHIFTS_A_MONTH,
        "How many night shifts a month can you take?",
        {"type": "NUMBER", "display_type": "FIELD", "min": 1, "max": 20},
        True,
        (NIGHT_SHIFTS, [True]),
    ),
    (
        REGISTRATION,
        "Which nursing registration do you hold?",
        {
            "type": "SINGLE_SELECT",
            "options": _options(
                (REGISTERED_NURSE, "Registered nurse"),
                (NURSING_ASSISTANT, "Nursing assistant"),
                (NOT_REGISTERED, "None yet"),
            ),
        },
        True,
        None,
    ),
    (
        REGISTRATION_NUMBER,
        "Your registration number",
        {"type": "TEXT", "display_type": "SINGLE_LINE", "max_length": 20},
        True,
        (REGISTRATION, [REGISTERED_NURSE, NURSING_ASSISTANT]),
    ),
    (START_DATE, "When could you start?", {"type": "DATE"}, False, None),
]

NIGHT_NURSE_JOB = "3bEfFLQHxfT4CSkTUJDuUOCB"
JOBS: list[tuple[str, str, str, list[Question]]] = [
    ("BDpgnpZ148nrGh4mYHNxJBgx", "Backend Engineer", "OPEN", COMMON_QUESTIONS),
    ("5Y1zeMUqTBf4QNPAqTBH2Rsm", "Product Designer", "OPEN", COMMON_QUESTIONS),
    ("9cDq3oHNyR2c7VWCkYbDRVZh", "Sales Manager DACH", "OPEN", COMMON_QUESTIONS),
    ("Ew6B7dUHpg5RkxYHWt8wfBdq", "Data Analyst", "OPEN", COMMON_QUESTIONS),
    ("Kq8ClosedJobZ7pXw2mRtY4n", "Office Manager (filled)", "CLOSED", COMMON_QUESTIONS),
    (NIGHT_NURSE_JOB, "Night Nurse", "OPEN", NURSE_QUESTIONS),
]

# (id, first name, last name, email, status): the example's recruiters, and one who left
USERS = [
    ("wKhQgleiIsxlmyGajNJM9Se7", "Sabine", "Roth", "sabine.roth@example.com", "ACTIVE"),
    ("B7yyRGHcp9TuKE1h985NIscE", "Tim", "Berger", "tim.berger@example.com", "ACTIVE"),
    ("Pwor0i1vN5koIZ8ERlwPNfF3", "Aylin", "Demir", "aylin.demir@example.com", "INACTIVE"),
]
TAGS = [
    ("W2xacAlwhKaCOdS0jnIJvsdG", "Top talent"),
    ("wfguRyZiBWLZBykYEhgzI2N4", "Referral"),
]
REJECTION_REASONS = [
    ("hR4kWq8ZpN2vXm6TcL9bYs3D", "Not a fit"),
    ("Gx7nPc2QwK9rVt4ZmB8sLd5F", "Withdrew"),
    ("Yb3mTs6HxR1wNq8KcV4pZj2E", "Position filled"),
]


def job(
    job_id: str, name: str, status: str, index: int, questions: list[Question]
) -> dict[str, Any]:
    """One job as GET /ats/jobs returns it, with every field SDK 1.4 requires."""
    return {
        "id": job_id,
        "remote_id": str(1000 + index),
        "name": name,
        "job_code": f"JOB-{1000 + index}",
        "description": f"<p>{name}</p>",
        "confidential": False,
        "weekly_hours": 40,
        "employment_type": "FULL_TIME",
        "status": status,
        "visibility": "PUBLIC",
        "category": None,
        "department": "Engineering",
        "post_url": None,
        "experience_level": None,
        "remote_work_status": "HYBRID",
        "salary_amount": None,
        "salary_amount_from": None,
        "salary_amount_to": None,
        "salary_currency": None,
        "salary_period": None,
        "location": {
            "city": "Berlin",
            "country": "DE",
            "raw": "Berlin, Germany",
            "state": None,
            "street_1": None,
            "street_2": None,
            "zip_code": None,
        },
        "custom_fields": {},
        "integration_fields": [],
        "remote_url": None,
        "opened_at": TIMESTAMP,
        "closed_at": None if status == "OPEN" else TIMESTAMP,
        "remote_created_at": TIMESTAMP,
        "remote_updated_at": TIMESTAMP,
        "contact_id": None,
        "remote_data": None,
        "changed_at": TIMESTAMP,
        "remote_deleted_at": None,
        "stages": [
            {
                "id": sid,
                "remote_id": str(i + 1),
                "name": sname,
                "remote_data": None,
                "index": i,
                "status": None,
                "custom_fields": {},
            }
            for i, (sid, sname) in enumerate(STAGES)
        ],
        "screening_questions": [
            {
                "id": qid,
                "remote_id": str(i + 1),
                "title": title,
                "description": None,
                "format": fmt,
                "category": None,
                "index": i,
                "required": required,
                "precondition_question_id": precondition[0] if precondition else None,
                "precondition_options": precondition[1] if precondition else None,
            }
            for i, (qid, title, fmt, required, precondition) in enumerate(questions)
        ],
        "job_postings": [],
        "hiring_team": [],
    }


def all_jobs() -> list[dict[str, Any]]:
    return [job(*fields[:3], i, fields[3]) for i, fields in enumerate(JOBS)]


def user(
    user_id: str, first: str, last: str, email: str, status: str, index: int
) -> dict[str, Any]:
    """One user as GET /ats/users returns it."""
    return {
        "id": user_id,
        "remote_id": str(500 + index),
        "first_name": first,
        "last_name": last,
        "email": email,
        "status": status,
        "system_roles": [],
        "remote_data": None,
        "changed_at": TIMESTAMP,
        "remote_deleted_at": None,
    }


def all_users() -> list[dict[str, Any]]:
    return [user(*fields, i) for i, fields in enumerate(USERS)]


def named(item_id: str, name: str, remote_id: str) -> dict[str, Any]:
    """A tag or a rejection reason as Kombo lists them."""
    return {
        "id": item_id,
        "remote_id": remote_id,
        "name": name,
        "remote_data": None,
        "changed_at": TIMESTAMP,
        "remote_deleted_at": None,
    }
