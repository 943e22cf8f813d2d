"""dlib's descriptor, the second recogniser, on real photos: chips cut from the detector's box,
one person's photos closer than two people's; and the vectors clustering gets from both."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from moviefaces_dag.faces.dlib_descriptor import CHIP_SIZE, DIMENSION, DlibDescriptor
from moviefaces_dag.faces.types import l2_normalize
from moviefaces_dag.people.vectors import combined_id, grouping_vectors

PEOPLE = ("george_w_bush", "tony_blair", "colin_powell")


@pytest.fixture(scope="module")
def descriptors(testdata: Path) -> tuple[list[str], np.ndarray]:
    boxes = json.loads((testdata / "face_boxes.json").read_text())
    model = DlibDescriptor()
    names, chips = [], []
    for person in PEOPLE:
        for n in (1, 2, 3):
            key = f"images/{person}/{n}.jpg"
            x0, y0, x1, y1 = boxes[key]["box"]
            chip = model.chips(cv2.imread(str(testdata / key)), [(x0, y0, x1 - x0, y1 - y0)])
            assert chip[0].shape == (CHIP_SIZE, CHIP_SIZE, 3)
            names.append(person)
            chips += chip
    return names, model.embed(chips)


def test_one_persons_photos_are_closer_than_two_peoples(descriptors) -> None:
    names, vectors = descriptors
    assert vectors.shape == (9, DIMENSION) and vectors.dtype == np.float32
    similarity = l2_normalize(vectors) @ l2_normalize(vectors).T
    same = np.equal.outer(names, names) & ~np.eye(len(names), dtype=bool)
    other = ~np.equal.outer(names, names)
    # dlib's own verification bound: Euclidean distance 0.6 between raw descriptors.
    distance = np.linalg.norm(vectors[:, None] - vectors[None], axis=2)
    assert distance[same].max() < 0.6 < distance[other].min()
    assert similarity[same].min() > similarity[other].max()


def test_grouping_vectors_join_both_and_centre_the_second(descriptors) -> None:
    names, second = descriptors
    first = np.random.default_rng(0).normal(size=(len(names), 128)).astype(np.float32) * 9
    joined = grouping_vectors(first, second, weight=0.6)
    assert joined.shape == (len(names), 128 + DIMENSION)
    assert np.allclose(np.linalg.norm(joined, axis=1), 1.0, atol=1e-5)
    # Centred on the movie's mean, the second half's directions sum to nothing...
    assert np.allclose(joined[:, 128:].sum(axis=0) / np.linalg.norm(joined[:, 128:], axis=1).sum(),
                       0, atol=0.2)
    # ... and the first keeps its direction.
    assert np.allclose(l2_normalize(joined[:, :128]), l2_normalize(first), atol=1e-5)
    assert np.allclose(grouping_vectors(first, None), l2_normalize(first))
    assert combined_id("sface-2021dec-int8bq", "dlib-resnet-v1") == \
        "sface-2021dec-int8bq+dlib-resnet-v1"
    assert combined_id("sface-2021dec-int8bq", None) == "sface-2021dec-int8bq"
