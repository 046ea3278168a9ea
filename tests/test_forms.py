"""The shared task forms: every converter's multiple choice, entity list and label look the same."""

from __future__ import annotations

import pytest

from pipeline import forms


def test_multiple_choice_lists_options_under_the_question() -> None:
    text = forms.multiple_choice("Which drug?", {"a": "Aspirin", "b": "Heparin"}, context="A 60-year-old man...")
    assert text == "A 60-year-old man...\n\nWhich drug?\nA. Aspirin\nB. Heparin"
    assert forms.choice_answer("b", {"a": "Aspirin", "b": "Heparin"}) == "B. Heparin"
    assert forms.choice_answer("C.", ["x", "y", "z"]) == "C. z"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: forms.choice_answer("E", ["x", "y"]), "answer 'E' is not among the options A, B"),
        (lambda: forms.multiple_choice("Q?", ["only one"]), "at least 2 options"),
        (lambda: forms.multiple_choice("Q?", ["x", " "]), "empty option B"),
        (lambda: forms.label("maybe", ("yes", "no")), "label 'maybe' is not one of yes, no"),
        (lambda: forms.labels(["c"], ("a", "b")), "labels ['c'] are not in the task's set"),
        (lambda: forms.dialogue([("Patient", " ")]), "empty conversation"),
        (lambda: forms.fields(question=""), "no input text"),
    ],
)
def test_unformable_records_raise_form_error_with_the_reason(call, message: str) -> None:
    with pytest.raises(forms.FormError, match=message.replace("[", r"\[").replace("]", r"\]")):
        call()


def test_entities_keep_first_appearance_order_without_repeats() -> None:
    assert forms.entities(["aspirin", "heparin", "aspirin", "  warfarin  "]) == "aspirin, heparin, warfarin"
    assert forms.entities([]) == "There is no related entity."


def test_labels_follow_the_task_order_and_fields_name_their_parts() -> None:
    assert forms.labels(["Pelvis", "Abdomen"], ("Chest", "Abdomen", "Pelvis")) == "Abdomen, Pelvis"
    assert forms.fields(claim="Tea  cures\tflu", evidence=None, context="Line 1\nLine 2") == (
        "Claim: Tea cures flu\nContext: Line 1\nLine 2"
    )
    assert forms.dialogue([("Patient", "I have a cough."), ("Doctor", "Since when?")]) == (
        "Patient: I have a cough.\n\nDoctor: Since when?"
    )


def test_attributes_keep_names_as_written_and_skip_empty_values() -> None:
    text = forms.attributes(
        [("ER Status Recode Breast Cancer (1990+)", "Positive"), ("Age", " 61  years"), ("Grade", "")]
    )
    assert text == "ER Status Recode Breast Cancer (1990+): Positive\nAge: 61 years"
    with pytest.raises(forms.FormError, match="no attribute has a value"):
        forms.attributes([("Grade", " ")])
