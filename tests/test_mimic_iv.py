"""What is specific to MIMIC-IV-Note: the exam-name rule tables, radiology section parsing, the Discharge
Instructions split, the quarantine reasons, and the accepted file layouts."""

from __future__ import annotations

import csv
import gzip
from collections.abc import Sequence
from pathlib import Path

import pytest

from converters.mimic_iv import SOURCE, TASKS, generate, modality_of, regions_of, sections, split_instructions
from pipeline.model import Record, Rejection, detect_form

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "samples" / "mimic_iv"
COLUMNS = ("note_id", "subject_id", "hadm_id", "note_type", "note_seq", "charttime", "storetime", "text")

CT, MRI, US, ANGIO, XRAY = "CT", "MRI", "Ultrasound", "Angiography", "X-ray"
CHEST, HN, BRAIN, ABD, PELVIS, SPINE = "Chest", "Head and neck", "Brain", "Abdomen", "Pelvis", "Spine"

EXAMS = [
    ("CTA HEAD W&W/O C & RECONS", ANGIO, [BRAIN]),
    ("CTA NECK W&W/OC & RECONS", ANGIO, [HN]),
    ("CTA CHEST W&W/O C&RECONS, NON-CORONARY", ANGIO, [CHEST]),
    ("CTA ABD & PELVIS", ANGIO, [ABD, PELVIS]),
    ("MRA BRAIN W/O CONTRAST", ANGIO, [BRAIN]),
    ("MRV HEAD W/O CONTRAST", ANGIO, [BRAIN]),
    ("ANGIOGRAPHY LOWER EXTREMITY", ANGIO, []),
    ("CT HEAD W/O CONTRAST", CT, [BRAIN]),
    ("CT CHEST W/CONTRAST", CT, [CHEST]),
    ("CT ABD & PELVIS WITH CONTRAST", CT, [ABD, PELVIS]),
    ("CT CHEST/ABD/PELVIS W/CONTRAST", CT, [CHEST, ABD, PELVIS]),
    ("CT PELVIS W/O CONTRAST", CT, [PELVIS]),
    ("CT C-SPINE W/O CONTRAST", CT, [SPINE]),
    ("CT T-SPINE W/O CONTRAST", CT, [SPINE]),
    ("CT SINUS/MANDIBLE/MAXILLOFACIAL W/O CONTRAST", CT, [HN]),
    ("CT SOFT TISSUE NECK W/CONTRAST", CT, [HN]),
    ("CT TEMPORAL BONE W/O CONTRAST", CT, [HN]),
    ("CT-GUIDED LIVER BIOPSY", CT, [ABD]),
    ("CT LOWER EXTREMITY W/O CONTRAST RIGHT", CT, []),
    ("MR HEAD W & W/O CONTRAST", MRI, [BRAIN]),
    ("MR L SPINE W/O CONTRAST", MRI, [SPINE]),
    ("MR THORACIC SPINE W/ AND W/O CONTRAST", MRI, [SPINE]),
    ("MR ORBITS W&W/O CONTRAST", MRI, [HN]),
    ("MRCP", MRI, [ABD]),
    ("MR ENTEROGRAPHY", MRI, [ABD]),
    ("MR PELVIS W/O CONTRAST, PROSTATE", MRI, [PELVIS]),
    ("MRI CHEST W/O CONTRAST", MRI, [CHEST]),
    ("MAMMO BILAT SCREENING DIGITAL WITH CAD", "Mammogram", []),
    ("US ABD LIMIT, SINGLE ORGAN", US, [ABD]),
    ("PELVIS U.S., TRANSVAGINAL", US, [PELVIS]),
    ("RENAL U.S.", US, [ABD]),
    ("US CAROTID SERIES COMPLETE", US, [HN]),
    ("DUPLEX DOPP ABD/PEL", US, [ABD]),
    ("ESOPHAGUS (BARIUM SWALLOW)", "Fluoroscopy", []),
    ("VIDEO OROPHARYNGEAL SWALLOW", "Fluoroscopy", []),
    ("UGI AIR W/KUB", "Fluoroscopy", [ABD]),
    ("FLUORO GUIDED LUMBAR PUNCTURE", "Fluoroscopy", [SPINE]),
    ("BREAST SPECIMEN RADIOGRAPH", "Pathology", []),
    ("CHEST (PA AND LAT)", XRAY, [CHEST]),
    ("CHEST (PORTABLE AP)", XRAY, [CHEST]),
    ("L-SPINE (AP & LAT)", XRAY, [SPINE]),
    ("ABDOMEN (SUPINE & ERECT)", XRAY, [ABD]),
    ("KNEE (2 VIEWS) LEFT", XRAY, []),
    ("T SPINE", None, [SPINE]),
    ("NM BONE SCAN WHOLE BODY", None, []),
    ("PET-CT TUMOR IMAGING", None, []),
]


@pytest.mark.parametrize(("exam", "modality", "regions"), EXAMS, ids=[e[0] for e in EXAMS])
def test_exam_rule_tables(exam: str, modality: str | None, regions: list[str]) -> None:
    assert modality_of(exam) == modality
    assert regions_of(exam) == regions


REPORT = """\
EXAMINATION:  CT ABD & PELVIS WITH CONTRAST

INDICATION:  ___ with abdominal pain  // eval

TECHNIQUE:  Axial images after IV contrast.

COMPARISON:  None.

FINDINGS: \n \nLOWER CHEST: Lung bases clear.
ABDOMEN:
LIVER: Normal.   \nBONES: No lesion.



PELVIS: Bladder normal.

IMPRESSION: \n \nNo acute process.

RECOMMENDATION(S):  None.

NOTIFICATION:  Discussed with Dr. ___.
"""


def test_sections_keep_organ_subheadings_inside_findings() -> None:
    parts = sections(REPORT)
    assert parts["FINDINGS"] == (
        "LOWER CHEST: Lung bases clear.\nABDOMEN:\nLIVER: Normal.\nBONES: No lesion.\n\nPELVIS: Bladder normal."
    )
    assert parts["IMPRESSION"] == "No acute process."  # ends at RECOMMENDATION(S)
    assert parts["RECOMMENDATION(S)"] == "None."
    assert parts["NOTIFICATION"] == "Discussed with Dr. ___."
    assert parts["EXAMINATION"] == "CT ABD & PELVIS WITH CONTRAST"


def test_impression_ends_at_notification() -> None:
    parts = sections("FINDINGS: Clear lungs.\nIMPRESSION: Normal.\n NOTIFICATION: Called.")
    assert (parts["FINDINGS"], parts["IMPRESSION"]) == ("Clear lungs.", "Normal.")


def test_discharge_instructions_end_at_followup() -> None:
    note = (
        "Chief Complaint:\nFall\n \nDischarge Instructions:\nDear Mr. ___,\nActivity:\n- Walk.\n\n\n\n \n"
        "Followup Instructions:\n___\n"
    )
    before, section = split_instructions(note)
    assert before == "Chief Complaint:\nFall"
    assert section == "Discharge Instructions:\nDear Mr. ___,\nActivity:\n- Walk."


def write_notes(path: Path, rows: list[dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "wt", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS, restval="")
        writer.writeheader()
        writer.writerows(rows)


def note(note_id: str, text: str, note_type: str = "RR") -> dict[str, str]:
    return {
        "note_id": note_id,
        "subject_id": note_id.split("-")[0],
        "note_type": note_type,
        "note_seq": "1",
        "text": text,
    }


def convert(tmp_path: Path, radiology: Sequence[dict] = (), discharge: Sequence[dict] = ()) -> list[Record | Rejection]:
    if radiology:
        write_notes(tmp_path / "note" / "radiology.csv", list(radiology))
    if discharge:
        write_notes(tmp_path / "note" / "discharge.csv", list(discharge))
    return list(generate(detect_form(SOURCE, tmp_path)))


def test_report_yields_anatomy_task_of_primary_region_and_classifications(tmp_path: Path) -> None:
    items = convert(tmp_path, [note("11-RR-2", REPORT)])
    assert {r.task_id: r.output for r in items} == {
        "mimic_iv_ct_abdomen_summarization": "No acute process.",
        "mimic_iv_modality_classification": "CT",
        "mimic_iv_anatomy_classification": "Abdomen, Pelvis",
    }
    assert {(r.id, r.group, r.locator) for r in items} == {
        (f"{t}:11-RR-2", "11", "note_id=11-RR-2 (line 2)")
        for t in (
            "mimic_iv_ct_abdomen_summarization",
            "mimic_iv_modality_classification",
            "mimic_iv_anatomy_classification",
        )
    }
    assert (
        items[-1].input.startswith("FINDINGS: LOWER CHEST: Lung bases clear.")
        and "\n\nIMPRESSION: No acute" in items[-1].input
    )


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (note("12-RR-1", "EXAMINATION: CHEST (PA AND LAT)\nFINDINGS: Clear.\n"), "no IMPRESSION section"),
        (
            note("12-RR-2", "EXAMINATION: CHEST (PA AND LAT)\nFINDINGS: Clear.\nIMPRESSION:\n \n"),
            "empty IMPRESSION section",
        ),
        (note("12-RR-3", "EXAMINATION: CHEST (PA AND LAT)\nIMPRESSION: Normal.\n"), "no FINDINGS section"),
        (note("12-AR-4", "ADDENDUM: Tiny nodule.\n", "AR"), "addendum (note_type AR), not a report"),
        (
            note("12-RR-5", "EXAMINATION: NM BONE SCAN\nFINDINGS: x\nIMPRESSION: y\n"),
            "exam name matches no modality rule",
        ),
        (note("12-RR-6", "FINDINGS: x\nIMPRESSION: y\n"), "no EXAMINATION section"),
        (note("12/RR/7", "EXAMINATION: CT HEAD\nFINDINGS: x\nIMPRESSION: y\n"), "malformed note_id"),
        (note("", "EXAMINATION: CT HEAD\nFINDINGS: x\nIMPRESSION: y\n"), "missing note_id"),
        (note("12-RR-8", "  \n"), "empty text"),
    ],
)
def test_radiology_quarantine_reasons(tmp_path: Path, row: dict[str, str], reason: str) -> None:
    (item,) = convert(tmp_path, [row])
    assert isinstance(item, Rejection) and item.reason == reason
    assert item.raw_file == "note/radiology.csv"


def test_discharge_without_instructions_is_quarantined(tmp_path: Path) -> None:
    rows = [
        note("13-DS-1", "Chief Complaint:\nCough\n \nFollowup Instructions:\n___\n", "DS"),
        note("13-DS-2", "Chief Complaint:\nCough\nDischarge Instructions:\n \nFollowup Instructions:\n___\n", "DS"),
    ]
    reasons = [(i.reason, i.task_id) for i in convert(tmp_path, discharge=rows)]
    task = "mimic_iv_discharge_instruction_completion"
    assert reasons == [("no Discharge Instructions section", task), ("empty Discharge Instructions section", task)]


@pytest.mark.parametrize("name", ["note/radiology.csv", "radiology.csv.gz", "radiology.csv"])
def test_layouts_give_the_same_records(tmp_path: Path, name: str) -> None:
    rows = [
        note("14-RR-1", REPORT),
        note("15-RR-3", "EXAMINATION:  CHEST (PA AND LAT)\nFINDINGS: Clear.\nIMPRESSION: Ok.\n"),
    ]
    write_notes(tmp_path / "ref" / "note" / "radiology.csv.gz", rows)
    write_notes(tmp_path / "alt" / name, rows)

    def records(root: Path) -> tuple[list[tuple], list[Path]]:
        files = detect_form(SOURCE, root)
        return [(r.id, r.input, r.output, r.locator, r.group) for r in generate(files)], files.paths("radiology")

    ref, ref_paths = records(tmp_path / "ref")
    alt, alt_paths = records(tmp_path / "alt")
    assert ref == alt and len(ref) == 5
    assert [p.name for p in ref_paths] == ["radiology.csv.gz"] and alt_paths == [tmp_path / "alt" / name]


def test_bundled_sample_yields_every_task() -> None:
    items = list(generate(detect_form(SOURCE, SAMPLE)))
    produced = {i.task_id for i in items if isinstance(i, Record)}
    assert produced == {t.id for t in TASKS} and len(TASKS) == 20
    reasons = {i.reason for i in items if isinstance(i, Rejection)}
    assert {
        "addendum (note_type AR), not a report",
        "no IMPRESSION section",
        "no Discharge Instructions section",
    } <= reasons
    ids = [i.id for i in items if isinstance(i, Record)]
    assert len(ids) == len(set(ids))
