"""The files a run reads and writes, and the two rules that keep them safe: no output may be an
input or another output (compared as the same file on disk, links included), and an input that
changed after it was validated is not sent."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ConfigError, InputFileError

OUTPUT_SUFFIXES = {"--annotated": (".xlsx",)}


def refuse_overwrites(reads: dict[str, Path | None], writes: dict[str, Path | None]) -> None:
    """Before anything is read or sent: no output may be an input, nor another output. Files are
    compared as the system knows them (a hard link or a symlink is the same file), not by name."""
    seen: dict[tuple[Any, ...], str] = {}
    for label, path in reads.items():
        if path is not None:
            seen.setdefault(_identity(path), f"{label} {path}")
    for label, path in writes.items():
        if path is None:
            continue
        suffixes = OUTPUT_SUFFIXES.get(label)
        if suffixes and path.suffix.lower() not in suffixes:
            raise ConfigError(
                f"{label} {path}: writes an Excel workbook; give it a name ending in {suffixes[0]}."
            )
        identity = _identity(path)
        if identity in seen:
            raise ConfigError(
                f"{label} {path} would overwrite {seen[identity]} (the same file); choose another "
                "file name."
            )
        seen[identity] = f"{label} {path}"


def _identity(path: Path) -> tuple[Any, ...]:
    """What makes two paths one file: device and inode when it exists, else its real path."""
    try:
        info = os.stat(path)
    except OSError:
        return ("path", os.path.normcase(os.path.realpath(path)))
    return ("inode", info.st_dev, info.st_ino)


@dataclass(frozen=True)
class FileSnapshot:
    """A file's size, time and digest, to prove later that it is still what was validated."""

    path: Path
    size: int
    mtime_ns: int
    sha256: str

    @classmethod
    def take(cls, path: Path) -> FileSnapshot:
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            info = os.fstat(fh.fileno())
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
        return cls(path, info.st_size, info.st_mtime_ns, digest.hexdigest())

    def check(self) -> None:
        """Raise when the file changed since it was taken: what was confirmed is what is sent."""
        try:
            now = FileSnapshot.take(self.path)
        except OSError as exc:
            now = None
            reason = exc.strerror or str(exc)
        else:
            reason = "its content differs"
        if now is None or now.sha256 != self.sha256:
            raise InputFileError(
                f"{self.path}: changed after it was validated ({reason}); nothing was sent. Run "
                "the command again to check and send what it holds now."
            )
