"""HoC specifics: the `<`-segmented labels files, the BLURB split index, and the BLURB / BLUE sentence files giving
the same records as the original release."""

from __future__ import annotations

from pathlib import Path

from converters import hoc
from pipeline.model import Record, Rejection, detect_form

DOCS = {  # PMID: (text lines, label segments)
    "11": (
        ["Cells grew fast .", "Apoptosis was blocked ."],
        [" ", "Resisting cell death--Apoptosis AND Sustaining proliferative signaling--"],
    ),
    "12": (["Nothing relevant here ."], [" NULL"]),
    "13": (["One line .", "Two lines ."], ["Inducing angiogenesis--"]),
}
FLAGS = {"11": [{"Resisting cell death", "Sustaining proliferative signaling"}, set()], "12": [set()]}


def release(root: Path, splits: dict[str, list[str]] | None = None) -> list:
    for pmid, (lines, segments) in DOCS.items():
        (root / "text").mkdir(parents=True, exist_ok=True)
        (root / "labels").mkdir(exist_ok=True)
        (root / "text" / f"{pmid}.txt").write_text("".join(f"{s}\n" for s in lines))
        (root / "labels" / f"{pmid}.txt").write_text("".join(f"<{s}" for s in segments))
    for stem, ids in (splits or {}).items():
        (root / "indexing" / "HoC").mkdir(parents=True, exist_ok=True)
        (root / "indexing" / "HoC" / f"{stem}_pmid.tsv").write_text(",".join(f"{i}.txt" for i in ids))
    return list(hoc.generate(detect_form(hoc.SOURCE, root)))


def test_labels_files_become_abstract_records(tmp_path: Path) -> None:
    items = release(tmp_path)
    records = {i.key: i for i in items if isinstance(i, Record)}
    assert records["11"].input == "Cells grew fast. Apoptosis was blocked."
    assert records["11"].output == "Resisting cell death, Sustaining proliferative signaling"
    assert records["12"].output == "None" and records["11"].split is None
    [rejected] = [i for i in items if isinstance(i, Rejection)]
    assert (rejected.reason, rejected.locator) == ("labels and text have different sentence counts", "PMID 13")


def test_blurb_index_gives_official_splits(tmp_path: Path) -> None:
    items = release(tmp_path, {"train": ["11"], "test": ["12"]})
    assert {i.key: i.split for i in items if isinstance(i, Record)} == {"11": "train", "12": "test"}
    absent = [i for i in items if isinstance(i, Rejection) and i.locator == "PMID 13"]
    assert absent[0].reason == "PMID in no split index file" and "dev_pmid.tsv" in absent[0].value


def test_blurb_and_blue_tsv_give_the_same_records(tmp_path: Path) -> None:
    original = [i for i in release(tmp_path / "sb895", {"train": ["11", "13"], "dev": ["12"]}) if isinstance(i, Record)]
    for layout in ("blurb", "blue"):
        root = tmp_path / layout
        root.mkdir()
        for stem, pmids in (("train", ["11"]), ("dev", ["12"])):
            rows = ["labels\tsentence\tindex" if layout == "blurb" else "index\tsentence1\tsentence2\tlabel"]
            for pmid in pmids:
                for i, (line, flags) in enumerate(zip(DOCS[pmid][0], FLAGS[pmid], strict=True)):
                    if layout == "blurb":
                        bits = ",".join(f"{j}_{int(h in flags)}" for j, h in enumerate(hoc.HALLMARKS))
                        rows.append(f"{bits}\t{line}\t{pmid}_s{i}")
                    else:
                        rows.append(f"{pmid}_s{i}\t{line}\t{','.join(sorted(h.lower() for h in flags))}")
            (root / f"{stem}.tsv").write_text("\n".join(rows) + "\n")
        items = list(hoc.generate(detect_form(hoc.SOURCE, root)))
        same = [(r.key, r.input, r.output, r.split) for r in original]
        assert [(r.key, r.input, r.output, r.split) for r in items if isinstance(r, Record)] == same


def test_tsv_row_out_of_order_spoils_its_abstract(tmp_path: Path) -> None:
    bits = ",".join(f"{j}_0" for j in range(10))
    (tmp_path / "test.tsv").write_text(
        f"labels\tsentence\tindex\n{bits}\tA .\t5_s0\n{bits}\tB .\t5_s2\n{bits}\tC .\t6_s0\n"
    )
    items = list(hoc.generate(detect_form(hoc.SOURCE, tmp_path)))
    assert [(i.reason, i.locator) for i in items if isinstance(i, Rejection)] == [
        ("sentence rows missing or out of order", "PMID 5 (from line 2)")
    ]
    assert [(i.key, i.output, i.split) for i in items if isinstance(i, Record)] == [("6", "None", "test")]
