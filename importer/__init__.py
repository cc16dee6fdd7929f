"""kombo-importer: import candidates from spreadsheets into any ATS behind Kombo's unified API."""

from __future__ import annotations

__version__ = "0.1.0"

from .build import BuiltRow, PostAtsCandidatesRequest, RequestBuilder
from .mapping import Mapping, load_mapping
from .readers import SourceRow, Table, read_table
from .runs import DryRunOptions, dry_run
from .validate import ValidationSummary, validate_rows

__all__ = [
    "BuiltRow",
    "DryRunOptions",
    "Mapping",
    "PostAtsCandidatesRequest",
    "RequestBuilder",
    "SourceRow",
    "Table",
    "ValidationSummary",
    "__version__",
    "dry_run",
    "load_mapping",
    "read_table",
    "validate_rows",
]
