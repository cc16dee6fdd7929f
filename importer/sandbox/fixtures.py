"""The sandbox's jobs: the ids `mappings/example.yaml` uses, so the demo runs end to end."""

from __future__ import annotations

from typing import Any

STAGES = [
    ("8x3YKRDcuRnwShdh96ShBNn1", "Applied"),
    ("2R1cQwBq3iKbdMR7bm5xNvcP", "Screening"),
    ("6pYTGdQ6zyv9vHJ1WaWd5Cyo", "Interview"),
]
QUESTIONS = [
    ("3phFBNXRweGnDmsU9o2vdPuQ", "Do you have a work permit for the EU?", {"type": "BOOLEAN"}),
    (
        "EYJjhMQT3LtVKXnTbnRT8s6U",
        "Which of these do you use?",
        {"type": "TEXT", "display_type": "SINGLE_LINE", "max_length": None},
    ),
    (
        "Mn4kXJcWgHq2VsLp8RdTzYb3",
        "How do you want to work?",
        {
            "type": "SINGLE_SELECT",
            "options": [
                {"id": "Rm7oTe2WoRkQ9xLp3NbVcZa1", "remote_id": "1", "name": "Remote"},
                {"id": "Hy8bRiD3wOrK5mQz7LpXcVn2", "remote_id": "2", "name": "Hybrid"},
                {"id": "Of9fIcE4wOrK6nRa8MqYdWo3", "remote_id": "3", "name": "Office"},
            ],
        },
    ),
]
JOBS = [
    ("BDpgnpZ148nrGh4mYHNxJBgx", "Backend Engineer", "OPEN"),
    ("5Y1zeMUqTBf4QNPAqTBH2Rsm", "Product Designer", "OPEN"),
    ("9cDq3oHNyR2c7VWCkYbDRVZh", "Sales Manager DACH", "OPEN"),
    ("Ew6B7dUHpg5RkxYHWt8wfBdq", "Data Analyst", "OPEN"),
    ("Kq8ClosedJobZ7pXw2mRtY4n", "Office Manager (filled)", "CLOSED"),
]
TIMESTAMP = "2026-11-01T09:00:00.000Z"


def job(job_id: str, name: str, status: str, index: int) -> dict[str, Any]:
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
                "required": False,
                "precondition_question_id": None,
                "precondition_options": None,
            }
            for i, (qid, title, fmt) in enumerate(QUESTIONS)
        ],
        "job_postings": [],
        "hiring_team": [],
    }


def all_jobs() -> list[dict[str, Any]]:
    return [job(job_id, name, status, i) for i, (job_id, name, status) in enumerate(JOBS)]
