"""Regenerate the bundled example: an export from an old ATS, as XLSX and CSV, with CVs beside it.

    python example_data/generate.py

Deterministic (fixed seed). A handful of rows carry the mistakes real exports have, so the dry
run has something to report: see MISTAKES below.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import zipfile
from pathlib import Path

import openpyxl
from openpyxl.styles import Font

HERE = Path(__file__).resolve().parent
ROWS = 60
SEED = 20261129

FIRST = [
    "Anna",
    "Jonas",
    "Lea",
    "Lukas",
    "Marie",
    "Felix",
    "Sophie",
    "Paul",
    "Emma",
    "Leon",
    "Hannah",
    "Noah",
    "Mia",
    "Elias",
    "Clara",
    "Ben",
    "Lina",
    "Finn",
    "Amélie",
    "Jürgen",
    "Zoë",
    "Mateo",
    "Aylin",
    "Tomasz",
    "Ines",
    "Oskar",
]
LAST = [
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Hoffmann",
    "Schäfer",
    "Koch",
    "Richter",
    "Klein",
    "Wolf",
    "Neumann",
    "Schwarz",
    "Zimmermann",
    "Braun",
    "Krüger",
    "Hofmann",
    "van der Berg",
    "Nowak",
    "Yılmaz",
    "Rossi",
    "Dubois",
    "O'Connor",
]
CITIES = [
    ("Berlin", "Germany"),
    ("München", "Deutschland"),
    ("Hamburg", "DE"),
    ("Köln", "Germany"),
    ("Wien", "Österreich"),
    ("Zürich", "Schweiz"),
    ("Amsterdam", "Netherlands"),
    ("Warszawa", "Poland"),
    ("London", "United Kingdom"),
    ("Paris", "France"),
    ("Leipzig", "Germany"),
    ("Frankfurt am Main", "DEU"),
]
JOBS = ["Backend Engineer", "Product Designer", "Sales Manager DACH", "Data Analyst"]
STAGES = ["Applied", "Screening", "Interview"]
GENDERS = ["m", "f", "w", "d", "", "male", "female"]
SOURCES = ["LinkedIn", "Job fair Berlin", "Referral", "StepStone", "Careers page"]
SKILLS = ["Python", "SQL", "Figma", "Go", "Kubernetes", "Salesforce", "Excel", "Tableau", "React"]

HEADERS = [
    "Candidate ID",
    "First Name",
    "Last Name",
    "E-Mail",
    "Mobile",
    "Gender",
    "Available from",
    "Salary expectation",
    "City",
    "Country",
    "LinkedIn",
    "Other links",
    "Job",
    "Stage",
    "Recruiter",
    "Work permit",
    "Skills",
    "CV",
    "Cover letter",
    "GDPR consent",
    "Consent until",
    "Current company",
    "Current title",
    "Notes",
    "Status",
    "Rejection reason",
    "Tags",
]

# row index (0-based, data rows) -> what goes wrong there, as a recruiter would get it wrong
MISTAKES = {
    4: ("E-Mail", "jonas.weber@gmx"),  # no top-level domain
    9: ("Available from", "31.02.2026"),  # no such day
    13: ("CV", "cvs/lena_koch_cv.pdf"),  # the file was never exported
    17: ("Salary expectation", "negotiable"),  # not a number
    22: ("Country", "Bavaria"),  # a state, not a country
    27: ("Last Name", ""),  # missing
    31: ("Job", "Office Manager"),  # a job the mapping does not know
    36: ("Mobile", "n/a"),  # not a phone number
    41: ("LinkedIn", "linkedin profile on request"),
}
DUPLICATE_OF = {48: 3}  # row 48 is the same person applying to the same job again


def _pdf(text: str) -> bytes:
    """A small but valid one-page PDF saying `text`."""
    content = f"BT /F1 14 Tf 72 760 Td ({text}) Tj ET".encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font"
        b" << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _docx(path: Path, text: str) -> None:
    """A minimal Word document, for the cover letters."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels"'
            ' ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
            "</Types>",
        )
        z.writestr(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1"'
            ' Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'officeDocument" Target="word/document.xml"/>'
            "</Relationships>",
        )
        z.writestr(
            "word/document.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:body></w:document>',
        )


def _slug(text: str) -> str:
    table = str.maketrans(
        {
            "ä": "ae",
            "ö": "oe",
            "ü": "ue",
            "ß": "ss",
            "é": "e",
            "ë": "e",
            "ı": "i",
            "'": "",
            " ": "_",
        }
    )
    return text.lower().translate(table)


def make_rows(rng: random.Random) -> list[dict[str, object]]:
    rows = []
    for i in range(ROWS):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        city, country = rng.choice(CITIES)
        job = JOBS[i % len(JOBS)]
        slug = f"{_slug(first)}_{_slug(last)}"
        mobile = f"0{rng.choice(['151', '160', '171', '176'])} {rng.randint(1000000, 9999999)}"
        if i % 5 == 0:
            mobile = f"+49 {mobile[1:]}"
        if i % 11 == 0:
            mobile = int(
                "49" + mobile.replace(" ", "").lstrip("+").removeprefix("49").lstrip("0")
            )  # typed as a number
        row: dict[str, object] = {
            "Candidate ID": f"C-{10400 + i}",
            "First Name": first,
            "Last Name": last,
            "E-Mail": (
                f"{slug}{i}@"
                f"{rng.choice(['gmail.com', 'web.de', 'gmx.de', 'outlook.com', 'posteo.de'])}"
            ).replace("__", "_"),
            "Mobile": mobile,
            "Gender": rng.choice(GENDERS),
            "Available from": dt.datetime(2026, rng.randint(1, 12), rng.randint(1, 28))
            if i % 3
            else f"{rng.randint(1, 28):02d}.{rng.randint(1, 12):02d}.2026",
            "Salary expectation": rng.choice(
                [
                    f"{rng.randint(45, 95)}.000 €",
                    rng.randint(45, 95) * 1000,
                    f"{rng.randint(45, 95)}k",
                    "",
                ]
            ),
            "City": city,
            "Country": country,
            "LinkedIn": f"https://www.linkedin.com/in/{slug.replace('_', '-')}-{i}"
            if i % 4
            else f"linkedin.com/in/{slug.replace('_', '-')}",
            "Other links": f"https://github.com/{slug}; https://{slug}.dev" if i % 7 == 0 else "",
            "Job": job,
            "Stage": rng.choice(STAGES),
            "Recruiter": rng.choice(["Sabine Roth", "Tim Berger", ""]),
            "Work permit": rng.choice(["yes", "no", "ja", ""]),
            "Skills": ", ".join(rng.sample(SKILLS, 3)),
            "CV": f"cvs/{slug}_cv.pdf",
            "Cover letter": f"cvs/{slug}_cover_letter.docx" if i % 3 == 0 else "",
            "GDPR consent": rng.choice(["yes", "yes", "no"]),
            "Consent until": dt.datetime(2028, 6, 30) if i % 2 else "",
            "Current company": rng.choice(
                ["Zalando SE", "SAP", "N26", "Delivery Hero", "Siemens AG", "freelance", ""]
            ),
            "Current title": rng.choice(
                ["Software Engineer", "UX Designer", "Account Executive", "Analyst", ""]
            ),
            "Notes": "Met at the job fair.\nFollow up in spring." if i % 9 == 0 else "",
            # the history an ATS migration carries over (after_create in the mapping); from
            # the row's position, not the random source, so the rows above stay as they were
            "Status": "Rejected" if i % 7 == 5 else "Active",
            "Rejection reason": ("Not a fit", "Withdrew")[i % 2] if i % 7 == 5 else "",
            "Tags": "job fair, berlin" if i % 4 == 0 else "",
        }
        rows.append(row)
    for target, source in DUPLICATE_OF.items():
        for key in ("First Name", "Last Name", "E-Mail", "Job", "CV"):
            rows[target][key] = rows[source][key]
        rows[target]["E-Mail"] = str(rows[source]["E-Mail"]).upper()  # same address, other case
    for index, (column, value) in MISTAKES.items():
        rows[index][column] = value
    return rows


def write_files(rows: list[dict[str, object]]) -> None:
    cvs = HERE / "cvs"
    cvs.mkdir(exist_ok=True)
    for index, row in enumerate(rows):
        name = f"{row['First Name']} {row['Last Name']}"
        cv = str(row["CV"])
        if index not in MISTAKES or MISTAKES[index][0] != "CV":
            (HERE / cv).write_bytes(_pdf(f"Curriculum vitae - {name}"))
        if row["Cover letter"]:
            _docx(
                HERE / str(row["Cover letter"]), f"Dear hiring team, {name} would love to join you."
            )

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Candidates"
    sheet.append(
        ["Export from HireFlow ATS", None, None, f"exported {dt.date(2026, 11, 20).isoformat()}"]
    )
    sheet.append([])
    sheet.append(HEADERS)  # the header is on row 3, as in many exports
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([row[h] if row[h] != "" else None for h in HEADERS])
    for cell in sheet["G"][3:]:
        if isinstance(cell.value, dt.datetime):
            cell.number_format = "DD.MM.YYYY"
    workbook.save(HERE / "candidates.xlsx")

    with (HERE / "candidates.csv").open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, delimiter=";")  # what German Excel writes
        writer.writerow(HEADERS)
        for row in rows:
            writer.writerow([_csv_text(row[h]) for h in HEADERS])


def _csv_text(value: object) -> str:
    if isinstance(value, dt.datetime):
        return value.strftime("%d.%m.%Y")
    return str(value)


if __name__ == "__main__":
    write_files(make_rows(random.Random(SEED)))
    print(f"wrote {HERE / 'candidates.xlsx'}, {HERE / 'candidates.csv'} and {HERE / 'cvs'}")
