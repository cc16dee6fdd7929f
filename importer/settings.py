"""The settings of a submission, validated once from flags and the environment.

The API key is a `SecretStr`: printing the settings never shows it. Every key a run uses is also
handed to `errors.remember_secret`, so that `errors.redact()` scrubs it from any text that leaves
the process (an exception quoting a header, a server echoing it back).
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from .defaults import DEFAULT_LOOKUP_WINDOW, DEFAULT_MAX_WAIT, DEFAULT_REQUEST_TIMEOUT, REGIONS
from .errors import remember_secret

DEFAULT_CONCURRENCY = 10
MAX_TAG_CHARS = 100
MAX_RESPONSE_BYTES = 1_000_000  # Kombo's answers to a create are a few KB
MAX_PAGE_BYTES = 32_000_000  # a page of 250 jobs with long descriptions
MIN_KEY_CHARS = 8  # shorter would be no key of Kombo's, and too short to scrub from text safely
_KEY_CHARACTERS = re.compile(r"[\x21-\x7e]+")  # printable ASCII, no spaces: what a header can carry


def check_api_key(key: str) -> str:
    """The key without surrounding whitespace (a key file saved on Windows ends in CR LF);
    refused when it holds anything an HTTP header cannot carry, before any request."""
    stripped = key.strip()
    remember_secret(key)
    remember_secret(stripped)
    if len(stripped) < MIN_KEY_CHARS:
        raise ValueError(
            f"the API key has {len(stripped)} characters; a Kombo key has many more"
            " (copy it again from Kombo's dashboard)"
        )
    if not _KEY_CHARACTERS.fullmatch(stripped):
        raise ValueError(
            "the API key holds spaces, control or non-ASCII characters, which no Kombo key has;"
            " copy it again from Kombo's dashboard"
        )
    return stripped


class SubmitSettings(BaseModel):
    """How to reach Kombo and how hard to push it."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    # where
    server_url: str = REGIONS["eu"]
    api_key: SecretStr
    integration_id: str = Field(min_length=1)
    # how fast
    batch_size: int = Field(default=100, ge=1, le=10_000)
    concurrency: int = Field(default=DEFAULT_CONCURRENCY, ge=1, le=100)
    rate_limit: float | None = Field(default=None, gt=0)  # requests per second, all requests
    # how patient
    max_attempts: int = Field(default=8, ge=1, le=50)
    backoff_initial: float = Field(default=0.5, gt=0)
    backoff_max: float = Field(default=60.0, gt=0)
    max_wait: float = Field(default=DEFAULT_MAX_WAIT, gt=0)  # cap on Retry-After and resets
    connect_timeout: float = Field(default=10.0, gt=0)
    request_timeout: float = Field(default=DEFAULT_REQUEST_TIMEOUT, gt=0)  # connect to last byte
    lookup_window: float = Field(default=DEFAULT_LOOKUP_WINDOW, ge=0, le=3600)
    # what to do after each create
    tag: str | None = Field(default=None, min_length=1, max_length=MAX_TAG_CHARS)

    @field_validator("api_key", mode="before")
    @classmethod
    def _clean_key(cls, value: object) -> object:
        raw = value.get_secret_value() if isinstance(value, SecretStr) else value
        return SecretStr(check_api_key(raw)) if isinstance(raw, str) else value

    @field_validator("tag")
    @classmethod
    def _printable_tag(cls, value: str | None) -> str | None:
        if value is not None and (value != value.strip() or not value.isprintable()):
            raise ValueError("a tag is printable text without leading or trailing spaces")
        return value

    @field_validator("server_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"'{value}' is not an http(s) URL")
        return value
