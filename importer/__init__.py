"""kombo-importer: import candidates from spreadsheets into any ATS behind Kombo's unified API.

Use it from Python (see README.md, "Use it from Python"):

    import importer
    dry = importer.validate("candidates.xlsx", "mapping.yaml")  # or a DataFrame, or dicts
    dry.counts, dry.problems_frame()
    result = importer.submit(dry, integration_id="acme:greenhouse")  # key: KOMBO_API_KEY

`load_mapping`, `validate`, `submit` and `submit_async` are the API (`importer/api.py`); what
stops a run is an `ImporterError` (ConfigError, InputFileError, FatalApiError, OutputError). The
names are imported on first use (PEP 562), so that importing one module of the package
(`importer.transforms`) or starting the command line does not import the rest (httpx, the SDK,
SQLite, pandas).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .__version__ import __version__

_EXPORTS = {
    # the API
    "load_mapping": "mapping",
    "validate": "api",
    "submit": "api",
    "submit_async": "api",
    "DryRun": "api",
    "SubmitResult": "api",
    "Mapping": "mapping",
    "Issue": "issues",
    "RowResult": "sending",
    "Status": "sending",
    # what stops a run
    "ImporterError": "errors",
    "ConfigError": "errors",
    "InputFileError": "errors",
    "FatalApiError": "errors",
    "OutputError": "errors",
    # the stages, for finer use
    "BuiltRow": "build",
    "PostAtsCandidatesRequest": "build",
    "RequestBuilder": "build",
    "SourceRow": "readers",
    "Table": "readers",
    "read_table": "readers",
    "DryRunOptions": "runs",
    "dry_run": "runs",
    "RowChecker": "checks",
    "ValidationSummary": "checks",
    "validate_rows": "checks",
}

__all__ = [*sorted(_EXPORTS), "__version__"]

if TYPE_CHECKING:  # what the type checker and editors see; at run time, __getattr__ below
    from .api import DryRun as DryRun
    from .api import SubmitResult as SubmitResult
    from .api import submit as submit
    from .api import submit_async as submit_async
    from .api import validate as validate
    from .build import BuiltRow as BuiltRow
    from .build import PostAtsCandidatesRequest as PostAtsCandidatesRequest
    from .build import RequestBuilder as RequestBuilder
    from .checks import RowChecker as RowChecker
    from .checks import ValidationSummary as ValidationSummary
    from .checks import validate_rows as validate_rows
    from .errors import ConfigError as ConfigError
    from .errors import FatalApiError as FatalApiError
    from .errors import ImporterError as ImporterError
    from .errors import InputFileError as InputFileError
    from .errors import OutputError as OutputError
    from .issues import Issue as Issue
    from .mapping import Mapping as Mapping
    from .mapping import load_mapping as load_mapping
    from .readers import SourceRow as SourceRow
    from .readers import Table as Table
    from .readers import read_table as read_table
    from .runs import DryRunOptions as DryRunOptions
    from .runs import dry_run as dry_run
    from .sending import RowResult as RowResult
    from .sending import Status as Status


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'importer' has no attribute '{name}'")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
