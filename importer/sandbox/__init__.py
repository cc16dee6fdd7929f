"""A local Kombo-compatible API for the demo and the tests; the pipeline never imports it."""

from .faults import FAULT_NAMES, FAULTS
from .server import (
    ACTIONS,
    DEFAULT_API_KEY,
    DEFAULT_INTEGRATION_ID,
    DEFAULT_PORT,
    MODELS,
    OPERATIONS,
    Sandbox,
    SandboxConfig,
)

__all__ = [
    "ACTIONS",
    "DEFAULT_API_KEY",
    "DEFAULT_INTEGRATION_ID",
    "DEFAULT_PORT",
    "FAULTS",
    "FAULT_NAMES",
    "MODELS",
    "OPERATIONS",
    "Sandbox",
    "SandboxConfig",
]
