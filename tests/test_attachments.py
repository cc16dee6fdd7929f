"""Attachment cells resolved safely, with real files, symlinks, FIFOs and ZIPs made here."""

from __future__ import annotations

import base64
import os
import unicodedata
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import read_csv

from importer.attachments import (
    FolderSource,
    ZipSource,
    open_attachment_source,
    sniff_content_type,
)
from importer.build import RequestBuilder
from importer.cli import main
from importer.errors import InputFileError
from importer.mapping import load_mapping
from importer.readers import read_table

PDF = b"%PDF-1.4\n% a CV\n"


def problem(source, cell):
    from importer.attachments import AttachmentProblem

    with pytest.raises(AttachmentProblem) as error:
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
    for cell in ["cvs/Anna Wolf.pdf", "cvs\\Anna Wolf.pdf", "./cvs//Anna Wolf.pdf", " cvs/Anna Wolf.pdf ", f"file://{folder}/cvs/Anna%20Wolf.pdf", str(folder / "cvs" / "Anna Wolf.pdf"), "CVS/anna wolf.PDF", "cvs/x/../Anna Wolf.pdf"]:
        ref = source.resolve(cell)
        assert (ref.name, ref.content_type, ref.size) == ("Anna Wolf.pdf", "application/pdf", len(PDF)), cell
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
    assert (ref.name, ref.url, ref.content_type, ref.source) == ("cv anna.pdf", "https://files.example.com/cv%20anna.pdf?sig=1", "application/pdf", None)


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
    assert sniff_content_type(docx, "letter.docx") == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert sniff_content_type(docx, "letter") == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
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
    mapping = load_mapping(write_mapping("candidate: {first_name: F, last_name: L, email_address: E}\napplication: {job_id: {value: J}}\nattachments: [{column: CV, type: CV}]\n"))
    table = read_table(write_csv([["F", "L", "E", "CV"], ["Anna", "Wolf", "a@example.com", "big cv.pdf"]]))
    mapping.bind(table.headers, "input")
    (row,) = table.rows
    built = RequestBuilder(mapping, FolderSource(tmp_path)).build(row)
    (attachment,) = built.request.body.attachments
    assert (attachment.name, attachment.type, attachment.content_type, attachment.data) == ("big cv.pdf", "CV", "application/pdf", None)
    (ref,) = built.request.attachments
    assert base64.b64decode(ref.encode(), validate=True) == payload


def test_cli_takes_a_zip_of_resumes(archive, write_mapping, write_csv):
    mapping = write_mapping("candidate: {first_name: F, last_name: L, email_address: E}\napplication: {job_id: {value: J}}\nattachments: [{column: CV, type: CV}]\n")
    source = write_csv([["F", "L", "E", "CV"], ["Anna", "Wolf", "a@example.com", "resumes/Anna Wolf.pdf"], ["Ben", "Koch", "b@example.com", "resumes/ben.pdf"]])
    report = source.parent / "errors.csv"
    result = CliRunner().invoke(main, ["validate", str(source), "-m", str(mapping), "--attachments-dir", str(archive), "--report", str(report)])
    assert result.exit_code == 1, result.output
    assert [(r["row"], r["code"], r["message"]) for r in read_csv(report)] == [("3", "file_not_found", "'resumes/ben.pdf' was not found in resumes.zip.")]
