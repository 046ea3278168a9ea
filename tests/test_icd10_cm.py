"""ICD-10-CM/PCS specifics: the fixed-width order files and the codes files give the same records for valid codes,
several releases merge newest first, PCS table headers are not codes, malformed lines are quarantined."""

from __future__ import annotations

from pathlib import Path

from converters.icd10_cm import SOURCE, generate, parse_order
from pipeline.model import Record, Rejection, detect_form


def order_line(number: int, code: str, flag: str, title: str) -> str:
    return f"{number:05d} {code:<7} {flag} {title[:60]:<60} {title}"


def convert(root: Path) -> list:
    return list(generate(detect_form(SOURCE, root)))


def test_order_and_codes_files_agree_on_valid_codes(tmp_path: Path) -> None:
    (tmp_path / "order").mkdir()
    (tmp_path / "codes").mkdir()
    lines = [order_line(1, "A01", "0", "Typhoid"), order_line(2, "A0100", "1", "Typhoid, site not stated")]
    (tmp_path / "order" / "icd10cm_order_2024.txt").write_text("\r\n".join(lines) + "\r\n")
    (tmp_path / "codes" / "icd10cm_codes_2024.txt").write_text("A0100   Typhoid, site not stated\n")
    order = {(r.id, r.input, r.output) for r in convert(tmp_path / "order")}
    assert order == {
        ("icd10_code_explanation:cm-A01", "A01", "Typhoid"),  # a category header is kept
        ("icd10_code_explanation:cm-A0100", "A0100", "Typhoid, site not stated"),
    }
    assert {(r.id, r.input, r.output) for r in convert(tmp_path / "codes")} < order


def test_newest_release_wins_and_pcs_headers_are_skipped(tmp_path: Path) -> None:
    (tmp_path / "icd10pcs_order_2023.txt").write_text(
        order_line(1, "0DT", "0", "Resection") + "\n" + order_line(2, "0DTJ0ZZ", "1", "Old title") + "\n"
        + order_line(3, "0DTJ8ZZ", "1", "Retired code") + "\n"
    )  # fmt: skip
    (tmp_path / "icd10pcs-order-2024.txt").write_text(
        order_line(1, "0DT", "0", "Resection") + "\n" + order_line(2, "0DTJ0ZZ", "1", "New title") + "\n"
        + order_line(3, "0DTJ0ZZ", "1", "Twice") + "\n" + "00004 0DTJ4ZZ 1 truncated\n"
    )  # fmt: skip
    items = convert(tmp_path)
    assert {(r.key, r.output, r.raw_file) for r in items if isinstance(r, Record)} == {
        ("pcs-0DTJ0ZZ", "New title", "icd10pcs-order-2024.txt"),
        ("pcs-0DTJ8ZZ", "Retired code", "icd10pcs_order_2023.txt"),
    }
    assert [(r.reason, r.locator) for r in items if isinstance(r, Rejection)] == [
        ("code repeated in the same file", "line 3"),
        ("no long title", "line 4"),
    ]
    assert parse_order("12345 E11     2 x") == "invalid header flag"
