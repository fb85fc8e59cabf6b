"""Chapter 12 (putting it together): the protocol's recorded figures and the claims the text draws from them.

The protocol (issue 18): choose between candidates on the validation set (3 seeds each, each
seed at its own best epoch), retrain the chosen one on all 60,000 labelled images for a number
of epochs fixed by the validation runs, evaluate each final model on the test set once.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from recorded import fig, results_of

BOOK = Path(__file__).resolve().parent.parent / "book"
RATES = {0.2: "rate02", 0.3: "rate03"}
# The book's measured machine-to-machine spread (appendix "How to run the book"): the first
# version of the capstone, one model, scored 0.9018 on one machine and 0.8962 on another.
MACHINE_SPREAD = 0.9018 - 0.8962


def _spread(name: str) -> dict[str, float]:
    return {stat: fig("ch12", f"{name}_{stat}") for stat in ("mean", "sd", "low", "high")}


def _code() -> list[str]:
    (path,) = BOOK.glob("ch12_*.ipynb")
    return ["".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]


def _markdown() -> str:
    (path,) = BOOK.glob("ch12_*.ipynb")
    return "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"]
                     if c["cell_type"] == "markdown")


def test_the_spreads_are_consistent():
    # Every recorded spread is a spread: low <= mean <= high, sd >= 0 (three seeds each).
    for name in ("baseline_val_accuracy", "test_accuracy", "test_loss",
                 *(f"val_{m}_{k}" for m in ("accuracy", "loss") for k in RATES.values())):
        s = _spread(name)
        assert s["low"] <= s["mean"] <= s["high"] and s["sd"] >= 0, name


def test_the_chosen_candidate_has_the_higher_mean_validation_accuracy():
    # Claim: the protocol takes the candidate with the highest mean validation accuracy.
    chosen = fig("ch12", "chosen_rate")
    means = {rate: fig("ch12", f"val_accuracy_{key}_mean") for rate, key in RATES.items()}
    assert chosen == max(means, key=means.get)


def test_the_two_dropout_rates_show_no_measurable_difference():
    # Claim (text, summary): the ranges of the two candidates overlap, in validation accuracy
    # and in validation loss: no difference we can measure at this size (3 seeds).
    for metric in ("accuracy", "loss"):
        a, b = _spread(f"val_{metric}_rate02"), _spread(f"val_{metric}_rate03")
        assert a["low"] <= b["high"] and b["low"] <= a["high"], metric


def test_the_combined_network_beats_the_baseline_on_validation():
    # Claim: every seed of either candidate is above every seed of chapter 2's baseline,
    # by more than a point on the means.
    base = _spread("baseline_val_accuracy")
    for key in RATES.values():
        cand = _spread(f"val_accuracy_{key}")
        assert cand["low"] > base["high"], key
        assert cand["mean"] - base["mean"] > 0.01, key


def test_the_final_epochs_come_from_the_validation_runs():
    # Claim: the final models train for the chosen candidate's mean best epoch, rounded,
    # and the best epochs lie at or near the end of the 12-epoch schedule.
    key = RATES[fig("ch12", "chosen_rate")]
    mean_best = fig("ch12", f"mean_best_epoch_{key}")
    assert fig("ch12", "final_epochs") == round(mean_best)
    assert fig("ch12", "epochs") == 12
    for k in RATES.values():
        assert 11 <= fig("ch12", f"mean_best_epoch_{k}") <= 12


def test_the_capstone_reaches_90_percent_on_the_test_set():
    # Claim (headline): the mean test accuracy of the three final models is at least 0.90,
    # above the benchmark's best MLPClassifier (0.877); the reproduction row shows that mean.
    acc = _spread("test_accuracy")
    assert acc["mean"] >= 0.90, f"mean capstone test accuracy {acc['mean']:.4f} < 0.90"
    (row,) = results_of("ch12")["sources"]  # the chapter's one comparison: the benchmark's MLP
    assert row["ours"] == acc["mean"]
    assert acc["low"] > row["source_figure"] == 0.877


def test_the_margin_over_90_percent_is_below_the_machine_spread():
    # Claim: the mean clears 0.90 by far less than the half point measured between machines,
    # which is why the text reads it as "about 90 %".
    assert 0 <= fig("ch12", "test_accuracy_mean") - 0.90 < MACHINE_SPREAD / 2


def test_test_and_validation_agree():
    # Claim: the mean test accuracy lies within the range of the chosen candidate's
    # validation accuracies (choosing between two candidates did not flatter it).
    val = _spread(f"val_accuracy_{RATES[fig('ch12', 'chosen_rate')]}")
    assert val["low"] <= fig("ch12", "test_accuracy_mean") <= val["high"]


def test_the_final_models_are_closer_together_than_the_validation_runs():
    # Claim: the three final models' test accuracies span less than the chosen candidate's
    # validation runs (the text warns not to read this as precision).
    test = _spread("test_accuracy")
    val = _spread(f"val_accuracy_{RATES[fig('ch12', 'chosen_rate')]}")
    assert test["high"] - test["low"] < val["high"] - val["low"]


def test_the_hardest_class_is_well_below_the_average():
    # Claim: the errors concentrate in one class (shirts), far below the mean.
    assert fig("ch12", "worst_class_accuracy") < fig("ch12", "test_accuracy_mean") - 0.1


def test_most_mistakes_are_shared_by_the_seeds():
    # Claim (exercise 1): the share missed by all three models is below each model's error,
    # the share missed by at least one above it, and closer to 10 % than to 30 %.
    error_low, error_high = 1 - fig("ch12", "test_accuracy_high"), 1 - fig("ch12", "test_accuracy_low")
    assert fig("ch12", "wrong_by_all") < error_low <= error_high < fig("ch12", "wrong_by_any") < 0.2


def test_the_test_set_is_used_only_after_the_choice():
    # The protocol in code: no cell before the final models are trained touches the test
    # images, and each final model is evaluated on them once.
    code = _code()
    final = next(i for i, src in enumerate(code) if "final_runs = repeat(" in src)
    chosen = next(i for i, src in enumerate(code) if re.search(r"^chosen = ", src, re.M))
    assert chosen < final
    assert not any("x_test" in src for src in code[:final + 1])
    evaluations = [src for src in code if re.search(r"\.evaluate\(fm\.x_test", src)]
    assert len(evaluations) == 1 and "for model in finals" in evaluations[0]


def test_no_decision_is_credited_to_a_test_score():
    # The earlier edition widened its network after a test score on another machine; the
    # chapter and the appendix no longer say so, and the chapter states the protocol.
    running = (BOOK / "appendix" / "running.md").read_text()
    assert "why chapter 12 now uses a wider network" not in running
    text = _markdown()
    assert "doubled the width" not in text and "## The protocol" in text


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[`*]", "", text)).strip().lower()


def test_quiz_answers_page_matches_the_chapters_quiz():
    # Claim: the appendix "Quiz answers" gives, for chapter 12, the notebook's questions
    # in the notebook's order, each with the option the notebook marks right.
    import ast

    quizzes = []
    for src in _code():
        if src.lstrip().startswith("quiz("):
            call = ast.parse(src).body[0].value
            question, options, answer = (ast.literal_eval(a) for a in call.args[:3])
            quizzes.append((question, options[answer]))
    page = (BOOK / "appendix" / "quiz_answers.md").read_text()
    section = page[page.index("## Chapter 12"):]
    entries = re.split(r"\n\d+\. ", "\n" + section.split("\n", 2)[2])[1:]
    assert len(quizzes) >= 4 and len(entries) == len(quizzes)
    for (question, right), entry in zip(quizzes, entries):
        text = _normalise(entry)
        assert _normalise(question)[:60] in text, question
        assert _normalise(right)[:40] in text, right


def test_the_final_model_file_lives_in_a_folder_that_is_deleted():
    # Claim: the chapter's temporary folder is really deleted (a with-block), not only promised.
    code = "\n".join(_code())
    assert "with tempfile.TemporaryDirectory(" in code
    assert "tempfile.TemporaryDirectory(prefix" not in code.replace("with tempfile.TemporaryDirectory(prefix", "")
