"""Chapter 1 (from logistic regression to a neural network): its class viewer.

The chapter's recorded figures are checked in tests/test_notebooks.py.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # this process only; kernels are untouched

import matplotlib.pyplot as plt
import numpy as np
import pytest
from PIL import Image

from chapter_code import chapter_functions


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def class_viewer():
    return chapter_functions("ch01", "class_viewer")["class_viewer"]


def _darkness(frame) -> float:
    """Mean darkness (0 white to 1 black) of a frame's picture."""
    pixels = np.asarray(Image.open(io.BytesIO(frame.png)).convert("L"), dtype=float)
    return 1 - pixels.mean() / 255


def test_class_viewer_has_one_frame_per_class_and_follows_the_menu(class_viewer):
    names = ["zero", "one", "two", "three"]
    labels = np.arange(40) % 4
    images = np.zeros((40, 28, 28))
    images[labels == 2] = 1.0  # only class 2 is dark (the images are drawn with gray_r) ...
    images[:, 0, 0], images[:, 0, 1] = 1.0, 0.0  # ... once every image spans 0 to 1
    v = class_viewer(images, labels, names, per_class=6)
    assert v.control.options == tuple(names) and len(v.frames) == 4
    assert v.index == 0
    v.control.index = 2
    assert v.index == 2
    assert 'alt="6 example images of class 2, two"' in v.frames[2].value
    # The frame of class 2 shows class 2's images, and only those: it is the dark one.
    darkness = [_darkness(frame) for frame in v.frames]
    assert darkness[2] > 0.2 and max(darkness[:2] + darkness[3:]) < 0.05


def test_class_viewer_draws_a_different_sample_for_another_seed(class_viewer):
    rng = np.random.default_rng(0)
    images, labels = rng.random((60, 28, 28)), np.arange(60) % 2
    a = class_viewer(images, labels, ["even", "odd"], per_class=4, seed=0)
    b = class_viewer(images, labels, ["even", "odd"], per_class=4, seed=1)
    assert a.frames[0].png != b.frames[0].png
    assert a.frames[0].png == class_viewer(images, labels, ["even", "odd"], per_class=4, seed=0).frames[0].png
