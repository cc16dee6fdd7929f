"""The answers the sandbox can be told to give instead of the real one: Kombo's error answers
(every code a client must handle, with the HTTP status Kombo sends it with), answers that are not
JSON, dropped connections, and one code newer than SDK 1.4."""

from __future__ import annotations

from dataclasses import dataclass

# A static, human-readable label per code, as Kombo's `error.title` is.
TITLES = {
    "PLATFORM.RATE_LIMIT_EXCEEDED": "You have exceeded the rate limit.",
    "PLATFORM.CONCURRENCY_LIMIT_EXCEEDED": "Too many actions are running for this integration.",
    "PLATFORM.INTEGRATION_NOT_FOUND": "The integration could not be found.",
    "PLATFORM.INPUT_INVALID": "The input is invalid.",
    "PLATFORM.UNKNOWN_ERROR": "An unknown error occurred.",
    "PLATFORM.IP_NOT_WHITELISTED": "Your IP address is not on the allowlist.",
    "PLATFORM.AUTHENTICATION_INVALID": "The API key is invalid.",
    "PLATFORM.TASK_TIMED_OUT": "The task timed out.",
    "INTEGRATION.PERMISSION_MISSING": "The integration is missing a permission.",
    "INTEGRATION.AUTHENTICATION_INVALID": "The integration's credentials are invalid.",
    "INTEGRATION.QA_FAILED": "The integration's setup data did not pass quality checks.",
    "INTEGRATION.SETUP_SYNC_PENDING": "The integration's initial sync is still running.",
    "INTEGRATION.SETUP_INCOMPLETE": "The integration's setup has not been finished.",
    "INTEGRATION.INACTIVE": "The integration is inactive.",
    "INTEGRATION.MODEL_NOT_AVAILABLE": "This data model isn't supported for this integration.",
    "INTEGRATION.MODEL_DISABLED": "This data model is disabled in the integration's scope.",
    "INTEGRATION.ACTION_NOT_AVAILABLE": "This action isn't supported for this integration.",
    "INTEGRATION.ACTION_DISABLED": "This action is disabled in the integration's scope.",
    "REMOTE.SERVICE_UNAVAILABLE": "The ATS is unavailable.",
    "REMOTE.RATE_LIMIT_EXCEEDED": "The ATS's rate limit was exceeded.",
    "REMOTE.INPUT_INVALID": "The ATS refused the input.",
    "REMOTE.UNKNOWN_HTTP_ERROR": "The ATS answered with an unexpected error.",
    "ATS.JOB_CLOSED": "The job is closed.",
    "ATS.APPLICATION_ALREADY_EXISTS": "The application already exists.",
}
UNKNOWN_CODE = "PLATFORM.SOMETHING_NEW"  # a code newer than the SDK: it cannot parse it


@dataclass(frozen=True)
class Fault:
    """How a fault answers: an error in Kombo's shape (`code` None: an error without a code),
    `html`: a load balancer's page, not JSON; `drop`: no answer at all, the connection cut.
    `after_action`: the action (the write) happens first, then its answer is replaced."""

    status: int = 0
    code: str | None = None
    message: str = ""
    html: bool = False
    drop: bool = False
    after_action: bool = False
    retry_after: bool = False  # sends the configured Retry-After


def _integration(code: str, message: str) -> Fault:
    """INTEGRATION.* codes answer 409 since Kombo's change of 2026-05-19 (503 before)."""
    return Fault(409, code, message)


FAULTS: dict[str, Fault | None] = {
    "ok": None,
    "429": Fault(429, "PLATFORM.RATE_LIMIT_EXCEEDED", "Rate limit exceeded.", retry_after=True),
    "500": Fault(500, "PLATFORM.UNKNOWN_ERROR", "Something went wrong."),
    "502": Fault(502, html=True),
    "503": Fault(503, html=True),
    "403": Fault(403, None, "Forbidden."),
    "drop": Fault(drop=True),
    "drop_after_create": Fault(drop=True, after_action=True),
    "task_timeout": Fault(500, "PLATFORM.TASK_TIMED_OUT", "The task timed out.", after_action=True),
    "job_closed": Fault(400, "ATS.JOB_CLOSED", "The job is closed."),
    "unknown_code": Fault(400, UNKNOWN_CODE, "Something Kombo added after SDK 1.4 happened."),
    "PLATFORM.IP_NOT_WHITELISTED": Fault(
        403, "PLATFORM.IP_NOT_WHITELISTED", "Requests from this IP address are not allowed."
    ),
    "INTEGRATION.PERMISSION_MISSING": _integration(
        "INTEGRATION.PERMISSION_MISSING", "The ATS user of this integration lacks a permission."
    ),
    "INTEGRATION.AUTHENTICATION_INVALID": _integration(
        "INTEGRATION.AUTHENTICATION_INVALID", "The ATS no longer accepts this integration's key."
    ),
    "INTEGRATION.QA_FAILED": _integration(
        "INTEGRATION.QA_FAILED", "The integration is in quality assurance."
    ),
    "INTEGRATION.SETUP_SYNC_PENDING": _integration(
        "INTEGRATION.SETUP_SYNC_PENDING", "The initial sync has not finished yet."
    ),
    "INTEGRATION.SETUP_INCOMPLETE": _integration(
        "INTEGRATION.SETUP_INCOMPLETE", "The integration's setup has not been finished."
    ),
    "INTEGRATION.INACTIVE": _integration("INTEGRATION.INACTIVE", "The integration is inactive."),
    "INTEGRATION.MODEL_NOT_AVAILABLE": _integration(
        "INTEGRATION.MODEL_NOT_AVAILABLE", "This model is not available for this ATS."
    ),
    "INTEGRATION.MODEL_DISABLED": _integration(
        "INTEGRATION.MODEL_DISABLED", "This model is disabled in the integration's scope config."
    ),
    "INTEGRATION.ACTION_NOT_AVAILABLE": _integration(
        "INTEGRATION.ACTION_NOT_AVAILABLE", "This action is not available for this ATS."
    ),
    "INTEGRATION.ACTION_DISABLED": _integration(
        "INTEGRATION.ACTION_DISABLED", "This action is disabled in the integration's scope config."
    ),
    "REMOTE.SERVICE_UNAVAILABLE": Fault(
        503, "REMOTE.SERVICE_UNAVAILABLE", "The ATS answered 503 Service Unavailable."
    ),
    "REMOTE.RATE_LIMIT_EXCEEDED": Fault(
        429,
        "REMOTE.RATE_LIMIT_EXCEEDED",
        "The ATS answered 429 Too Many Requests.",
        retry_after=True,
    ),
    "REMOTE.UNKNOWN_HTTP_ERROR": Fault(
        502, "REMOTE.UNKNOWN_HTTP_ERROR", "The ATS answered 500 Internal Server Error."
    ),
    "REMOTE.INPUT_INVALID": Fault(400, "REMOTE.INPUT_INVALID", "The ATS refused a field."),
}
FAULT_NAMES = tuple(FAULTS)


def check_fault(name: str) -> None:
    """ValueError naming the known faults when `name` is not one."""
    if name not in FAULTS:
        raise ValueError(f"unknown fault {name!r}; known: {', '.join(FAULT_NAMES)}")


def check_rate(name: str, rate: float) -> None:
    """ValueError when `rate` is not a share of requests (0 to 1)."""
    check_fault(name)
    if not 0 <= rate <= 1:
        raise ValueError(
            f"the rate of {name} is {rate:g}; a rate is the share of requests that get the "
            "fault, between 0 and 1 (0.05 is 5 %)"
        )
