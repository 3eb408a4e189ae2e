"""Cutting a clip into overlapping chunks and joining the chunks' results (no Ray needed)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from videostyle.distributed.chunks import Chunk, boundary_and_inside, crossfade, flow_pairs, joined_frames, plan_chunks
from videostyle.errors import VideostyleError


def test_chunks_cover_the_clip_with_the_overlap():
    chunks = plan_chunks(0, 50, 20, 6)
    assert chunks[0].start == 0 and chunks[-1].end == 50
    for earlier, later in itertools.pairwise(chunks):
        assert earlier.end - later.start == 6
    assert all(chunk.end - chunk.start >= 8 for chunk in chunks)


def test_a_short_tail_joins_the_last_chunk_and_a_resume_starts_later():
    assert plan_chunks(0, 21, 20, 6) == [Chunk(0, 21)]
    assert plan_chunks(9, 30, 12, 4) == [Chunk(9, 21), Chunk(17, 30)]
    with pytest.raises(VideostyleError, match="at least 2 frames longer than the overlap"):
        plan_chunks(0, 30, 6, 5)


def test_crossfade_moves_from_the_earlier_chunk_to_the_later():
    black, white = np.zeros((2, 2, 3), np.uint8), np.full((2, 2, 3), 255, np.uint8)
    faded = [int(crossfade(black, white, position, 3)[0, 0, 0]) for position in range(3)]
    assert faded == [64, 128, 191]


def test_joined_frames_are_in_order_with_the_overlap_faded():
    chunks = [Chunk(0, 6), Chunk(4, 10)]
    earlier = {index: np.full((1, 1, 3), 0, np.uint8) for index in range(0, 6)}
    later = {index: np.full((1, 1, 3), 90, np.uint8) for index in range(4, 10)}
    joined = list(joined_frames(chunks, iter([earlier, later]), 2, 0))
    assert [index for index, _ in joined] == list(range(10))
    assert [int(frame[0, 0, 0]) for _, frame in joined] == [0, 0, 0, 0, 30, 60, 90, 90, 90, 90]
    assert [index for index, _ in joined_frames(chunks, iter([earlier, later]), 2, 3)] == list(range(3, 10))  # a resume from frame 3


def test_flow_pairs_stay_inside_the_chunk():
    pairs = flow_pairs(Chunk(10, 13), [1, 2])
    assert pairs == [(10, 11), (11, 10), (11, 12), (12, 11), (10, 12), (12, 10)]


def test_boundary_pairs_are_those_touching_an_overlap():
    errors = [1.0] * 10
    errors[4:7] = [3.0, 3.0, 3.0]  # pairs (4, 5), (5, 6), (6, 7): frames 5 to 7
    assert boundary_and_inside(errors, [Chunk(0, 7), Chunk(5, 11)]) == (3.0, 1.0)
