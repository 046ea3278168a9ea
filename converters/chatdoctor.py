"""ChatDoctor (Li et al., Cureus 2023): patient-doctor exchanges collected or generated to fine-tune a medical
chat model. Three JSON lists, each the source of one task; any subset may be present:

- `chatdoctor5k.json` (GenMedGPT-5k, 5,452 ChatGPT-generated dialogues built from the repository's disease
  database; in github.com/Kent0n-Li/ChatDoctor, also shared as GenMedGPT-5k.json) -> `chatdoctor_conversation`;
- `HealthCareMagic-100k.json` (real exchanges from HealthCareMagic.com; Google Drive link in the README)
  -> `chatdoctor_healthcaremagic_conversation`;
- `iCliniq.json` (real exchanges from icliniq.com; Google Drive link "icliniq-10k")
  -> `chatdoctor_icliniq_conversation`.

GenMedGPT-5k and HealthCareMagic-100k items are `{"instruction", "input", "output"}`, the instruction being the
same constant sentence; chatdoctor5k.json is written with CRLF line endings and 6/12-space indentation. iCliniq
items are `{"input", "answer_icliniq", "answer_chatgpt", "answer_chatdoctor"}`: the real doctor's answer and
two model answers. Files are streamed with ijson (a UTF-8 BOM is tolerated); Windows-1252 mojibake such as
"Iâ€™ve" is repaired. The layout of the two Drive files
could not be checked here; only their JSON structure matters to the converter.

Each task, one instance per item:
- input: `forms.dialogue([("Patient", input)])`, the patient's message as one turn;
- output: the doctor's reply: `output`, or for iCliniq `answer_icliniq` (the model answers are not used).
No official split (split=None). Items carry no id: the key is a hash of patient message and reply, the
locator the item's 1-based position in its list; replies to the same message share a group. Quarantined:
an item that is not an object, a missing/empty/non-string message or reply, a non-UTF-8 byte, an exact
repeat of an earlier item. A file that is not a JSON list or breaks off raises ValueError naming it.
The disease database `format_dataset.csv` feeds no task and is not read.
"""

from __future__ import annotations

from collections.abc import Iterator

from pipeline import forms
from pipeline.model import Download, Item, RawFile, RawFiles, RawForm, Source, Task
from pipeline.readers import qa_pairs

SOURCE = Source(
    id="chatdoctor",
    name="ChatDoctor (HealthCareMagic-100k, iCliniq)",
    homepage="https://github.com/Kent0n-Li/ChatDoctor",
    license="Apache-2.0 (repository); data terms unspecified",
    access="open",
    citation=(
        "Li Y, Li Z, Zhang K, et al. (2023). ChatDoctor: A Medical Chat Model Fine-Tuned on a Large Language "
        "Model Meta-AI (LLaMA) Using Medical Domain Knowledge. Cureus."
    ),
    obtain=(
        "chatdoctor5k.json (GenMedGPT-5k) is in https://github.com/Kent0n-Li/ChatDoctor; HealthCareMagic-100k.json "
        "and iCliniq.json are Google Drive downloads linked from its README. Put any of them in the raw folder."
    ),
    forms=(
        RawForm(
            "json",
            (
                RawFile(
                    "genmedgpt",
                    ("chatdoctor5k.json", "GenMedGPT-5k.json"),
                    required=False,
                    description="GenMedGPT-5k: 5,452 generated dialogues {instruction, input, output}",
                ),
                RawFile(
                    "healthcaremagic",
                    ("HealthCareMagic-100k.json",),
                    required=False,
                    description="HealthCareMagic-100k: real dialogues {instruction, input, output} (Google Drive)",
                ),
                RawFile(
                    "icliniq",
                    ("iCliniq.json", "icliniq.json"),
                    required=False,
                    description="iCliniq: real dialogues {input, answer_icliniq, answer_chatgpt, answer_chatdoctor}",
                ),
            ),
            "the JSON lists of the ChatDoctor release (any subset)",
        ),
    ),
    # GenMedGPT-5k from the official repository (pinned commit). HealthCareMagic-100k.json and iCliniq.json are
    # Google Drive links only: obtained by hand.
    downloads=(
        Download(
            "https://raw.githubusercontent.com/Kent0n-Li/ChatDoctor/"
            "e77bd7ebafbffb6d82be3410cd0d4ebebe75a516/chatdoctor5k.json",
            "chatdoctor5k.json",
            sha256="780c1a6aa67d461359ac220c120134429290b1e340545c3ad8954e1aa235d80f",
            size=3076507,
        ),
    ),
)

DAILY = "Daily Conversation"
TASKS = (
    Task(
        "chatdoctor_conversation", "Dialogue", DAILY, tags=("Generated Dialogue", "GenMedGPT-5k"), several_outputs=True
    ),
    Task(
        "chatdoctor_healthcaremagic_conversation",
        "Dialogue",
        DAILY,
        tags=("Online Consultation", "HealthCareMagic"),
        several_outputs=True,
    ),
    Task(
        "chatdoctor_icliniq_conversation",
        "Dialogue",
        DAILY,
        tags=("Online Consultation", "iCliniq"),
        several_outputs=True,
    ),
)

#: raw file -> (task, field with the patient's message, field with the doctor's reply)
LAYOUT = {
    "genmedgpt": (TASKS[0].id, "input", "output"),
    "healthcaremagic": (TASKS[1].id, "input", "output"),
    "icliniq": (TASKS[2].id, "input", "answer_icliniq"),
}


def generate(files: RawFiles) -> Iterator[Item]:
    for raw, (task, message, reply) in LAYOUT.items():
        for path in files.paths(raw):
            yield from qa_pairs(task, path, files.relative(path), message, reply, _patient_turn)


def _patient_turn(message: str) -> str:
    return forms.dialogue([("Patient", message)])
