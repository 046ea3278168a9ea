"""Medical Meadow WikiDoc (Han et al., medAlpaca, 2023): question-answer pairs from WikiDoc, in two datasets
that are two tasks here.

- `medical_meadow_wikidoc.json` (HF medalpaca/medical_meadow_wikidoc, 10,000 pairs): paragraphs of the WikiDoc
  "Living Textbook" as answers, their headings rephrased into questions by GPT-3.5 (about 30% noisy according
  to the authors) -> `wikidoc_textbook_qa`;
- `medical_meadow_wikidoc_patient_information.json` (HF medalpaca/medical_meadow_wikidoc_patient_information,
  5,942 pairs): WikiDoc "Patient Information" pages, whose section headings already are questions
  -> `wikidoc_patient_information_qa`. The medAlpaca GitHub repository ships a file `medical_meadow_small.json`
  (5,942 items, all with this layout and questions such as "What causes Allergy?"): it is, very probably,
  this same dataset and is accepted as it (not verified item by item).

Both are JSON lists of `{"instruction": "Answer this question truthfully", "input": question, "output": answer}`,
streamed with ijson (medical_meadow_small.json is 4-space indented with ASCII escapes; the Hugging Face files
could not be checked here and are assumed alike, only the JSON structure matters). Some answers hold
Windows-1252 mojibake ("Â°F"), which is repaired. One instance per item:
- input: the question alone. It is self-contained, and the constant `instruction` is replaced by the task's
  seed instructions, so a `forms.fields(question=...)` label would add nothing;
- output: the answer (its line breaks kept).
No official split (split=None). Items carry no id: the key is a hash of question and answer, the locator the
item's 1-based position in its list; answers to the same question share a group. Quarantined: an item that is
not an object, a missing/empty/non-string question or answer, a non-UTF-8 byte, an exact repeat of an earlier
item. A file that is not a JSON list or breaks off raises ValueError naming it.
"""

from __future__ import annotations

from collections.abc import Iterator

from pipeline.model import Download, Item, RawFile, RawFiles, RawForm, Source, Task
from pipeline.readers import qa_pairs

_TEXTBOOK = "medical_meadow_wikidoc.json"
_PATIENT = "medical_meadow_wikidoc_patient_information.json"

SOURCE = Source(
    id="wikidoc",
    name="Medical Meadow WikiDoc",
    homepage="https://huggingface.co/datasets/medalpaca/medical_meadow_wikidoc",
    license="unspecified (HF card); medAlpaca repository GPL-3.0",
    access="open",
    citation=(
        "Han T, Adams LC, Papaioannou JM, et al. (2023). MedAlpaca: An Open-Source Collection of Medical "
        "Conversational AI Models and Training Data. arXiv:2304.08247."
    ),
    obtain=(
        f"Download {_TEXTBOOK} from https://huggingface.co/datasets/medalpaca/medical_meadow_wikidoc and {_PATIENT} "
        "from https://huggingface.co/datasets/medalpaca/medical_meadow_wikidoc_patient_information (Files tab); "
        "medical_meadow_small.json of https://github.com/kbressem/medAlpaca is accepted for the latter."
    ),
    forms=(
        RawForm(
            "json",
            (
                RawFile(
                    "textbook",
                    (_TEXTBOOK, f"medical_meadow_wikidoc/{_TEXTBOOK}"),
                    required=False,
                    description="Living Textbook QA (10,000 items)",
                ),
                RawFile(
                    "patient_information",
                    (
                        _PATIENT,
                        f"medical_meadow_wikidoc_patient_information/{_PATIENT}",
                        "medical_meadow_small.json",
                        "medAlpaca/medical_meadow_small.json",
                    ),
                    required=False,
                    description="Patient Information QA (5,942 items)",
                ),
            ),
            "the Hugging Face JSON files (any subset)",
        ),
    ),
    downloads=(
        Download(hf_dataset="medalpaca/medical_meadow_wikidoc", files=("medical_meadow_wikidoc.json",)),
        Download(
            hf_dataset="medalpaca/medical_meadow_wikidoc_patient_information",
            files=("medical_meadow_wikidoc_patient_information.json",),
        ),
    ),
)

KNOWLEDGE = "Medical Knowledge"
TASKS = (
    Task(
        "wikidoc_textbook_qa",
        "Question Answering",
        KNOWLEDGE,
        tags=("WikiDoc", "Living Textbook"),
        several_outputs=True,
    ),
    Task(
        "wikidoc_patient_information_qa",
        "Question Answering",
        KNOWLEDGE,
        tags=("WikiDoc", "Patient Information"),
        several_outputs=True,
    ),
)
TASK_OF = {"textbook": TASKS[0].id, "patient_information": TASKS[1].id}


def generate(files: RawFiles) -> Iterator[Item]:
    for raw, task in TASK_OF.items():
        for path in files.paths(raw):
            yield from qa_pairs(task, path, files.relative(path))
