"""The settings of a submission, validated once from flags and the environment.

The API key is a `SecretStr`: printing the settings, an error or a log line never shows it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

REGIONS = {
    "eu": "https://api.kombo.dev/v1",
    "us": "https://api.us.kombo.dev/v1",
    "ca": "https://api.ca.kombo.dev/v1",
}
DEFAULT_CONCURRENCY = 10
KOMBO_CONCURRENCY_LIMIT = 30  # Kombo's default in-flight writes per integration


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
    connect_timeout: float = Field(default=10.0, gt=0)
    write_timeout: float = Field(default=300.0, gt=0)  # writes go through to the customer's ATS

    @field_validator("server_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"'{value}' is not an http(s) URL")
        return value
