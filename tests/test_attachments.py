"""Attachment cells resolved safely, with real files, symlinks, FIFOs and ZIPs made here."""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import hashlib
import json
import os
import stat
import struct
import threading
import unicodedata
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import read_csv

from importer import attachments
from importer.attachments import (
    FolderSource,
    ZipSource,
    open_attachment_source,
    sniff_content_type,
)
from importer.build import RequestBuilder
from importer.cli import main
from importer.client import encode_request
from importer.errors import InputFileError
from importer.issues import RowProblem
from importer.mapping import load_mapping
from importer.readers import read_table

PDF = b"%PDF-1.4\n% a CV\n"


def problem(source, cell):
    with pytest.raises(RowProblem) as error:
        source.resolve(cell)
    return error.value.code


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    base = tmp_path / "files"
    (base / "cvs").mkdir(parents=True)
    (base / "cvs" / "Anna Wolf.pdf").write_bytes(PDF)
    return base


def test_paths_as_recruiters_write_them(folder):
    source = FolderSource(folder)
    for cell in [
        "cvs/Anna Wolf.pdf",
        "cvs\\Anna Wolf.pdf",
        "./cvs//Anna Wolf.pdf",
        " cvs/Anna Wolf.pdf ",
        f"file://{folder}/cvs/Anna%20Wolf.pdf",
        str(folder / "cvs" / "Anna Wolf.pdf"),
        "CVS/anna wolf.PDF",
        "cvs/x/../Anna Wolf.pdf",
    ]:
        ref = source.resolve(cell)
        assert (ref.name, ref.content_type, ref.size) == (
            "Anna Wolf.pdf",
            "application/pdf",
            len(PDF),
        ), cell
        assert ref.read() == PDF


def test_unicode_normal_forms_match_both_ways(folder):
    nfd = unicodedata.normalize("NFD", "Jürgen Müller.pdf")
    (folder / nfd).write_bytes(PDF)
    source = FolderSource(folder)
    assert source.resolve(unicodedata.normalize("NFC", "Jürgen Müller.pdf")).read() == PDF
    assert source.resolve(nfd).read() == PDF


def test_a_name_that_matches_two_files_by_case_is_ambiguous(folder):
    (folder / "cvs" / "anna wolf.pdf").write_bytes(PDF)
    if len(os.listdir(folder / "cvs")) < 2:
        pytest.skip("case-insensitive file system")
    source = FolderSource(folder)
    assert source.resolve("cvs/Anna Wolf.pdf").name == "Anna Wolf.pdf"  # exact wins
    assert problem(source, "CVS/ANNA WOLF.PDF") == "ambiguous_file"


def test_nothing_outside_the_folder_is_read(folder, tmp_path):
    secret = tmp_path / "secret.pdf"
    secret.write_bytes(PDF)
    (folder / "cvs" / "link.pdf").symlink_to(secret)
    (folder / "cvs" / "inside.pdf").symlink_to(folder / "cvs" / "Anna Wolf.pdf")
    source = FolderSource(folder)
    assert problem(source, "../secret.pdf") == "outside_base_dir"
    assert problem(source, "cvs/../../secret.pdf") == "outside_base_dir"
    assert problem(source, str(secret)) == "outside_base_dir"
    assert problem(source, f"file://{secret}") == "outside_base_dir"
    assert problem(source, "cvs/link.pdf") == "outside_base_dir"
    assert source.resolve("cvs/inside.pdf").read() == PDF


def test_folders_devices_empty_and_large_files(folder):
    os.mkfifo(folder / "cvs" / "pipe.pdf")
    (folder / "cvs" / "empty.pdf").write_bytes(b"")
    (folder / "cvs" / "big.pdf").write_bytes(PDF + b"x" * 5000)
    source = FolderSource(folder, max_bytes=1000)
    assert problem(source, "cvs") == "not_a_file"
    assert problem(source, "cvs/pipe.pdf") == "not_a_file"  # never opened: a FIFO would block
    assert problem(source, "cvs/empty.pdf") == "empty_file"
    assert problem(source, "cvs/big.pdf") == "file_too_large"
    assert problem(source, "cvs/missing.pdf") == "file_not_found"
    assert problem(source, ".") == "not_a_file"


def test_http_urls_are_sent_as_data_url_not_read(folder):
    ref = FolderSource(folder).resolve("https://files.example.com/cv%20anna.pdf?sig=1")
    assert (ref.name, ref.url, ref.content_type, ref.source) == (
        "cv anna.pdf",
        "https://files.example.com/cv%20anna.pdf?sig=1",
        "application/pdf",
        None,
    )


def _docx_bytes(tmp_path: Path) -> bytes:
    path = tmp_path / "letter.docx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("word/document.xml", "<w:document/>")
        z.writestr("[Content_Types].xml", "<Types/>")
    return path.read_bytes()


@pytest.mark.parametrize(
    ("content", "name", "expected"),
    [
        (PDF, "cv.pdf", "application/pdf"),
        (PDF, "cv.docx", "application/pdf"),  # the bytes win over the name
        (PDF, "cv", "application/pdf"),
        (b"{\\rtf1\\ansi CV}", "cv.doc", "application/rtf"),
        (b"\x89PNG\r\n\x1a\n....", "photo.png", "image/png"),
        (b"\xff\xd8\xff\xe0....", "photo", "image/jpeg"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1....", "cv.doc", "application/msword"),
        ("Lebenslauf von Jürgen Müller\n".encode("cp1252"), "cv.txt", "text/plain"),
        (b"Lebenslauf\n", "cv.md", "text/markdown"),
        (b"MZ\x90\x00 a windows program", "cv.pdf", None),
        (b"\x00\x01\x02\x03\x04 binary", "cv.xyz", None),
    ],
)
def test_content_type_from_bytes_first_then_name(content, name, expected):
    assert sniff_content_type(content, name) == expected


def test_office_documents_are_recognised(folder, tmp_path):
    docx = _docx_bytes(tmp_path)
    assert (
        sniff_content_type(docx, "letter.docx")
        == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    assert (
        sniff_content_type(docx, "letter")
        == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    (folder / "prog.pdf").write_bytes(b"MZ\x90\x00" + b"\x00" * 100)
    assert problem(FolderSource(folder), "prog.pdf") == "unsupported_file"


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    path = tmp_path / "resumes.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("resumes/Anna Wolf.pdf", PDF)
        z.writestr(unicodedata.normalize("NFD", "resumes/Jürgen.pdf"), PDF)
        z.writestr("resumes/empty.pdf", b"")
        z.writestr("../evil.pdf", PDF)
        z.writestr("resumes/bomb.txt", b"0" * 5_000_000)
    return path


def test_zip_members_are_read_in_place(archive, tmp_path):
    source = open_attachment_source(archive)
    assert isinstance(source, ZipSource)
    ref = source.resolve("resumes\\anna wolf.PDF")
    assert (ref.name, ref.content_type, ref.size) == ("Anna Wolf.pdf", "application/pdf", len(PDF))
    assert ref.read() == PDF
    assert source.resolve("resumes/Jürgen.pdf").read() == PDF
    assert not (tmp_path / "resumes").exists()  # nothing extracted


def test_zip_safety(archive):
    source = ZipSource(archive)
    assert problem(source, "../evil.pdf") == "outside_base_dir"
    assert problem(source, "resumes/../../evil.pdf") == "outside_base_dir"
    assert problem(source, "/etc/passwd") == "outside_base_dir"
    assert problem(source, "resumes/bomb.txt") == "unsupported_file"  # 5 MB of zeros packed tiny
    assert problem(source, "resumes/empty.pdf") == "empty_file"
    assert problem(source, "resumes") == "not_a_file"
    assert problem(source, "resumes/missing.pdf") == "file_not_found"
    assert problem(ZipSource(archive, max_bytes=10), "resumes/Anna Wolf.pdf") == "file_too_large"


def test_a_missing_or_odd_attachments_place_is_a_clear_error(tmp_path):
    with pytest.raises(InputFileError, match="attachments folder or ZIP not found"):
        open_attachment_source(tmp_path / "nope")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(InputFileError, match="neither a folder nor a ZIP"):
        open_attachment_source(tmp_path / "notes.txt")


def test_a_5_mb_attachment_round_trips_through_base64(tmp_path, write_mapping, write_csv):
    payload = PDF + os.urandom(5 * 1024 * 1024)
    (tmp_path / "big cv.pdf").write_bytes(payload)
    mapping = load_mapping(
        write_mapping(
            "candidate: {first_name: F, last_name: L, email_address: E}\n"
            "application: {job_id: {value: J}}\nattachments: [{column: CV, type: CV}]\n"
        )
    )
    table = read_table(
        write_csv([["F", "L", "E", "CV"], ["Anna", "Wolf", "a@example.com", "big cv.pdf"]])
    )
    mapping = mapping.bind(table.headers, "input")
    (row,) = table.rows
    built = RequestBuilder(mapping, FolderSource(tmp_path)).build(row)
    (attachment,) = built.request.body.attachments
    assert (attachment.name, attachment.type, attachment.content_type, attachment.data) == (
        "big cv.pdf",
        "CV",
        "application/pdf",
        None,
    )
    (ref,) = built.request.attachments
    content, digests = encode_request(built.request)  # what is sent: the file read now, once
    (sent,) = json.loads(content)["attachments"]
    assert base64.b64decode(sent["data"], validate=True) == payload
    assert digests == [hashlib.sha256(payload).hexdigest()]


def test_cli_takes_a_zip_of_resumes(archive, write_mapping, write_csv):
    mapping = write_mapping(
        "candidate: {first_name: F, last_name: L, email_address: E}\n"
        "application: {job_id: {value: J}}\nattachments: [{column: CV, type: CV}]\n"
    )
    source = write_csv(
        [
            ["F", "L", "E", "CV"],
            ["Anna", "Wolf", "a@example.com", "resumes/Anna Wolf.pdf"],
            ["Ben", "Koch", "b@example.com", "resumes/ben.pdf"],
        ]
    )
    report = source.parent / "errors.csv"
    result = CliRunner().invoke(
        main,
        [
            "validate",
            str(source),
            "-m",
            str(mapping),
            "--attachments-dir",
            str(archive),
            "--report",
            str(report),
        ],
    )
    assert result.exit_code == 1, result.output
    assert [(r["row"], r["code"], r["message"]) for r in read_csv(report)] == [
        ("3", "file_not_found", "'resumes/ben.pdf' was not found in resumes.zip.")
    ]


# --- nothing outside the folder is read, even when the folder changes during the run ----------

SECRET = b"%PDF-1.4\nSECRET\n"  # as long as PDF: a swap that slipped through would be sent whole


def checked(source, cell: str):
    """What the dry run keeps for a cell: build.py adds the cell's text to the reference."""
    return dataclasses.replace(source.resolve(cell), cell=cell)


def bounded(call: Callable[[], Any], fifo: Path, seconds: float = 5.0) -> Any:
    """`call()` in a thread; if it is still blocked on the FIFO after `seconds`, a writer opens
    the FIFO to free it and the test fails: a regression cannot hang the suite."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as exc:  # handed to the test's thread below
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        with contextlib.suppress(OSError):
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))  # releases a blocked reader
        thread.join(seconds)
        pytest.fail(f"blocked on the FIFO {fifo} for {seconds:.0f}s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def refused(ref) -> RowProblem:
    with pytest.raises(RowProblem) as error:
        data = ref.read()
        assert data != SECRET, "sent a file from outside the attachments folder"
    return error.value


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder next to the attachments folder, holding a file a run must never send."""
    path = tmp_path / "outside"
    path.mkdir()
    (path / "Anna Wolf.pdf").write_bytes(SECRET)
    return path


def test_a_folder_swapped_for_a_link_after_the_check_is_never_read(folder, outside):
    source = FolderSource(folder)
    ref = checked(source, "cvs/Anna Wolf.pdf")
    (folder / "cvs").rename(folder / "cvs.old")
    (folder / "cvs").symlink_to(outside, target_is_directory=True)
    error = refused(ref)
    assert error.code == "outside_base_dir"
    assert "'cvs/Anna Wolf.pdf' now leads through a link" in error.message
    assert problem(source, "cvs/Anna Wolf.pdf") == "outside_base_dir"  # checked anew: no cache


@pytest.mark.parametrize("target", ["outside", "inside"])
def test_a_file_swapped_for_a_link_after_the_check_is_never_followed(folder, outside, target):
    ref = checked(FolderSource(folder), "cvs/anna wolf.PDF")  # as a recruiter wrote it
    other = outside / "Anna Wolf.pdf" if target == "outside" else folder / "other.pdf"
    other.write_bytes(SECRET)
    (folder / "cvs" / "Anna Wolf.pdf").unlink()
    (folder / "cvs" / "Anna Wolf.pdf").symlink_to(other)  # planted after the check: never followed
    error = refused(ref)
    assert error.code == "outside_base_dir"
    assert "'cvs/anna wolf.PDF'" in error.message and "run again" in error.message


def test_a_file_replaced_by_a_fifo_after_the_check_fails_without_blocking(folder):
    ref = checked(FolderSource(folder), "cvs/Anna Wolf.pdf")
    path = folder / "cvs" / "Anna Wolf.pdf"
    path.unlink()
    os.mkfifo(path)
    with pytest.raises(RowProblem) as error:
        bounded(ref.read, path)
    assert error.value.code == "not_a_file"
    assert "'cvs/Anna Wolf.pdf' is no longer a regular file" in error.value.message


def test_the_check_never_waits_on_a_fifo_even_one_that_was_a_file_when_stated(folder, monkeypatch):
    pipe = folder / "cvs" / "pipe.pdf"
    os.mkfifo(pipe)

    def as_if_regular(real: Callable[..., os.stat_result]) -> Callable[..., os.stat_result]:
        """stat says "a file" (as it did a moment before the FIFO took its place)."""

        def fake(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
            info = real(path, *args, **kwargs)
            if os.fspath(path).endswith("pipe.pdf") and stat.S_ISFIFO(info.st_mode):
                return os.stat_result((stat.S_IFREG | 0o644, *info[1:6], len(PDF), *info[7:10]))
            return info

        return fake

    monkeypatch.setattr(os, "stat", as_if_regular(os.stat))
    monkeypatch.setattr(os, "lstat", as_if_regular(os.lstat))
    with pytest.raises(RowProblem) as error:
        bounded(lambda: FolderSource(folder).resolve("cvs/pipe.pdf"), pipe)
    assert error.value.code == "not_a_file"


@pytest.mark.parametrize("change", ["shrank", "grew", "rewritten", "replaced"])
def test_a_file_changed_after_the_check_is_not_sent(folder, change):
    path = folder / "cvs" / "Anna Wolf.pdf"
    ref = checked(FolderSource(folder), "cvs/Anna Wolf.pdf")
    then = path.stat().st_mtime_ns
    if change == "shrank":
        path.write_bytes(PDF[:5])
    elif change == "grew":
        path.write_bytes(PDF + b"more")
    elif change == "rewritten":  # in place, same size, other bytes
        path.write_bytes(SECRET)
        os.utime(path, ns=(then + 10**9, then + 10**9))  # a coarse clock might not tell
    else:  # same size, a new file renamed over it (what editors and sync tools do)
        (folder / "cvs" / "new.pdf").write_bytes(SECRET)
        os.replace(folder / "cvs" / "new.pdf", path)
    error = refused(ref)
    assert error.code == "file_changed"
    assert "'cvs/Anna Wolf.pdf' changed since it was checked" in error.message
    assert "Run again" in error.message


def test_links_that_stay_inside_are_read_by_their_real_path(folder, outside):
    """Kept working (not a fix): links inside the folder are resolved at the check, and the file
    they led to then is the one read, even if the links are pointed elsewhere later."""
    (folder / "docs").symlink_to(folder / "cvs", target_is_directory=True)
    (folder / "cv.pdf").symlink_to(folder / "cvs" / "Anna Wolf.pdf")
    source = FolderSource(folder)
    through_folder, through_file = checked(source, "docs/Anna Wolf.pdf"), checked(source, "cv.pdf")
    real = os.path.realpath(folder / "cvs" / "Anna Wolf.pdf")
    assert through_folder.location == through_file.location == real
    (folder / "docs").unlink()
    (folder / "docs").symlink_to(outside, target_is_directory=True)
    (folder / "cv.pdf").unlink()
    (folder / "cv.pdf").symlink_to(outside / "Anna Wolf.pdf")
    assert through_folder.read() == through_file.read() == PDF


def test_without_openat_swaps_are_still_refused(folder, outside, monkeypatch):
    """The path Windows takes (no dir_fd, no O_NOFOLLOW): open, then compare with the check."""
    monkeypatch.setattr(attachments, "_WALK", False)
    source = FolderSource(folder)
    (folder / "cv.pdf").symlink_to(folder / "cvs" / "Anna Wolf.pdf")
    assert checked(source, "cv.pdf").read() == checked(source, "CVS/anna wolf.pdf").read() == PDF
    assert problem(source, "../outside/Anna Wolf.pdf") == "outside_base_dir"
    path = folder / "cvs" / "Anna Wolf.pdf"

    ref = checked(source, "cvs/Anna Wolf.pdf")
    path.unlink()
    path.symlink_to(outside / "Anna Wolf.pdf")
    assert refused(ref).code == "outside_base_dir"

    path.unlink()
    path.write_bytes(PDF)
    ref = checked(source, "cvs/Anna Wolf.pdf")
    (folder / "cvs").rename(folder / "cvs.old")
    (folder / "cvs").symlink_to(outside, target_is_directory=True)
    assert refused(ref).code == "outside_base_dir"

    (folder / "cvs").unlink()
    (folder / "cvs.old").rename(folder / "cvs")
    ref = checked(source, "cvs/Anna Wolf.pdf")
    path.write_bytes(PDF[:5])
    assert "changed since it was checked" in refused(ref).message

    path.write_bytes(PDF)
    ref = checked(source, "cvs/Anna Wolf.pdf")
    path.unlink()
    os.mkfifo(path)
    with pytest.raises(RowProblem) as error:
        bounded(ref.read, path)
    assert error.value.code == "not_a_file"


# --- ZIP members that cannot be read: a problem of their row ---------------------------------


def _zip_headers(raw: bytes | bytearray, name: str) -> tuple[int, int, int]:
    """Offsets of a member's local header, its data and its central directory entry."""
    encoded = name.encode()
    local = raw.index(b"PK\x03\x04")
    while raw[local + 30 : local + 30 + len(encoded)] != encoded:
        local = raw.index(b"PK\x03\x04", local + 4)
    name_length, extra_length = struct.unpack_from("<HH", raw, local + 26)
    central = raw.index(b"PK\x01\x02")
    while raw[central + 46 : central + 46 + len(encoded)] != encoded:
        central = raw.index(b"PK\x01\x02", central + 4)
    return local, local + 30 + name_length + extra_length, central


def _broken_zip(path: Path, breakage: str) -> None:
    """resumes/Anna Wolf.pdf readable, resumes/Ben Koch.pdf broken as `breakage` says."""
    with zipfile.ZipFile(path, "w") as z:  # stored: the bytes in the archive are the file's
        z.writestr("resumes/Anna Wolf.pdf", PDF)
        z.writestr("resumes/Ben Koch.pdf", PDF)
    raw = bytearray(path.read_bytes())
    local, data, central = _zip_headers(raw, "resumes/Ben Koch.pdf")
    if breakage == "encrypted":  # the flag bit zipfile refuses without a password
        raw[local + 6] |= 0x1
        raw[central + 8] |= 0x1
    elif breakage == "method":  # a compression method zipfile does not know
        struct.pack_into("<H", raw, local + 8, 99)
        struct.pack_into("<H", raw, central + 10, 99)
    else:  # bytes damaged: the CRC no longer matches
        raw[data + 3] ^= 0xFF
    path.write_bytes(raw)


@pytest.mark.parametrize(
    ("breakage", "code", "words"),
    [
        ("encrypted", "unsupported_file", "is encrypted"),
        ("method", "unsupported_file", "is packed in resumes.zip with a compression method not"),
        ("crc", "file_not_found", "is damaged"),
    ],
)
def test_an_unreadable_zip_member_is_a_problem_of_its_row_only(
    tmp_path, write_mapping, write_csv, breakage, code, words
):
    archive = tmp_path / "resumes.zip"
    _broken_zip(archive, breakage)
    assert problem(ZipSource(archive), "resumes/Ben Koch.pdf") == code
    mapping = write_mapping(
        "candidate: {first_name: F, last_name: L, email_address: E}\n"
        "application: {job_id: {value: J}}\nattachments: [{column: CV, type: CV}]\n"
    )
    rows = [
        ["F", "L", "E", "CV"],
        ["Anna", "Wolf", "a@example.com", "resumes/Anna Wolf.pdf"],
        ["Ben", "Koch", "b@example.com", "resumes/Ben Koch.pdf"],  # broken: its row only
        ["Cleo", "Berg", "c@example.com", "resumes/cleo.pdf"],  # missing: still checked
    ]
    source = write_csv(rows)
    report = tmp_path / "errors.csv"
    result = CliRunner().invoke(
        main,
        [
            "validate",
            str(source),
            "-m",
            str(mapping),
            "--attachments-dir",
            str(archive),
            "--report",
            str(report),
        ],
    )
    assert result.exit_code == 1, (result.output, result.exception)
    found = read_csv(report)
    assert [(r["row"], r["code"]) for r in found] == [("3", code), ("4", "file_not_found")]
    assert "'resumes/Ben Koch.pdf' " + words in found[0]["message"]
    assert "unpack" in found[0]["message"] and "--attachments-dir" in found[0]["message"]


def test_a_zip_member_found_damaged_only_when_sent_fails_its_row(tmp_path):
    path = tmp_path / "resumes.zip"
    content = PDF + bytes(20_000)  # the check reads 8 KB; the CRC is checked at the member's end
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("cv.pdf", content)
    raw = bytearray(path.read_bytes())
    _, data, _ = _zip_headers(raw, "cv.pdf")
    raw[data + len(content) - 1] ^= 0xFF
    path.write_bytes(raw)
    ref = checked(ZipSource(path), "cv.pdf")
    error = refused(ref)
    assert error.code == "file_not_found"
    assert "'cv.pdf' is damaged in resumes.zip" in error.message


def test_a_zip_member_shorter_than_announced_is_not_sent_truncated(tmp_path):
    path = tmp_path / "resumes.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("cv.pdf", PDF)
    raw = bytearray(path.read_bytes())
    _, _, central = _zip_headers(raw, "cv.pdf")
    struct.pack_into("<I", raw, central + 24, len(PDF) + 5)  # announces 5 bytes more than it has
    path.write_bytes(raw)
    ref = checked(ZipSource(path), "cv.pdf")
    assert ref.size == len(PDF) + 5
    error = refused(ref)
    assert error.code == "file_not_found"
    assert f"'cv.pdf' unpacks to {len(PDF)} bytes" in error.message


# --- URLs: Kombo is never pointed at a host that is not public --------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://localhost/cv.pdf",
        "http://LOCALHOST./cv.pdf",
        "http://files.localhost/cv.pdf",
        "http://127.0.0.1/cv.pdf",
        "https://127.0.0.1:8443/cv.pdf",
        "http://10.0.0.5/cv.pdf",
        "http://192.168.1.20/cv.pdf",
        "http://172.16.0.1/cv.pdf",
        "http://100.64.0.1/cv.pdf",
        "http://[::1]/cv.pdf",
        "http://[fd00::1]/cv.pdf",
        "http://[fe80::1%25eth0]/cv.pdf",
        "http://[::ffff:127.0.0.1]/cv.pdf",
        "http://0.0.0.0/cv.pdf",
        "http://0/cv.pdf",
        "http://2130706433/cv.pdf",
        "http://0x7f000001/cv.pdf",
        "http://0x7f.1/cv.pdf",
        "http://0177.0.0.1/cv.pdf",
        "http://127.1/cv.pdf",
        "http://%6c%6fcalhost/cv.pdf",
        "http://\uff11\uff12\uff17.0.0.1/cv.pdf",
        "http://nas.local/cv.pdf",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://fileserver/cv.pdf",
    ],
)
def test_urls_to_hosts_that_are_not_public_are_refused(folder, url):
    with pytest.raises(RowProblem) as error:
        FolderSource(folder).resolve(url)
    assert error.value.code == "invalid_url"
    assert f"'{url}' points at" in error.value.message
    assert "not a public internet address" in error.value.message
    assert "--allow-private-urls" in error.value.message


@pytest.mark.parametrize(
    "url",
    [
        "https://files.example.com/cv%20anna.pdf?sig=1",
        "http://93.184.216.34/cv.pdf",
        "https://[2606:4700:4700::1111]/cv.pdf",
        "https://cdn.example.com:8443/a/b.pdf",
        "https://123.example.com/cv.pdf",
    ],
)
def test_urls_to_public_hosts_are_sent_as_data_url(folder, url):
    assert FolderSource(folder).resolve(url).url == url


def test_urls_to_private_hosts_pass_when_allowed(folder, archive):
    sources = [
        FolderSource(folder, allow_private_urls=True),
        ZipSource(archive, allow_private_urls=True),
        open_attachment_source(folder, allow_private_urls=True),
    ]
    for source in sources:
        ref = source.resolve("http://10.0.0.5/cvs/anna.pdf")
        assert (ref.url, ref.name, ref.source) == ("http://10.0.0.5/cvs/anna.pdf", "anna.pdf", None)
    assert problem(ZipSource(archive), "http://10.0.0.5/cvs/anna.pdf") == "invalid_url"


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("https://user:secret@files.example.com/cv.pdf", "carries a user name or password"),
        ("https://files.example.com\\@127.0.0.1/cv.pdf", "carries a user name or password"),
        ("http:///127.0.0.1/cv.pdf", "has no host"),
        ("http://256.0.0.1/cv.pdf", "no valid IP address"),
        ("http://1.2.3.4.5/cv.pdf", "no valid IP address"),
        ("http://[::1/cv.pdf", "is not a valid URL"),
    ],
)
def test_urls_with_credentials_or_invalid_hosts_are_refused_even_if_private_ones_are_allowed(
    folder, url, words
):
    with pytest.raises(RowProblem) as error:
        FolderSource(folder, allow_private_urls=True).resolve(url)
    assert error.value.code == "invalid_url"
    assert words in error.value.message
