"""Statistics, comparisons, claims, capacity and diffs: pure functions over results."""
