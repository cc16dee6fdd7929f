"""The files a run reads and writes, and the rules that keep them safe: no output may be an
input or another output (compared as the same file on disk, links included); no file is replaced
that an earlier run of the same input did not write (each folder written into keeps a record of
its files, `.kombo-run.json`), unless forced; and an input that changed after it was validated is
not sent."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
from collections.abc import Iterable, Iterator
from collections.abc import Mapping as MappingOf
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ConfigError, InputFileError

OUTPUT_SUFFIXES = {"--annotated": (".xlsx",)}
RECORD_NAME = ".kombo-run.json"
_RECORD_MAX_BYTES = 4_000_000  # a record is a few hundred bytes a file; a bigger one is not ours


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


def run_folder(input_path: Path) -> Path:
    """Where a run writes what it is not told to write elsewhere: `<input name>.kombo/` beside
    the input (`candidates.kombo/` for candidates.xlsx)."""
    return input_path.with_name(f"{input_path.stem or input_path.name}.kombo")


def claim_outputs(
    input_path: Path,
    writes: Iterable[Path],
    *,
    folder: Path | None = None,
    force: bool = False,
    attachments: MappingOf[Path, Path] | None = None,
) -> list[Path]:
    """Before anything is written: refuse to replace a file that no earlier run of this input
    wrote, or to write into the run `folder` of another input (unless `force`); then record the
    files as this input's, with the attachments folder their paths are relative to (`attachments`,
    for the re-importable ones). Returns the files of an earlier run of this input that this run
    replaces. Pipes and devices (/dev/stdout) are written as streams: never replaced, never
    recorded. Paths are recorded relative to the record's folder: moving a folder together with
    its input keeps them."""
    if folder is not None:
        if folder.exists() and not folder.is_dir():
            raise ConfigError(
                f"{folder}: is a file, not a folder for the outputs; choose another with --out."
            )
        owner = _recorded_path(_read_record(folder).get("input"), folder)
        if owner is not None and not _same(owner, input_path) and not force:
            raise ConfigError(
                f"{folder} holds the outputs of another input, {owner}; choose another folder "
                "with --out DIR, or pass --force to write over them."
            )
    by_folder: dict[str, list[Path]] = {}
    replaced = []
    for path in writes:
        kind = _kind(path)
        if kind == "dir":
            raise ConfigError(f"{path}: is a folder; give a file name.")
        if kind == "special":
            continue
        by_folder.setdefault(os.path.realpath(path.parent), []).append(path)
        if kind == "file":
            owner = _recorded_path(_recorded(path).get("input"), path.parent)
            if owner is not None and _same(owner, input_path):
                replaced.append(path)
            elif not force:
                raise ConfigError(
                    f"{path} exists, and no earlier run of {input_path} wrote it; choose another "
                    "name (or another folder with --out DIR), or pass --force to replace it."
                )
    bases = attachments or {}
    for parent, paths in by_folder.items():
        record = _read_record(Path(parent))
        files = record.get("files")
        files = files if isinstance(files, dict) else {}
        me = _relative(input_path, Path(parent))
        for path in paths:
            files[path.name] = {"input": me}
            if path in bases:
                files[path.name]["attachments"] = _relative(bases[path], Path(parent))
        record["files"] = files
        if folder is not None and os.path.realpath(folder) == parent:
            record["input"] = me
        _write_record(Path(parent), record)
    return replaced


def recorded_attachments(input_path: Path) -> Path | None:
    """The attachments folder an earlier run recorded for this file (its rejects), so that the
    file finds the same attachments wherever it was written; None for any other file."""
    return _recorded_path(_recorded(input_path).get("attachments"), input_path.parent)


def recorded_origin(path: Path) -> Path | None:
    """The input an earlier run read when it wrote this file to be imported again (its rejects,
    its error.csv); None for any other file."""
    entry = _recorded(path)
    return _recorded_path(entry.get("input"), path.parent) if "attachments" in entry else None


def _recorded_path(text: object, folder: Path) -> Path | None:
    """A path as a record holds it (relative to the record's folder), or None."""
    if not isinstance(text, str) or not text:
        return None
    return Path(os.path.normpath(Path(os.path.realpath(folder)) / text))


def _same(recorded: Path, path: Path) -> bool:
    return os.path.realpath(recorded) == os.path.realpath(path)


def _recorded(path: Path) -> dict[str, Any]:
    files = _read_record(path.parent).get("files")
    entry = files.get(path.name) if isinstance(files, dict) else None
    return entry if isinstance(entry, dict) else {}


def _kind(path: Path) -> str:
    try:
        info = os.stat(path)
    except OSError:  # not there (or not reachable): opening it names the problem
        return "new"
    if stat.S_ISDIR(info.st_mode):
        return "dir"
    return "file" if stat.S_ISREG(info.st_mode) else "special"


def _relative(path: Path, folder: Path) -> str:
    """`path` relative to the record's folder, so that moving both together keeps it."""
    try:
        return os.path.relpath(os.path.realpath(path), os.path.realpath(folder))
    except ValueError:  # another drive (Windows): only the absolute path can say where
        return os.path.realpath(path)


def _read_record(folder: Path) -> dict[str, Any]:
    """A folder's record, or {} when it has none we can read: then no file is known as ours,
    and replacing one needs --force (the safe way to be wrong)."""
    path = folder / RECORD_NAME
    if _kind(path) != "file" or path.stat().st_size > _RECORD_MAX_BYTES:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_record(folder: Path, record: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    record = {"written_by": "kombo-import: the files its runs wrote here; do not edit"} | record
    with replacing(folder / RECORD_NAME) as temporary:
        temporary.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", "utf-8")


@contextlib.contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temporary file beside `path` that replaces it at once when the block ends without an
    error, and is removed otherwise: readers see the old file or the new one, never half."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
