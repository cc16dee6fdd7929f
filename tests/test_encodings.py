"""CSV exports in the code pages spreadsheet programs write, from all over the world: each file is
written by Python's codecs, read back, and must give exactly the names that went in."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from importer import readers
from importer.issues import ENCODING_ERROR, Severity
from importer.mapping import load_mapping
from importer.readers import read_table

Names = list[tuple[str, str, str]]

POLISH: Names = [
    ("Łukasz", "Żółć", "Łódź"),
    ("Agnieszka", "Wiśniewska", "Kraków"),
    ("Paweł", "Wójcik", "Gdańsk"),
    ("Małgorzata", "Kowalczyk", "Poznań"),
    ("Grzegorz", "Lewandowski", "Wrocław"),
    ("Zofia", "Dąbrowska", "Szczecin"),
    ("Krzysztof", "Kamiński", "Białystok"),
    ("Joanna", "Zielińska", "Lublin"),
    ("Michał", "Szymański", "Częstochowa"),
    ("Ewa", "Woźniak", "Rzeszów"),
    ("Jędrzej", "Kaczmarek", "Bielsko-Biała"),
]
CZECH: Names = [
    ("Jiří", "Dvořák", "Praha"),
    ("Petra", "Nováková", "Brno"),
    ("Tomáš", "Černý", "Ostrava"),
    ("Kateřina", "Svobodová", "Plzeň"),
    ("Lukáš", "Procházka", "Liberec"),
    ("Žaneta", "Kučerová", "Olomouc"),
    ("Martin", "Veselý", "Zlín"),
    ("Eva", "Horáková", "České Budějovice"),
    ("Ondřej", "Šťastný", "Hradec Králové"),
    ("Zdeněk", "Růžička", "Ústí nad Labem"),
]
RUSSIAN: Names = [
    ("Иван", "Петров", "Москва"),
    ("Мария", "Иванова", "Санкт-Петербург"),
    ("Алексей", "Смирнов", "Казань"),
    ("Ольга", "Кузнецова", "Новосибирск"),
    ("Дмитрий", "Соколов", "Екатеринбург"),
    ("Анна", "Попова", "Самара"),
    ("Сергей", "Лебедев", "Нижний Новгород"),
    ("Юлия", "Фёдорова", "Ростов-на-Дону"),
]
GREEK: Names = [
    ("Γιώργος", "Παπαδόπουλος", "Αθήνα"),
    ("Μαρία", "Νικολάου", "Θεσσαλονίκη"),
    ("Δημήτρης", "Γεωργίου", "Πάτρα"),
    ("Ελένη", "Κωνσταντίνου", "Ηράκλειο"),
    ("Νίκος", "Οικονόμου", "Λάρισα"),
    ("Σοφία", "Αντωνίου", "Βόλος"),
]
TURKISH: Names = [
    ("Ayşe", "Yılmaz", "İstanbul"),
    ("Mehmet", "Öztürk", "Ankara"),
    ("Çağla", "Şahin", "İzmir"),
    ("Gökhan", "Güneş", "Bursa"),
    ("Elif", "Kılıç", "Antalya"),
    ("Emre", "Doğan", "Eskişehir"),
    ("Zeynep", "Aydın", "Muğla"),
    ("Burak", "Çelik", "Diyarbakır"),
]
WESTERN: Names = [
    ("Jürgen", "Müller", "Köln"),
    ("Zoë", "Weiß", "München"),
    ("Renée", "Lefèvre", "Paris"),
    ("Søren", "Østergård", "Århus"),
    ("François", "Dubois", "Genève"),
    ("José", "Muñoz", "Málaga"),
    ("Björn", "Åström", "Göteborg"),
    ("Anna", "Schäfer", "Düsseldorf"),
]
FRENCH: Names = [
    ("Élodie", "Dupont", "Besançon"),
    ("Hélène", "Martin", "Nîmes"),
    ("François", "Bernard", "Orléans"),
    ("Anaïs", "Petit", "Saint-Étienne"),
    ("Jérôme", "Durand", "Créteil"),
    ("Cécile", "Lefèbvre", "Arès"),
]
JAPANESE: Names = [
    ("太郎", "山田", "東京"),
    ("花子", "鈴木", "大阪"),
    ("一郎", "佐藤", "名古屋"),
    ("美咲", "高橋", "横浜"),
    ("健太", "田中", "札幌"),
    ("さくら", "伊藤", "福岡"),
    ("翔太", "渡辺", "神戸"),
]
CHINESE: Names = [
    ("伟", "王", "北京"),
    ("芳", "李", "上海"),
    ("娜", "张", "广州"),
    ("秀英", "刘", "深圳"),
    ("敏", "陈", "杭州"),
    ("静", "杨", "成都"),
    ("强", "赵", "武汉"),
]

# (code page, header: first name, last name, e-mail, city, phone; names, delimiter)
CASES = {
    "polish-cp1250": ("cp1250", ["Imię", "Nazwisko", "E-mail", "Miasto", "Telefon"], POLISH, ";"),
    "czech-cp1250": ("cp1250", ["Jméno", "Příjmení", "E-mail", "Město", "Telefon"], CZECH, ";"),
    "russian-cp1251": ("cp1251", ["Имя", "Фамилия", "Эл. почта", "Город", "Телефон"], RUSSIAN, ";"),
    "russian-koi8": ("koi8_r", ["Имя", "Фамилия", "Эл. почта", "Город", "Телефон"], RUSSIAN, ";"),
    "greek-cp1253": ("cp1253", ["Όνομα", "Επώνυμο", "Email", "Πόλη", "Τηλέφωνο"], GREEK, ";"),
    "turkish-cp1254": ("cp1254", ["Ad", "Soyad", "E-posta", "Şehir", "Telefon"], TURKISH, ";"),
    "german-mac-roman": (
        "mac_roman",
        ["Vorname", "Nachname", "E-Mail", "Stadt", "Telefon"],
        WESTERN,
        ";",
    ),
    "japanese-shift-jis": ("shift_jis", ["名", "姓", "メール", "都市", "電話番号"], JAPANESE, ","),
    "chinese-gb18030": ("gb18030", ["名字", "姓氏", "电子邮件", "城市", "电话"], CHINESE, ","),
    "german-cp1252": (
        "cp1252",
        ["Vorname", "Nachname", "E-Mail", "Stadt", "Telefon"],
        WESTERN,
        ";",
    ),
    "french-latin-1": ("latin-1", ["Prénom", "Nom", "Courriel", "Ville", "Téléphone"], FRENCH, ";"),
}
# Codecs that read these files exactly alike: Excel's Shift-JIS is cp932, a superset.
SAME_TEXT = {"shift_jis": {"shift_jis", "cp932"}, "latin-1": {"latin-1", "cp1252"}}


def export_rows(header: list[str], names: Names, count: int = 24) -> list[list[str]]:
    """A spreadsheet export: the header, then `count` people (names repeat, as they do)."""
    rows = [header]
    for i in range(count):
        first, last, city = names[i % len(names)]
        rows.append([first, last, f"person{i}@example.com", city, f"+48 600 100 {i:03d}"])
    return rows


@pytest.fixture
def write_export(tmp_path: Path) -> Callable[..., Path]:
    def write(rows: list[list[str]], encoding: str, delimiter: str = ";") -> Path:
        path = tmp_path / "export.csv"
        text = "".join(delimiter.join(row) + "\r\n" for row in rows)
        path.write_bytes(text.encode(encoding))
        return path

    return write


@pytest.mark.parametrize("case", list(CASES))
def test_each_code_page_is_detected_and_read_exactly(
    case: str, write_export, tmp_path: Path
) -> None:
    """Every name arrives as typed (no £ukasz for Łukasz), the mapping finds the native header,
    and the summary line says which code page was read and that it is sure."""
    encoding, header, names, delimiter = CASES[case]
    rows = export_rows(header, names)
    path = write_export(rows, encoding, delimiter)
    table = read_table(path, expected_columns=[header[1], header[2]])
    assert table.encoding in SAME_TEXT.get(encoding, {encoding.replace("_", "-")})
    assert table.headers == header
    assert [list(row.values) for row in table.rows] == rows[1:]
    assert not table.encoding_uncertain, table.describe()
    assert f"{table.encoding} (" in table.describe() and "% sure" in table.describe()
    mapping_path = tmp_path / "mapping.yaml"
    mapping_path.write_text(
        f"candidate:\n  first_name: {header[0]}\n  last_name: '{header[1].upper()}'\n"
        f"  email_address: {header[2]}\napplication:\n  job_id: {{value: JOB1}}\n",
        encoding="utf-8",
    )
    mapping = load_mapping(mapping_path)
    # a column the file lacks raises ConfigError
    mapping = mapping.bind(table.headers, table.describe())
    assert mapping.bound_headers() == header[:3]


def test_utf8_with_a_stray_byte_is_read_as_utf8_and_the_row_is_reported(write_export) -> None:
    """One cell pasted in cp1252 must not turn every other ü in the file into Ã¼: the file
    stays UTF-8 and only the row with the stray byte gets an encoding_error, in its column."""
    rows = export_rows(["Vorname", "Nachname", "E-Mail", "Stadt", "Telefon"], WESTERN, 400)
    path = write_export(rows, "utf-8")
    data = path.read_bytes()
    at = data.index(b"person7@example.com")
    path.write_bytes(data[:at] + "Köln-Süd".encode("cp1252") + data[at + 19 :])
    table = read_table(path)
    assert table.encoding == "utf-8" and table.encoding_confidence == 1.0
    assert "1 stray byte" not in table.describe() and "2 stray byte(s)" in table.describe()
    read = list(table.rows)
    assert [list(r.values) for r in read[:7]] == rows[1:8]
    assert read[7].values[2] == "K\ufffdln-S\ufffdd"
    (problem,) = read[7].problems
    assert (problem.row, problem.column, problem.code, problem.severity) == (
        9,
        "E-Mail",
        ENCODING_ERROR,
        Severity.ERROR,
    )
    assert "2 bytes (0xF6 0xFC)" in problem.message and "export the file again" in problem.message
    assert all(not r.problems for r in read[8:]) and read[-1].values[0] == rows[-1][0]


def test_a_code_page_file_with_one_accent_is_not_taken_for_utf8(write_export) -> None:
    """A cp1252 file with a single é in 2,000 rows has no valid UTF-8 sequence at all: it is
    read as cp1252, not as UTF-8 with a stray byte."""
    rows = [["Name", "Email"]] + [[f"Person {i}", f"p{i}@example.com"] for i in range(2000)]
    rows[1000][0] = "René Lefèvre"
    table = read_table(write_export(rows, "cp1252"))
    assert table.encoding == "cp1252"
    assert [r.values for r in table.rows if not r.values[0].isascii()] == [
        ("René Lefèvre", "p999@example.com")
    ]


def test_a_file_too_short_to_tell_is_uncertain_and_says_how_to_fix_it(write_export) -> None:
    """cp1250's 'Dvořák' reads as 'Dvoųįk' in cp1257 (Baltic) and one name cannot tell which:
    the summary says the encoding is uncertain and names the option that settles it."""
    path = write_export([["First", "Last"], ["Jan", "Dvořák"]], "cp1250")
    table = read_table(path)
    assert table.encoding == "cp1250" and table.encoding_uncertain
    text = table.describe()
    assert "cp1250 (Central European, detected, only" in text
    assert "the encoding is uncertain" in text
    assert "--encoding cp1257, or `input: {encoding: cp1257}` in the mapping" in text


def test_only_letters_both_code_pages_share_are_no_doubt_one_that_differs_is(write_export) -> None:
    """é is the same byte in cp1250 and cp1252, so a file with only é reads the same either way;
    è is č in cp1250, so a file with one Hélène could be either and says so."""
    same = read_table(write_export([["Name"], ["André"], ["José"], ["Zoé"]], "cp1252"))
    assert same.encoding == "cp1252" and not same.encoding_uncertain
    differs = read_table(write_export([["Name"], ["Hélène"]], "cp1252"))
    assert differs.encoding == "cp1252" and differs.encoding_uncertain
    assert "--encoding cp1250" in differs.describe()


def test_a_given_encoding_is_used_as_given_and_said_so(write_export) -> None:
    """--encoding wins over detection; the summary says it was given."""
    path = write_export(
        export_rows(["Imię", "Nazwisko", "E-mail", "Miasto", "Telefon"], POLISH), "iso8859_2"
    )
    table = read_table(path, encoding="iso-8859-2")
    assert table.encoding == "iso8859-2" and table.encoding_note == "given"
    assert "iso8859-2 (given)" in table.describe()
    assert next(table.rows).values[:2] == ("Łukasz", "Żółć")


def test_boms_are_named_in_the_summary(write_export) -> None:
    """A BOM settles the encoding: the summary says so, and is sure."""
    table = read_table(write_export([["Name"], ["Jürgen"]], "utf-8-sig"))
    assert "utf-8-sig (UTF-8 with a BOM)" in table.describe() and table.encoding_confidence == 1


def test_a_code_page_that_cannot_decode_the_whole_file_is_not_chosen(
    write_export, monkeypatch
) -> None:
    """The detector sees a sample; the choice is confirmed on every byte. A cp1250 sample with
    a byte cp1250 leaves undefined far below it is not read as cp1250 (which would fail there)."""
    monkeypatch.setattr(readers, "_SAMPLE_BYTES", 2048)
    rows = export_rows(["Imię", "Nazwisko", "E-mail", "Miasto", "Telefon"], POLISH, 40_000)
    path = write_export(rows, "cp1250")
    with path.open("ab") as fh:
        fh.write(b"Zbigniew;Nowak\x98;z@example.pl;Opole;+48\r\n")  # 0x98: undefined in cp1250
    started = time.perf_counter()
    table = read_table(path)
    assert table.encoding != "cp1250"
    assert time.perf_counter() - started < 0.5
    assert list(table.rows)[-1].values[0] == "Zbigniew"
