"""Chapter 12 (putting it together): the bands of the capstone's recorded figures."""

from __future__ import annotations

from recorded import fig, results_of


def test_the_capstone_reaches_90_percent_on_the_test_set():
    # Claim (issue 7, chapter 12): the combined multilayer perceptron reaches at
    # least 0.90 test accuracy, above the benchmark's best MLPClassifier (0.877).
    acc = fig("ch12", "capstone_test_accuracy")
    assert acc >= 0.90, f"capstone test accuracy {acc:.4f} < 0.90"
    (row,) = results_of("ch12")["sources"]  # the chapter's one comparison: the benchmark's MLP
    assert row["ours"] == acc
    assert acc > row["source_figure"] == 0.877


def test_the_combined_network_beats_the_baseline_on_validation():
    # Claim: the techniques together beat chapter 2's network trained with the
    # same stopping rule by a clear margin (more than one point).
    assert fig("ch12", "capstone_val_accuracy") - fig("ch12", "baseline_val_accuracy") > 0.01


def test_test_and_validation_agree():
    # Claim: choosing settings on 12,000 validation images does not flatter the
    # model much: test and validation accuracy are within a point.
    gap = fig("ch12", "capstone_val_accuracy") - fig("ch12", "capstone_test_accuracy")
    assert abs(gap) < 0.01


def test_early_stopping_kept_an_earlier_epoch():
    # Claim: the run stops some epochs after its best validation loss (patience 6).
    epochs, best = fig("ch12", "capstone_epochs"), fig("ch12", "capstone_best_epoch")
    assert best < epochs <= 60
    assert epochs - best == 6 or epochs == 60


def test_the_hardest_class_is_well_below_the_average():
    # Claim: the errors concentrate in one class (shirts), far below the mean.
    assert fig("ch12", "worst_class_accuracy") < fig("ch12", "capstone_test_accuracy") - 0.1


def _normalise(text: str) -> str:
    import re
    return re.sub(r"\s+", " ", re.sub(r"[`*]", "", text)).strip().lower()


def test_quiz_answers_page_matches_the_chapters_quiz():
    # Claim: the appendix "Quiz answers" gives, for chapter 12, the notebook's questions
    # in the notebook's order, each with the option the notebook marks right.
    import ast
    import json
    import re
    from pathlib import Path

    book = Path(__file__).resolve().parent.parent / "book"
    (path,) = book.glob("ch12_*.ipynb")
    quizzes = []
    for cell in json.loads(path.read_text())["cells"]:
        src = "".join(cell["source"])
        if cell["cell_type"] == "code" and src.lstrip().startswith("quiz("):
            call = ast.parse(src).body[0].value
            question, options, answer = (ast.literal_eval(a) for a in call.args[:3])
            quizzes.append((question, options[answer]))
    page = (book / "appendix" / "quiz_answers.md").read_text()
    section = page[page.index("## Chapter 12"):]
    entries = re.split(r"\n\d+\. ", "\n" + section.split("\n", 2)[2])[1:]
    assert len(quizzes) >= 4 and len(entries) == len(quizzes)
    for (question, right), entry in zip(quizzes, entries):
        text = _normalise(entry)
        assert _normalise(question)[:60] in text, question
        assert _normalise(right)[:40] in text, right


def test_the_final_model_file_lives_in_a_folder_that_is_deleted():
    # Claim: the chapter's temporary folder is really deleted (a with-block), not only promised.
    import json
    from pathlib import Path

    book = Path(__file__).resolve().parent.parent / "book"
    (path,) = book.glob("ch12_*.ipynb")
    code = "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"]
                     if c["cell_type"] == "code")
    assert "with tempfile.TemporaryDirectory(" in code
    assert "tempfile.TemporaryDirectory(prefix" not in code.replace("with tempfile.TemporaryDirectory(prefix", "")
