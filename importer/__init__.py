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
import sys
import types
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
    "RowResult": "submit",
    "Status": "submit",
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
    "RowChecker": "validate",
    "ValidationSummary": "validate",
    "validate_rows": "validate",
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
    from .submit import RowResult as RowResult
    from .submit import Status as Status
    from .validate import RowChecker as RowChecker
    from .validate import ValidationSummary as ValidationSummary
    from .validate import validate_rows as validate_rows


# `validate` and `submit` name an API function and a stage module (validate.py, submit.py), and
# importing a stage binds its name in the package. So the stage is bound, made callable: calling
# `importer.validate` calls the API's `validate` (and `inspect.signature` shows its), whichever
# was imported first, and `from importer import validate` still gives the stage.
_CALLABLE_STAGES = ("validate", "submit")


class _CallableStage(types.ModuleType):
    """A stage module whose name is also an API function's: calling it calls the function."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.__wrapped__(*args, **kwargs)

    @property
    def __wrapped__(self) -> Any:
        api = importlib.import_module(".api", __name__)
        return getattr(api, self.__name__.rpartition(".")[2])


class _Package(types.ModuleType):
    def __setattr__(self, name: str, value: Any) -> None:
        if name in _CALLABLE_STAGES and type(value) is types.ModuleType:
            value.__class__ = _CallableStage
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str) -> Any:
    if name in _CALLABLE_STAGES:
        return importlib.import_module(f".{name}", __name__)
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'importer' has no attribute '{name}'")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
