"""kombo-importer: import candidates from spreadsheets into any ATS behind Kombo's unified API.

The public API is imported on first use (PEP 562), so that importing one module of the package
(`importer.transforms`) does not import the rest (httpx, the SDK, SQLite).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .__version__ import __version__

_EXPORTS = {
    "BuiltRow": "build",
    "PostAtsCandidatesRequest": "build",
    "RequestBuilder": "build",
    "Mapping": "mapping",
    "load_mapping": "mapping",
    "SourceRow": "readers",
    "Table": "readers",
    "read_table": "readers",
    "DryRunOptions": "runs",
    "dry_run": "runs",
    "RowChecker": "validate",
    "ValidationSummary": "validate",
    "validate_rows": "validate",
}

__all__ = [*sorted(_EXPORTS), "__version__"]

if TYPE_CHECKING:  # what the type checker and editors see; at run time, __getattr__ below
    from .build import BuiltRow as BuiltRow
    from .build import PostAtsCandidatesRequest as PostAtsCandidatesRequest
    from .build import RequestBuilder as RequestBuilder
    from .mapping import Mapping as Mapping
    from .mapping import load_mapping as load_mapping
    from .readers import SourceRow as SourceRow
    from .readers import Table as Table
    from .readers import read_table as read_table
    from .runs import DryRunOptions as DryRunOptions
    from .runs import dry_run as dry_run
    from .validate import RowChecker as RowChecker
    from .validate import ValidationSummary as ValidationSummary
    from .validate import validate_rows as validate_rows


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'importer' has no attribute '{name}'")
