"""Medical Meadow Medical Flashcards (Han et al., medAlpaca, 2023): Anki flashcards of the medical curriculum,
rephrased into question-answer pairs by GPT-3.5-turbo (cards with images removed).

Read: `medical_meadow_wikidoc_medical_flashcards.json` from the Hugging Face dataset
medalpaca/medical_meadow_medical_flashcards (the only distribution; 33,955 items), a JSON list of
`{"instruction": "Answer this question truthfully", "input": question, "output": answer}`, streamed with
ijson. The file's exact whitespace could not be checked here; the bundled sample uses the 4-space indented,
ASCII-escaped layout of the other medAlpaca files (only the JSON structure matters to the converter).

Task `medalpaca_flashcard_qa`, one instance per item:
- input: the question alone: it is self-contained, and the constant `instruction` is replaced by the task's
  seed instructions;
- output: the answer, usually one or two sentences.
No official split (split=None). Items carry no id: the key is a hash of question and answer, the locator the
item's 1-based position in the list; answers to the same question share a group. Quarantined: an item that
is not an object, a missing/empty/non-string question or answer (some cards have an empty `input`), a
non-UTF-8 byte, an exact repeat of an earlier item. A file that is not a JSON list or breaks off raises
ValueError naming it.
"""

from __future__ import annotations

from collections.abc import Iterator

from pipeline.model import Download, Item, RawFile, RawFiles, RawForm, Source, Task
from pipeline.readers import qa_pairs

_FILE = "medical_meadow_wikidoc_medical_flashcards.json"

SOURCE = Source(
    id="medalpaca_flashcards",
    name="Medical Meadow Medical Flashcards",
    homepage="https://huggingface.co/datasets/medalpaca/medical_meadow_medical_flashcards",
    license="unspecified",
    access="open",
    citation=(
        "Han T, Adams LC, Papaioannou JM, et al. (2023). MedAlpaca: An Open-Source Collection of Medical "
        "Conversational AI Models and Training Data. arXiv:2304.08247."
    ),
    obtain=f"Download {_FILE} from https://huggingface.co/datasets/medalpaca/medical_meadow_medical_flashcards.",
    forms=(
        RawForm(
            "json",
            (
                RawFile(
                    "flashcards",
                    (_FILE, f"medical_meadow_medical_flashcards/{_FILE}"),
                    description="33,955 rephrased flashcards {instruction, input, output}",
                ),
            ),
            "the Hugging Face JSON file",
        ),
    ),
    downloads=(
        Download(
            hf_dataset="medalpaca/medical_meadow_medical_flashcards",
            files=("medical_meadow_wikidoc_medical_flashcards.json",),
        ),
    ),
)

TASKS = (
    Task(
        "medalpaca_flashcard_qa",
        "Question Answering",
        "Medical Knowledge",
        tags=("Flashcards", "Anki"),
        several_outputs=True,
    ),
)


def generate(files: RawFiles) -> Iterator[Item]:
    path = files.path("flashcards")
    yield from qa_pairs(TASKS[0].id, path, files.relative(path))
