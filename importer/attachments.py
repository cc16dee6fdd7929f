"""Turn what a cell says about a file into a checked reference inside one allowed place: a folder,
or a ZIP archive read in place (Greenhouse's bulk import takes resumes as a .zip; so do we).

The dry run resolves each path, checks it stays inside, stats it and reads its first bytes to
know its type. The whole file is read and base64-encoded by `AttachmentRef.encode()` only when
its request is about to be sent, one request at a time, so memory stays flat.
"""

from __future__ import annotations

import base64
import mimetypes
import os
import posixpath
import stat
import threading
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from . import issues
from .errors import InputFileError

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
_OLE2 = {".doc": "application/msword", ".xls": "application/vnd.ms-excel", ".ppt": "application/vnd.ms-powerpoint", ".msg": "application/vnd.ms-outlook"}
_TEXT = {".txt": "text/plain", ".md": "text/markdown", ".csv": "text/csv", ".html": "text/html", ".htm": "text/html", ".json": "application/json", ".xml": "application/xml", ".rtf": "application/rtf", ".vcf": "text/vcard"}
_KNOWN_BY_NAME = {".pdf": "application/pdf", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif", ".tif": "image/tiff", ".tiff": "image/tiff", ".heic": "image/heic", ".webp": "image/webp"}
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


class AttachmentProblem(ValueError):
    """Raised when a cell's file cannot be attached; carries a stable report code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class AttachmentRef:
    """A file checked in the dry run (its bytes still unread), or a URL Kombo downloads itself."""

    name: str
    content_type: str | None
    size: int | None = None
    url: str | None = None
    location: str | None = None  # path inside the folder or archive
    source: AttachmentSource | None = field(default=None, repr=False, compare=False)
    cell: str | None = None  # what the cell said, for reports
    column: str | None = None

    def read(self) -> bytes:
        """The file's bytes, read now and at most the size checked in the dry run."""
        if self.source is None or self.location is None:
            raise ValueError("a URL attachment has no local bytes")
        return self.source.read(self.location, self.size or 0)

    def encode(self) -> str:
        """The file's bytes as base64: call this only when the request is being sent."""
        return base64.b64encode(self.read()).decode("ascii")


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
                raise AttachmentProblem(issues.OUTSIDE_BASE_DIR, f"'{text}' points outside the attachments folder; only files inside it are read.")
            parts.pop()
            continue
        parts.append(unicodedata.normalize("NFC", part))
    return parts


class AttachmentSource:
    """Where attachment files live; subclasses say how to find, check and read them."""

    description: str

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes

    def resolve(self, cell: str) -> AttachmentRef:
        """A cell's text -> a checked reference, or an `AttachmentProblem`."""
        text = cell.strip()
        lowered = text.lower()
        if lowered.startswith(("http://", "https://")):
            name = posixpath.basename(unquote(urlparse(text).path)) or "attachment"
            return AttachmentRef(name=name, content_type=_type_by_extension(name), url=text)
        if lowered.startswith("file://"):
            text = unquote(urlparse(text).path)
            if len(text) > 2 and text[0] == "/" and text[2] == ":":  # file:///C:/cvs/a.pdf
                text = text[1:]
        return self._resolve_path(text)

    def _resolve_path(self, text: str) -> AttachmentRef:
        raise NotImplementedError

    def read(self, location: str, expected_size: int) -> bytes:
        raise NotImplementedError

    def _checked(self, text: str, location: str, name: str, size: int, head: bytes) -> AttachmentRef:
        if size == 0:
            raise AttachmentProblem(issues.EMPTY_FILE, f"'{text}' is empty (0 bytes).")
        if size > self.max_bytes:
            raise AttachmentProblem(issues.FILE_TOO_LARGE, f"'{text}' has {size:,} bytes; the limit is {self.max_bytes:,} (--max-attachment-mb).")
        content_type = sniff_content_type(head, name)
        if content_type is None:
            raise AttachmentProblem(issues.UNSUPPORTED_FILE, f"'{text}' is neither a document, an image nor text (by its content and its name); ATSs refuse such files.")
        return AttachmentRef(name=name, content_type=content_type, size=size, location=location, source=self)


class FolderSource(AttachmentSource):
    """Files under one folder; a path may not leave it, not even through a symlink."""

    def __init__(self, base_dir: str | Path, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        super().__init__(max_bytes)
        self.base_dir = Path(os.path.realpath(base_dir))
        self.description = str(self.base_dir)
        self._listings: dict[str, dict[str, list[str]]] = {}
        self._real_folders: dict[str, str] = {}
        self._base = str(self.base_dir)
        self._base_prefix = os.path.join(self._base, "")
        self._lock = threading.Lock()

    def _resolve_path(self, text: str) -> AttachmentRef:
        # Plain strings and os.path rather than pathlib: this runs once per attachment cell.
        base = self._base
        if text.startswith("/") or (len(text) > 2 and text[1] == ":" and text[2] in "\\/"):
            absolute = os.path.realpath(text.replace("\\", "/"))
            if not self._inside(absolute):
                raise AttachmentProblem(issues.OUTSIDE_BASE_DIR, f"'{text}' is outside the attachments folder {base}; only files inside it are read. Move the file there or pass --attachments-dir.")
            relative = os.path.relpath(absolute, base)
        else:
            relative = text
        parts = _relative_parts(relative)
        if not parts:
            raise AttachmentProblem(issues.NOT_A_FILE, f"'{text}' names the attachments folder itself, not a file.")
        path, info = self._find(text, parts)
        folder, name = os.path.split(path)
        if stat.S_ISLNK(info.st_mode):
            real = os.path.realpath(path)
            try:
                info = os.stat(real)
            except OSError as exc:
                raise AttachmentProblem(issues.FILE_NOT_FOUND, f"'{text}' is a link to {real}, which cannot be read: {exc.strerror}.") from None
        else:
            real = os.path.join(self._real_folder(folder), name)
        if not self._inside(real):
            raise AttachmentProblem(issues.OUTSIDE_BASE_DIR, f"'{text}' leads to {real}, outside the attachments folder {base}; only files inside it are read.")
        if not stat.S_ISREG(info.st_mode):
            raise AttachmentProblem(issues.NOT_A_FILE, f"'{text}' is a folder or a device, not a file.")
        head = b""
        if 0 < info.st_size <= self.max_bytes:
            try:
                with open(real, "rb") as fh:
                    head = fh.read(SNIFF_BYTES)
            except OSError as exc:
                raise AttachmentProblem(issues.FILE_NOT_FOUND, f"'{text}' cannot be read: {exc.strerror}.") from None
        return self._checked(text, real, os.path.basename(real), info.st_size, head)

    def _inside(self, real: str) -> bool:
        return real == self._base or real.startswith(self._base_prefix)

    def _real_folder(self, folder: str) -> str:
        """The folder with its symlinks resolved, once per folder (not once per file)."""
        real = self._real_folders.get(folder)
        if real is None:
            real = self._real_folders[folder] = os.path.realpath(folder)
        return real

    def _find(self, text: str, parts: list[str]) -> tuple[str, os.stat_result]:
        exact = os.path.join(self._base, *parts)
        try:
            return exact, os.lstat(exact)
        except OSError:
            pass
        # Not there as written: match each part ignoring case and Unicode normal form, if that
        # finds exactly one file.
        current = self._base
        for part in parts:
            names = self._listing(current).get(_fold(part), [])
            if not names:
                raise AttachmentProblem(issues.FILE_NOT_FOUND, f"'{text}' was not found in {self._base}.")
            if len(names) > 1:
                shown = ", ".join(sorted(names))
                raise AttachmentProblem(issues.AMBIGUOUS_FILE, f"'{text}' matches several files that differ only in case: {shown}; write the name exactly.")
            current = os.path.join(current, names[0])
        return current, os.lstat(current)

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

    def read(self, location: str, expected_size: int) -> bytes:
        with open(location, "rb") as fh:
            data = fh.read(max(expected_size, 1) + 1)
        if len(data) > expected_size:
            raise AttachmentProblem(issues.FILE_TOO_LARGE, f"'{location}' grew since it was checked ({expected_size:,} bytes then); check it again.")
        return data


class ZipSource(AttachmentSource):
    """Members of one ZIP archive, read in place (never extracted), with zip-bomb limits."""

    def __init__(self, archive: str | Path, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        super().__init__(max_bytes)
        self.archive = Path(archive)
        self.description = str(self.archive)
        try:
            self._zip = zipfile.ZipFile(self.archive)
        except (OSError, zipfile.BadZipFile) as exc:
            raise InputFileError(f"{self.archive}: cannot be opened as a ZIP archive of attachments: {exc}") from exc
        members = [info for info in self._zip.infolist() if not info.is_dir()]
        total = sum(info.file_size for info in members)
        if total > ZIP_MAX_TOTAL_BYTES:
            raise InputFileError(f"{self.archive}: announces {total:,} bytes when unpacked (more than {ZIP_MAX_TOTAL_BYTES:,}); this looks like a zip bomb. Unpack what you need and pass the folder instead.")
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
            raise AttachmentProblem(issues.OUTSIDE_BASE_DIR, f"'{text}' is an absolute path; with a ZIP of attachments, write paths inside {self.archive.name}.")
        parts = _relative_parts(text)
        if not parts:
            raise AttachmentProblem(issues.NOT_A_FILE, f"'{text}' names the archive itself, not a file in it.")
        wanted = "/".join(parts)
        if _fold(wanted) in self._unsafe:
            raise AttachmentProblem(issues.OUTSIDE_BASE_DIR, f"'{text}' is stored in {self.archive.name} under a name that leaves the archive; it is never read.")
        name = wanted if wanted in self._members else None
        if name is None:
            matches = self._folded.get(_fold(wanted), [])
            if len(matches) > 1:
                raise AttachmentProblem(issues.AMBIGUOUS_FILE, f"'{text}' matches several files in {self.archive.name} that differ only in case: {', '.join(sorted(matches))}; write the name exactly.")
            if not matches:
                if any(m.startswith(wanted + "/") for m in self._members):
                    raise AttachmentProblem(issues.NOT_A_FILE, f"'{text}' is a folder in {self.archive.name}, not a file.")
                raise AttachmentProblem(issues.FILE_NOT_FOUND, f"'{text}' was not found in {self.archive.name}.")
            name = matches[0]
        info = self._members[name]
        if info.file_size > self.max_bytes:
            raise AttachmentProblem(issues.FILE_TOO_LARGE, f"'{text}' has {info.file_size:,} bytes unpacked; the limit is {self.max_bytes:,} (--max-attachment-mb).")
        if info.compress_size and info.file_size / info.compress_size > ZIP_MAX_RATIO and info.file_size > 1_000_000:
            raise AttachmentProblem(issues.UNSUPPORTED_FILE, f"'{text}' unpacks to {info.file_size / info.compress_size:,.0f} times its packed size; refused as a possible zip bomb.")
        head = b""
        if info.file_size:
            with self._lock, self._zip.open(info) as member:
                head = member.read(SNIFF_BYTES)
        return self._checked(text, name, posixpath.basename(name), info.file_size, head)

    def read(self, location: str, expected_size: int) -> bytes:
        info = self._members[location]
        with self._lock, self._zip.open(info) as member:
            data = member.read(expected_size + 1)  # never more than was announced and checked
        if len(data) > expected_size:
            raise AttachmentProblem(issues.FILE_TOO_LARGE, f"'{location}' unpacks to more than the {expected_size:,} bytes its archive announced; refused.")
        return data


def open_attachment_source(where: str | Path, max_bytes: int = DEFAULT_MAX_BYTES) -> AttachmentSource:
    """A folder or a .zip given by `--attachments-dir`."""
    path = Path(where)
    if not path.exists():
        raise InputFileError(f"{path}: attachments folder or ZIP not found. Pass --attachments-dir with the folder (or .zip) that holds the files.")
    if path.is_dir():
        return FolderSource(path, max_bytes)
    if zipfile.is_zipfile(path):
        return ZipSource(path, max_bytes)
    raise InputFileError(f"{path}: is neither a folder nor a ZIP archive; --attachments-dir takes one of those.")


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
    return _OOXML_ODF.get(suffix) or _OLE2.get(suffix) or _KNOWN_BY_NAME.get(suffix) or (_TEXT.get(suffix) if head else None)


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
    return _OOXML_ODF.get(suffix) or _OLE2.get(suffix) or _TEXT.get(suffix) or _KNOWN_BY_NAME.get(suffix) or mimetypes.guess_type(name)[0]
