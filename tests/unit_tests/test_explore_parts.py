"""Parts of the explore page that the built-in tabular tasks do not reach: text and images."""

from __future__ import annotations

import numpy as np
import pandas as pd

from harness.results import plots
from harness.results.explore import image_samples, top_tokens

PNG = b"\x89PNG\r\n\x1a\n"


def test_top_tokens_rank_words_by_lift_within_each_class():
    texts = pd.Series(
        [
            "great food",
            "great service",
            "great place",
            "awful food",
            "awful wait",
            "awful noise",
            "food",
        ]
    )
    labels = pd.Series(["pos", "pos", "pos", "neg", "neg", "neg", "pos"])
    rows = top_tokens(texts, labels, classification=True)
    first = {label: next(r for r in rows if r[0] == label) for label in ("neg", "pos")}
    assert first["neg"][1] == "awful" and first["pos"][1] == "great"
    assert all(r[1] != "food" or float(r[3]) < 1.5 for r in rows)  # food is in both classes


def test_square_pixel_columns_of_an_image_task_become_sample_images():
    pixels = pd.DataFrame(np.arange(5 * 16).reshape(5, 16), columns=[f"p{i}" for i in range(16)])
    samples = image_samples(pixels, pd.Series(list("abcde")), {}, "image")
    assert len(samples) == 5 and samples[0][0].shape == (4, 4) and samples[0][1] == "a"
    assert plots.images(samples, "Sample images")[:8] == PNG
    arrays = pd.DataFrame({"img": [np.ones(9), np.zeros(9)]})
    found = image_samples(arrays, pd.Series([1, 0]), {"img": "image"}, "image")
    assert [s[0].shape for s in found] == [(3, 3), (3, 3)]
