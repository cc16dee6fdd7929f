"""Where Kombo is and how long a run waits by default, as plain values: `--help` shows them, and
must not wait for pydantic and the settings model (`settings.py`) to load."""

from __future__ import annotations

REGIONS = {
    "eu": "https://api.kombo.dev/v1",
    "us": "https://api.us.kombo.dev/v1",
    "ca": "https://api.ca.kombo.dev/v1",
}
DEFAULT_MAX_WAIT = 300.0  # seconds: the longest a server may make one row wait (Retry-After)
DEFAULT_REQUEST_TIMEOUT = 300.0  # seconds for a whole request; writes go through to the ATS
# When a write's outcome is uncertain, Kombo's reads (synced data) may not show it yet: look it
# up until this long after the answer (schedule: sending.LOOKUP_DELAYS), then stop looking.
DEFAULT_LOOKUP_WINDOW = 300.0
