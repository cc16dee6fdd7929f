"""Turn what a cell says about a file into a checked reference inside one allowed place: a folder,
or a ZIP archive read in place (Greenhouse's bulk import takes resumes as a .zip; so do we).

The dry run resolves each path, checks it stays inside, stats it and reads its first bytes to
know its type. The whole file is read by `AttachmentRef.read()` only when its request is about
to be sent, one request at a time, so memory stays flat. That read opens the file again relative
to the folder without following any link, and refuses it unless it is still the very file that
was checked: a folder or file swapped for a link, a FIFO or other bytes during a run fails that
row instead of sending something from elsewhere.
"""

from __future__ import annotations

import contextlib
import errno
import importlib
import ipaddress
import mimetypes
import os
import posixpath
import re
import stat
import threading
import unicodedata
import weakref
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse, urlsplit

from . import issues
from .errors import InputFileError
from .issues import RowProblem

DEFAULT_MAX_BYTES = 10_000_000  # Kombo: keep the attachments of one application below 10 MB
SNIFF_BYTES = 8192
ZIP_MAX_RATIO = 100  # a member that inflates more than this is treated as a zip bomb
ZIP_MAX_TOTAL_BYTES = 20_000_000_000  # an archive announcing more than this is refused whole

_OOXML_ODF = {
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".odp": "application/vnd.oasis.opendocument.presentation",
    ".pages": "application/vnd.apple.pages",
}
_OLE2 = {
    ".doc": "application/msword",
    ".xls": "application/vnd.ms-excel",
    ".ppt": "application/vnd.ms-powerpoint",
    ".msg": "application/vnd.ms-outlook",
}
_TEXT = {
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".csv": "text/csv",
    ".html": "text/html",
    ".htm": "text/html",
    ".json": "application/json",
    ".xml": "application/xml",
    ".rtf": "application/rtf",
    ".vcf": "text/vcard",
}
_KNOWN_BY_NAME = {
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".heic": "image/heic",
    ".webp": "image/webp",
}
_MAGIC = (
    (b"%PDF-", "application/pdf"),
    (b"{\\rtf", "application/rtf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
)
_EXECUTABLE = (b"MZ", b"\x7fELF", b"\xfe\xed\xfa", b"\xcf\xfa\xed\xfe", b"#!")

# Opening a file without following links, relative to the folder (POSIX: openat). Windows has no
# dir_fd and no O_NOFOLLOW: there a path is opened and then compared with what was checked.
_O_NOFOLLOW: int = getattr(os, "O_NOFOLLOW", 0)
_O_DIRECTORY: int = getattr(os, "O_DIRECTORY", 0)
_O_PATH: int = getattr(os, "O_PATH", 0)  # Linux: a folder needs no read permission to be walked
_DIR_FLAGS = (_O_PATH or os.O_RDONLY) | _O_DIRECTORY | _O_NOFOLLOW
_FILE_FLAGS = (
    os.O_RDONLY
    | _O_NOFOLLOW
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_BINARY", 0)
)  # non-blocking: a FIFO never hangs the run
_WALK = (
    bool(_O_NOFOLLOW and _O_DIRECTORY)
    and os.open in os.supports_dir_fd
    and os.stat in os.supports_dir_fd
    and os.stat in os.supports_follow_symlinks
)
_NOT_NAMES = frozenset({"", ".", ".."})
_LINK_ERRNOS = frozenset(getattr(errno, name, -1) for name in ("ELOOP", "ENOTDIR", "EMLINK"))

Stamp = tuple[int, int, int, int]  # st_dev, st_ino, st_size, st_mtime_ns of the checked file


def _zip_damage_errors() -> tuple[type[Exception], ...]:
    """What zipfile raises for a damaged member: its own error, or the decompressor's."""
    errors: list[type[Exception]] = [zipfile.BadZipFile, EOFError, OSError]
    for module, name in (("zlib", "error"), ("lzma", "LZMAError")):
        with contextlib.suppress(ImportError):  # ImportError: a Python built without it
            errors.append(getattr(importlib.import_module(module), name))
    return tuple(errors)


_ZIP_DAMAGE = _zip_damage_errors()

# Top-level names no public DNS serves: a URL on them is inside someone's network.
_LOCAL_TLDS = frozenset(
    {"localhost", "local", "internal", "localdomain", "intranet", "lan", "corp", "home"}
)
_DECIMAL_LABEL = re.compile(r"[0-9]+\Z")
_HEX_LABEL = re.compile(r"0x[0-9a-f]*\Z")
_OCTAL_LABEL = re.compile(r"0[0-7]+\Z")
_PRIVATE_URLS_OPTION = "--allow-private-urls"


class _Refused(Exception):
    """Internal: the path goes through a link (`mode` None) or ends at something that is not a
    regular file (its `mode`): never followed, never read."""

    def __init__(self, mode: int | None) -> None:
        super().__init__(mode)
        self.mode = mode


@dataclass(frozen=True, slots=True)
class AttachmentRef:
    """A file checked in the dry run (its bytes still unread), or a URL Kombo downloads itself."""

    name: str
    content_type: str | None
    size: int | None = None
    url: str | None = None
    location: str | None = None  # real path (no link on it) in the folder, or the ZIP member
    source: AttachmentSource | None = field(default=None, repr=False, compare=False)
    cell: str | None = None  # what the cell said, for reports
    column: str | None = None
    stamp: Stamp | None = field(default=None, repr=False, compare=False)  # the file as checked

    def read(self) -> bytes:
        """The bytes of the very file checked in the dry run, read now; if it changed since, an
        `RowProblem` naming the cell (that row fails, nothing else is sent)."""
        if self.source is None or self.location is None:
            raise ValueError("a URL attachment has no local bytes")
        return self.source.read(self)

    @property
    def shown(self) -> str:
        """The path as the user wrote it in the cell, for messages at send time."""
        return (self.cell or self.location or self.name).strip()


def _fold(name: str) -> str:
    """Names that a person would call the same: NFC vs NFD (macOS), upper vs lower case."""
    return unicodedata.normalize("NFC", name).casefold()


def _relative_parts(text: str) -> list[str]:
    """`cvs\\Anna.pdf`, `./cvs//Anna.pdf` -> ["cvs", "Anna.pdf"]; escaping the base raises."""
    parts: list[str] = []
    for part in text.replace("\\", "/").split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise RowProblem(
                    issues.OUTSIDE_BASE_DIR,
                    f"'{text}' points outside the attachments folder; only files inside it are"
                    " read.",
                )
            parts.pop()
            continue
        parts.append(unicodedata.normalize("NFC", part))
    return parts


def _stamp(info: os.stat_result) -> Stamp:
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


def _changed(shown: str, detail: str) -> RowProblem:
    return RowProblem(
        issues.FILE_CHANGED,
        f"'{shown}' changed since it was checked ({detail}); it was not sent. Run again: the file "
        "is then checked and sent as it is now.",
    )


class AttachmentSource:
    """Where attachment files live; subclasses say how to find, check and read them."""

    description: str

    def __init__(self, max_bytes: int, allow_private_urls: bool = False) -> None:
        self.max_bytes = max_bytes
        self.allow_private_urls = allow_private_urls

    def resolve(self, cell: str) -> AttachmentRef:
        """A cell's text -> a checked reference, or an `RowProblem`."""
        text = cell.strip()
        lowered = text.lower()
        if lowered.startswith(("http://", "https://")):
            _check_url(text, self.allow_private_urls)
            name = posixpath.basename(unquote(urlparse(text).path)) or "attachment"
            return AttachmentRef(name=name, content_type=_type_by_extension(name), url=text)
        if lowered.startswith("file://"):
            text = unquote(urlparse(text).path)
            if len(text) > 2 and text[0] == "/" and text[2] == ":":  # file:///C:/cvs/a.pdf
                text = text[1:]
        if "\x00" in text:
            raise RowProblem(
                issues.FILE_NOT_FOUND,
                f"'{text}' contains a NUL character, which no file name holds; correct the cell.",
            )
        return self._resolve_path(text)

    def _resolve_path(self, text: str) -> AttachmentRef:
        raise NotImplementedError

    def read(self, ref: AttachmentRef) -> bytes:
        """The bytes of `ref`, exactly as checked, or an `RowProblem` naming its cell."""
        raise NotImplementedError

    def _checked(
        self,
        text: str,
        location: str,
        name: str,
        size: int,
        head: bytes,
        stamp: Stamp | None = None,
    ) -> AttachmentRef:
        if size == 0:
            raise RowProblem(issues.EMPTY_FILE, f"'{text}' is empty (0 bytes).")
        if size > self.max_bytes:
            raise RowProblem(
                issues.FILE_TOO_LARGE,
                f"'{text}' has {size:,} bytes; the limit is {self.max_bytes:,}"
                " (--max-attachment-mb).",
            )
        content_type = sniff_content_type(head, name)
        if content_type is None:
            raise RowProblem(
                issues.UNSUPPORTED_FILE,
                f"'{text}' is neither a document, an image nor text (by its content and its name);"
                " ATSs refuse such files.",
            )
        return AttachmentRef(
            name=name,
            content_type=content_type,
            size=size,
            location=location,
            source=self,
            stamp=stamp,
        )


class FolderSource(AttachmentSource):
    """Files under one folder; a path may not leave it, not even through a symlink, not even when
    the folder changes while the run goes on."""

    def __init__(
        self,
        base_dir: str | Path,
        max_bytes: int = DEFAULT_MAX_BYTES,
        allow_private_urls: bool = False,
    ) -> None:
        super().__init__(max_bytes, allow_private_urls)
        self.base_dir = Path(os.path.realpath(base_dir))
        self.description = str(self.base_dir)
        self._listings: dict[str, dict[str, list[str]]] = {}
        self._base = str(self.base_dir)
        self._base_prefix = os.path.join(self._base, "")
        self._lock = threading.Lock()
        # The folder itself, held open: every file is opened relative to it (never by a path
        # string that a later rename or link could redirect).
        self._base_fd: int | None = None
        if _WALK:
            try:
                self._base_fd = os.open(self._base, _DIR_FLAGS)
            except OSError as exc:
                raise InputFileError(
                    f"{self._base}: the attachments folder cannot be opened: "
                    f"{exc.strerror}. Check that you may read it."
                ) from None
            weakref.finalize(self, os.close, self._base_fd)

    def _resolve_path(self, text: str) -> AttachmentRef:
        # Plain strings and os calls rather than pathlib: this runs once per attachment cell.
        base = self._base
        if text.startswith("/") or (len(text) > 2 and text[1] == ":" and text[2] in "\\/"):
            absolute = os.path.realpath(text.replace("\\", "/"))
            if not self._inside(absolute):
                raise RowProblem(
                    issues.OUTSIDE_BASE_DIR,
                    f"'{text}' is outside the attachments folder {base}; only files inside it are"
                    " read. Move the file there or pass --attachments-dir.",
                )
            relative = os.path.relpath(absolute, base)
        else:
            relative = text
        parts = _relative_parts(relative)
        if not parts:
            raise RowProblem(
                issues.NOT_A_FILE, f"'{text}' names the attachments folder itself, not a file."
            )
        try:  # the usual case, one open: the path as written, no link anywhere on it
            fd, info = self._open_plain(parts)
        except (OSError, _Refused, ValueError):
            parts, fd, info = self._open_slowly(text, parts)
        try:
            head = b""
            if 0 < info.st_size <= self.max_bytes:
                head = os.read(fd, SNIFF_BYTES)
        except OSError as exc:
            raise _unreadable(text, exc) from None
        finally:
            os.close(fd)
        location = self._base_prefix + os.sep.join(parts)  # the real path, no link on it
        return self._checked(text, location, parts[-1], info.st_size, head, _stamp(info))

    def _open_slowly(self, text: str, parts: list[str]) -> tuple[list[str], int, os.stat_result]:
        """The path as written did not open plainly: find it ignoring case and Unicode form,
        resolve links that stay inside, and open the real path. Returns the real parts."""
        path, found = self._find(text, parts)
        link = stat.S_ISLNK(found.st_mode)
        if not link and not stat.S_ISREG(found.st_mode):
            raise RowProblem(issues.NOT_A_FILE, f"'{text}' is a folder or a device, not a file.")
        real = os.path.realpath(path)
        if not self._inside(real):
            raise RowProblem(
                issues.OUTSIDE_BASE_DIR,
                f"'{text}' leads to {real}, outside the attachments "
                f"folder {self._base}; only files inside it are read.",
            )
        real_parts = real[len(self._base_prefix) :].split(os.sep) if real != self._base else []
        if not real_parts:
            raise RowProblem(
                issues.NOT_A_FILE, f"'{text}' leads to the attachments folder itself, not a file."
            )
        try:
            fd, info = self._open_plain(real_parts)
        except _Refused as refused:
            if refused.mode is None:  # a link appeared after realpath resolved the path
                raise RowProblem(
                    issues.OUTSIDE_BASE_DIR,
                    f"'{text}' changed into a link while it was being "
                    "checked; a link is only followed when it stays put. Run again.",
                ) from None
            raise RowProblem(
                issues.NOT_A_FILE, f"'{text}' leads to a folder, FIFO or device, not a file."
            ) from None
        except OSError as exc:
            if link:
                raise RowProblem(
                    issues.FILE_NOT_FOUND,
                    f"'{text}' is a link to {real}, which cannot be read: {exc.strerror}.",
                ) from None
            raise _unreadable(text, exc) from None
        return real_parts, fd, info

    def _open_plain(self, parts: list[str]) -> tuple[int, os.stat_result]:
        """Open base/parts... following no link: each folder is opened relative to the one before
        with O_NOFOLLOW, the file only if it is regular, non-blocking (a FIFO or link put there
        at any moment, even between check and read, is refused, never followed or waited on).
        Raises `_Refused`, or OSError (ENOTDIR or ELOOP: a link on the way)."""
        if any(part in _NOT_NAMES or "/" in part or os.sep in part for part in parts):
            raise _Refused(None)
        if self._base_fd is None:
            return self._open_plain_by_path(parts)
        folder = self._base_fd
        try:
            for part in parts[:-1]:
                inner = os.open(part, _DIR_FLAGS, dir_fd=folder)
                if folder != self._base_fd:
                    os.close(folder)
                folder = inner
            before = os.stat(parts[-1], dir_fd=folder, follow_symlinks=False)
            if not stat.S_ISREG(before.st_mode):  # stat first: a FIFO or device is never opened
                raise _Refused(None if stat.S_ISLNK(before.st_mode) else before.st_mode)
            fd = os.open(parts[-1], _FILE_FLAGS, dir_fd=folder)
        finally:
            if folder != self._base_fd:
                os.close(folder)
        return fd, _regular(fd)

    def _open_plain_by_path(self, parts: list[str]) -> tuple[int, os.stat_result]:
        """Without openat (Windows): the path must have no link (realpath is itself), and the file
        opened must be the one stat'ed, so a link swapped in between is caught by its identity."""
        path = os.path.join(self._base, *parts)
        if os.path.realpath(path) != path:
            raise _Refused(None)
        before = os.lstat(path)
        if not stat.S_ISREG(before.st_mode):
            raise _Refused(None if stat.S_ISLNK(before.st_mode) else before.st_mode)
        fd = os.open(path, _FILE_FLAGS)
        info = _regular(fd)
        if (info.st_dev, info.st_ino) != (before.st_dev, before.st_ino):
            os.close(fd)
            raise _Refused(None)
        return fd, info

    def _inside(self, real: str) -> bool:
        return real == self._base or real.startswith(self._base_prefix)

    def _find(self, text: str, parts: list[str]) -> tuple[str, os.stat_result]:
        exact = os.path.join(self._base, *parts)
        try:
            return exact, os.lstat(exact)
        except (OSError, ValueError):
            pass
        # Not there as written: match each part ignoring case and Unicode normal form, if that
        # finds exactly one file.
        current = self._base
        for part in parts:
            names = self._listing(current).get(_fold(part), [])
            if not names:
                raise RowProblem(issues.FILE_NOT_FOUND, f"'{text}' was not found in {self._base}.")
            if len(names) > 1:
                shown = ", ".join(sorted(names))
                raise RowProblem(
                    issues.AMBIGUOUS_FILE,
                    f"'{text}' matches several files that differ only in case: {shown}; write the"
                    " name exactly.",
                )
            current = os.path.join(current, names[0])
        try:
            return current, os.lstat(current)
        except OSError as exc:
            raise _unreadable(text, exc) from None

    def _listing(self, folder: str) -> dict[str, list[str]]:
        key = folder
        with self._lock:
            listing = self._listings.get(key)
            if listing is None:
                listing = {}
                try:
                    for name in os.listdir(folder):
                        listing.setdefault(_fold(name), []).append(name)
                except OSError:
                    pass
                self._listings[key] = listing
        return listing

    def read(self, ref: AttachmentRef) -> bytes:
        """Open the checked real path again, link by link refused, and read exactly the checked
        size: a file replaced, rewritten, grown or shrunk since fails its row instead."""
        shown, size, location = ref.shown, ref.size or 0, ref.location or ""
        if not location.startswith(self._base_prefix):
            raise RowProblem(
                issues.OUTSIDE_BASE_DIR,
                f"'{shown}' was not checked inside "
                f"the attachments folder {self._base}; it is not read.",
            )
        try:  # the real path checked, opened again from the folder, part by part
            fd, info = self._open_plain(location[len(self._base_prefix) :].split(os.sep))
        except _Refused as refused:
            if refused.mode is None:
                raise _linked(shown) from None
            raise RowProblem(
                issues.NOT_A_FILE,
                f"'{shown}' is no longer a regular file (now a folder, FIFO or "
                "device); nothing was read or sent. Put the file back and run again.",
            ) from None
        except OSError as exc:
            if exc.errno in _LINK_ERRNOS:
                raise _linked(shown) from None
            raise RowProblem(
                issues.FILE_NOT_FOUND,
                f"'{shown}' cannot be read any more ({exc.strerror}); it "
                "was not sent. Put the file back and run again.",
            ) from None
        try:
            if ref.stamp is not None and _stamp(info) != ref.stamp:
                raise _changed(shown, _what_changed(info, ref.stamp))
            with open(fd, "rb", closefd=False) as fh:
                data = fh.read(size + 1)  # one byte more than checked: to see it grew
        except OSError as exc:
            raise _unreadable(shown, exc, "; it was not sent") from None
        finally:
            os.close(fd)
        if len(data) != size:
            more = "more than " if len(data) > size else ""
            raise _changed(shown, f"{more}{len(data):,} bytes now, {size:,} when checked")
        return data


def _regular(fd: int) -> os.stat_result:
    """The opened file's own stat, if it is a regular file; otherwise closed and refused."""
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise _Refused(info.st_mode)
    return info


def _unreadable(shown: str, exc: OSError, then: str = "") -> RowProblem:
    return RowProblem(issues.FILE_NOT_FOUND, f"'{shown}' cannot be read: {exc.strerror}{then}.")


def _what_changed(now: os.stat_result, then: Stamp) -> str:
    if (now.st_dev, now.st_ino) != then[:2]:
        return "replaced by another file"
    if now.st_size != then[2]:
        return f"{now.st_size:,} bytes now, {then[2]:,} when checked"
    return "written to since"


def _linked(shown: str) -> RowProblem:
    return RowProblem(
        issues.OUTSIDE_BASE_DIR,
        f"'{shown}' now leads through a link, or a file where a folder was (its path changed "
        "since it was checked); links that appear during a run are never followed, so nothing "
        "was read or sent. Put the file back and run again.",
    )


class ZipSource(AttachmentSource):
    """Members of one ZIP archive, read in place (never extracted), with zip-bomb limits. The
    archive stays open for the whole run: replacing its file on disk changes nothing read."""

    def __init__(
        self,
        archive: str | Path,
        max_bytes: int = DEFAULT_MAX_BYTES,
        allow_private_urls: bool = False,
    ) -> None:
        super().__init__(max_bytes, allow_private_urls)
        self.archive = Path(archive)
        self.description = str(self.archive)
        try:
            self._zip = zipfile.ZipFile(self.archive)
        except (OSError, zipfile.BadZipFile) as exc:
            raise InputFileError(
                f"{self.archive}: cannot be opened as a ZIP archive of attachments: {exc}"
            ) from exc
        members = [info for info in self._zip.infolist() if not info.is_dir()]
        total = sum(info.file_size for info in members)
        if total > ZIP_MAX_TOTAL_BYTES:
            raise InputFileError(
                f"{self.archive}: announces {total:,} bytes when unpacked (more than "
                f"{ZIP_MAX_TOTAL_BYTES:,}); this looks like a zip bomb. Unpack what you need and"
                " pass the folder instead."
            )
        self._members: dict[str, zipfile.ZipInfo] = {}
        self._folded: dict[str, list[str]] = {}
        self._unsafe: set[str] = set()
        for info in members:
            raw = info.filename.replace("\\", "/")
            name = unicodedata.normalize("NFC", raw)
            if raw.startswith("/") or ".." in raw.split("/"):
                self._unsafe.add(_fold(name))  # never served: its own name escapes the archive
                continue
            self._members[name] = info
            self._folded.setdefault(_fold(name), []).append(name)
        self._lock = threading.Lock()

    def _resolve_path(self, text: str) -> AttachmentRef:
        if text.startswith("/") or (len(text) > 1 and text[1] == ":"):
            raise RowProblem(
                issues.OUTSIDE_BASE_DIR,
                f"'{text}' is an absolute path; with a ZIP of attachments, write paths inside "
                f"{self.archive.name}.",
            )
        parts = _relative_parts(text)
        if not parts:
            raise RowProblem(
                issues.NOT_A_FILE, f"'{text}' names the archive itself, not a file in it."
            )
        wanted = "/".join(parts)
        if _fold(wanted) in self._unsafe:
            raise RowProblem(
                issues.OUTSIDE_BASE_DIR,
                f"'{text}' is stored in {self.archive.name} under a name that leaves the archive;"
                " it is never read.",
            )
        name = wanted if wanted in self._members else None
        if name is None:
            matches = self._folded.get(_fold(wanted), [])
            if len(matches) > 1:
                raise RowProblem(
                    issues.AMBIGUOUS_FILE,
                    f"'{text}' matches several files in {self.archive.name} that differ only in"
                    f" case: {', '.join(sorted(matches))}; write the name exactly.",
                )
            if not matches:
                if any(m.startswith(wanted + "/") for m in self._members):
                    raise RowProblem(
                        issues.NOT_A_FILE,
                        f"'{text}' is a folder in {self.archive.name}, not a file.",
                    )
                raise RowProblem(
                    issues.FILE_NOT_FOUND, f"'{text}' was not found in {self.archive.name}."
                )
            name = matches[0]
        info = self._members[name]
        if info.file_size > self.max_bytes:
            raise RowProblem(
                issues.FILE_TOO_LARGE,
                f"'{text}' has {info.file_size:,} bytes unpacked; the limit is {self.max_bytes:,}"
                " (--max-attachment-mb).",
            )
        if (
            info.compress_size
            and info.file_size / info.compress_size > ZIP_MAX_RATIO
            and info.file_size > 1_000_000
        ):
            raise RowProblem(
                issues.UNSUPPORTED_FILE,
                f"'{text}' unpacks to {info.file_size / info.compress_size:,.0f} times its packed"
                " size; refused as a possible zip bomb.",
            )
        head = self._unpack(info, text, SNIFF_BYTES) if info.file_size else b""
        return self._checked(text, name, posixpath.basename(name), info.file_size, head)

    def _unpack(self, info: zipfile.ZipInfo, shown: str, limit: int) -> bytes:
        """Up to `limit` bytes of a member; an encrypted, damaged or oddly packed member is a
        problem of its row (zipfile raises RuntimeError, NotImplementedError, BadZipFile...)."""
        archive = self.archive.name
        advice = "unpack it with a tool that can, and pass the folder with --attachments-dir."
        if info.flag_bits & 0x1:
            raise RowProblem(
                issues.UNSUPPORTED_FILE,
                f"'{shown}' is encrypted in {archive} "
                f"(it needs a password) and cannot be read; {advice}",
            )
        try:
            with self._lock, self._zip.open(info) as member:
                return member.read(limit)
        except NotImplementedError as exc:  # before RuntimeError: it is one
            raise RowProblem(
                issues.UNSUPPORTED_FILE,
                f"'{shown}' is packed in {archive} with a compression "
                f"method not supported here (method {info.compress_type}: {exc}); {advice}",
            ) from None
        except RuntimeError as exc:  # encrypted, or a decompressor missing from this Python
            raise RowProblem(
                issues.UNSUPPORTED_FILE,
                f"'{shown}' cannot be unpacked from {archive} ({exc}); {advice}",
            ) from None
        except _ZIP_DAMAGE as exc:
            raise RowProblem(
                issues.FILE_NOT_FOUND,
                f"'{shown}' is damaged in {archive} ({exc or type(exc).__name__}); {advice}",
            ) from None

    def read(self, ref: AttachmentRef) -> bytes:
        """Exactly the checked size of the member, never more, never fewer bytes."""
        info = self._members.get(ref.location or "")
        if info is None:
            raise RowProblem(issues.FILE_NOT_FOUND, f"'{ref.shown}' is not in {self.archive.name}.")
        size = ref.size or 0
        data = self._unpack(info, ref.shown, size + 1)  # one byte more than checked: to see it grew
        if len(data) != size:
            more = "more than " if len(data) > size else ""
            raise RowProblem(
                issues.FILE_NOT_FOUND,
                f"'{ref.shown}' unpacks to {more}{len(data):,} bytes, not "
                f"the {size:,} that {self.archive.name} announced; the archive looks damaged: "
                "unpack it and pass the folder with --attachments-dir.",
            )
        return data


def open_attachment_source(
    where: str | Path, max_bytes: int = DEFAULT_MAX_BYTES, allow_private_urls: bool = False
) -> AttachmentSource:
    """A folder or a .zip given by `--attachments-dir`."""
    path = Path(where)
    if not path.exists():
        raise InputFileError(
            f"{path}: attachments folder or ZIP not found. Pass --attachments-dir with the folder"
            " (or .zip) that holds the files."
        )
    if path.is_dir():
        return FolderSource(path, max_bytes, allow_private_urls)
    if zipfile.is_zipfile(path):
        return ZipSource(path, max_bytes, allow_private_urls)
    raise InputFileError(
        f"{path}: is neither a folder nor a ZIP archive; --attachments-dir takes one of those."
    )


# --- URLs ------------------------------------------------------------------------------------


def _check_url(text: str, allow_private: bool) -> None:
    """Refuse a URL Kombo should not be asked to fetch: one with credentials in it, one whose
    host is not valid, and (unless allowed) one on a loopback, private, link-local or local-only
    host. Decided by the literal host, so offline and fast (no DNS). Read both as browsers do
    (`\\` is `/`) and as other parsers do: a URL the two read differently is judged on both."""
    for reading in (text, text.replace("\\", "/")) if "\\" in text else (text,):
        try:
            parsed = urlsplit(reading)
            host = parsed.hostname
        except ValueError:
            raise RowProblem(
                issues.INVALID_URL,
                f"'{text}' is not a valid URL (its host cannot be read); correct the cell.",
            ) from None
        if "@" in parsed.netloc:
            raise RowProblem(
                issues.INVALID_URL,
                f"'{text}' carries a user name or password (before '@'), "
                "which Kombo and this run's records would keep; use a link that needs none, "
                "e.g. a pre-signed link.",
            )
        if not host:
            raise RowProblem(
                issues.INVALID_URL, f"'{text}' has no host; write it as https://host/path."
            )
        host = unicodedata.normalize(
            "NFKC", unquote(host)
        ).lower()  # fullwidth digits, like browsers
        host = host.replace("\u3002", ".").rstrip(".")
        try:
            address = _ip_literal(host)
        except ValueError:
            raise RowProblem(
                issues.INVALID_URL,
                f"'{text}' has a host, {host}, that looks "
                "like a number but is no valid IP address; correct the cell.",
            ) from None
        why = "" if allow_private else _not_public(host, address)
        if why:
            raise RowProblem(
                issues.INVALID_URL,
                f"'{text}' points at {host}, {why}, not a public internet "
                "address: Kombo would be asked to download from there. Attach the file from "
                f"--attachments-dir instead, or pass {_PRIVATE_URLS_OPTION} if the ATS really "
                "should fetch it.",
            )


def _ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address a host means, None for a name. Like browsers (WHATWG URL), a host whose last
    label is a number is IPv4 in any of its forms: 2130706433, 0x7f.1, 0177.0.0.1, 127.1."""
    if ":" in host:
        return ipaddress.ip_address(host)
    labels = host.split(".")
    if not (_DECIMAL_LABEL.match(labels[-1]) or _HEX_LABEL.match(labels[-1])):
        return None
    if len(labels) > 4:
        raise ValueError(host)
    numbers = [_ipv4_number(label) for label in labels]
    if any(number > 255 for number in numbers[:-1]) or numbers[-1] >= 256 ** (5 - len(numbers)):
        raise ValueError(host)
    value = numbers[-1]
    for index, number in enumerate(numbers[:-1]):
        value += number << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def _ipv4_number(label: str) -> int:
    if _HEX_LABEL.match(label):
        return int(label[2:] or "0", 16)
    if _OCTAL_LABEL.match(label):
        return int(label, 8)
    if _DECIMAL_LABEL.match(label):
        return int(label)
    raise ValueError(label)


def _not_public(host: str, address: ipaddress.IPv4Address | ipaddress.IPv6Address | None) -> str:
    """Why the host is not on the public internet, or "" when it is."""
    if address is None:
        labels = host.split(".")
        if len(labels) == 1 or labels[-1] in _LOCAL_TLDS or labels[-2:] == ["home", "arpa"]:
            return "a name only a local network knows"
        return ""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        return "a loopback address (this very machine)"
    if address.is_link_local:
        return "a link-local address (where cloud metadata services answer)"
    if address.is_unspecified:
        return "the unspecified address (this very machine)"
    if address.is_private:
        return "a private-network address"
    if not address.is_global or address.is_multicast or address.is_reserved:
        return "a reserved address"
    return ""


def sniff_content_type(head: bytes, name: str) -> str | None:
    """The MIME type from the file's first bytes, then its extension; None when it is neither a
    document, an image nor text (an executable, or unknown bytes with an unknown extension)."""
    suffix = posixpath.splitext(name)[1].lower()
    for magic, content_type in _MAGIC:
        if head.startswith(magic):
            return content_type
    if head.startswith(b"PK\x03\x04"):
        return _OOXML_ODF.get(suffix) or _zip_flavour(head) or "application/zip"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return _OLE2.get(suffix, "application/msword")
    if head.startswith(_EXECUTABLE):
        return None
    if head and _looks_like_text(head):
        return _TEXT.get(suffix, "text/plain")
    # Bytes we do not recognise: trust only names of documents and images ATSs take.
    return (
        _OOXML_ODF.get(suffix)
        or _OLE2.get(suffix)
        or _KNOWN_BY_NAME.get(suffix)
        or (_TEXT.get(suffix) if head else None)
    )


def _zip_flavour(head: bytes) -> str | None:
    """Office and OpenDocument files are ZIPs whose first member names what they are."""
    if b"mimetypeapplication/vnd.oasis.opendocument.text" in head:
        return _OOXML_ODF[".odt"]
    if b"word/" in head:
        return _OOXML_ODF[".docx"]
    return None


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return head.startswith((b"\xff\xfe", b"\xfe\xff"))  # UTF-16 text has a BOM
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not just a character cut at the end of the sample
            try:
                head.decode("cp1252")
            except UnicodeDecodeError:
                return False
    return True


def _type_by_extension(name: str) -> str | None:
    suffix = posixpath.splitext(name)[1].lower()
    return (
        _OOXML_ODF.get(suffix)
        or _OLE2.get(suffix)
        or _TEXT.get(suffix)
        or _KNOWN_BY_NAME.get(suffix)
        or mimetypes.guess_type(name)[0]
    )
