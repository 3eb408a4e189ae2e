"""Example-based synthesis: guided PatchMatch with EM voting (StyLit, keyframe video) and its helpers."""

from .guided import RETRIEVALS, Guide, Synthesis, SynthesisOptions, synthesize, vote
from .patchmatch import patch_descriptors, patch_match

__all__ = ["RETRIEVALS", "Guide", "Synthesis", "SynthesisOptions", "patch_descriptors", "patch_match", "synthesize", "vote"]
