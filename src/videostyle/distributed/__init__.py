"""Runs beyond one process: :mod:`.ray_runner` (one-pass video on a Ray cluster; extra ``videostyle[ray]``)."""
