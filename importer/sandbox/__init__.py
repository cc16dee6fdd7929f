"""A local Kombo-compatible API for the demo and the tests; the pipeline never imports it."""

from .server import (
    DEFAULT_API_KEY,
    DEFAULT_INTEGRATION_ID,
    DEFAULT_PORT,
    FAULTS,
    Sandbox,
    SandboxConfig,
)

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_INTEGRATION_ID",
    "DEFAULT_PORT",
    "FAULTS",
    "Sandbox",
    "SandboxConfig",
]
