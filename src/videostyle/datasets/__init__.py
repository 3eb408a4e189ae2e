"""Test sequences with exact ground truth (optical flow and occlusions)."""

from .layered import GroundTruthSequence, generate_sequence, write_sequence

__all__ = ["GroundTruthSequence", "generate_sequence", "write_sequence"]
