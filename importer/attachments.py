"""Turn what a cell says about a file into a checked reference, inside the allowed base folder.

The dry run only resolves and stats files; bytes are read and base64-encoded by `encode()` when a
request is about to be sent, one request at a time, so memory stays flat however many rows there are.
"""

from __future__ import annotations

import base64
import mimetypes
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from . import issues

DEFAULT_MAX_BYTES = 10_000_000  # Kombo's recommendation for all attachments of one application

# Types Python's mimetypes table may not know on a minimal machine.
_EXTRA_TYPES = {
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".doc": "application/msword",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".rtf": "application/rtf",
    ".pdf": "application/pdf",
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
}


class AttachmentProblem(ValueError):
    """Raised when a cell's file cannot be attached; carries a stable report code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class AttachmentRef:
    """A file checked in the dry run, or a URL Kombo downloads itself (`data_url`)."""

    name: str
    content_type: str | None
    path: Path | None = None
    size: int | None = None
    url: str | None = None

    def encode(self) -> str:
        """The file's bytes as base64, read now: call this only when the request is sent."""
        if self.path is None:
            raise ValueError("a URL attachment has no local bytes to encode")
        return base64.b64encode(self.path.read_bytes()).decode("ascii")


class AttachmentResolver:
    """Resolves cell texts against one base folder; refuses anything that leaves it."""

    def __init__(self, base_dir: str | Path, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.base_dir = Path(base_dir).resolve()
        self.max_bytes = max_bytes

    def resolve(self, text: str) -> AttachmentRef:
        text = text.strip()
        lowered = text.lower()
        if lowered.startswith(("http://", "https://")):
            name = Path(unquote(urlparse(text).path)).name or "attachment"
            return AttachmentRef(name=name, content_type=guess_content_type(name, default=None), url=text)
        if lowered.startswith("file://"):
            text = unquote(urlparse(text).path)
            if len(text) > 2 and text[0] == "/" and text[2] == ":":  # file:///C:/cvs/a.pdf
                text = text[1:]
        text = text.replace("\\", "/")
        candidate = Path(text)
        if not candidate.is_absolute():
            candidate = self.base_dir / candidate
        resolved = Path(os.path.realpath(candidate))
        if not resolved.is_relative_to(self.base_dir):
            raise AttachmentProblem(issues.OUTSIDE_BASE_DIR, f"'{text}' is outside the attachments folder {self.base_dir}; only files inside it are read. Move the file there or pass --attachments-dir.")
        try:
            info = resolved.stat()
        except FileNotFoundError:
            raise AttachmentProblem(issues.FILE_NOT_FOUND, f"'{text}' was not found in {self.base_dir}.") from None
        except OSError as exc:
            raise AttachmentProblem(issues.FILE_NOT_FOUND, f"'{text}' cannot be read: {exc.strerror}.") from None
        if not stat.S_ISREG(info.st_mode):
            raise AttachmentProblem(issues.NOT_A_FILE, f"'{text}' is a folder or device, not a file.")
        if info.st_size == 0:
            raise AttachmentProblem(issues.EMPTY_FILE, f"'{text}' is empty (0 bytes).")
        if info.st_size > self.max_bytes:
            raise AttachmentProblem(issues.FILE_TOO_LARGE, f"'{text}' has {info.st_size:,} bytes; the limit is {self.max_bytes:,}.")
        return AttachmentRef(name=resolved.name, content_type=guess_content_type(resolved.name), path=resolved, size=info.st_size)


def guess_content_type(name: str, default: str | None = "application/octet-stream") -> str | None:
    suffix = Path(name).suffix.lower()
    return _EXTRA_TYPES.get(suffix) or mimetypes.guess_type(name)[0] or default
