"""``gil-lab history`` as a terminal table."""

from __future__ import annotations

from collections.abc import Sequence

from loadtests.core.text import text_table
from loadtests.results.history import HistoryEntry


def render_history(entries: Sequence[HistoryEntry]) -> str:
    """One line per run: date, commit, preset, cells, and the headline speedup per scenario."""
    if not entries:
        return "no runs recorded yet: run `gil-lab compare` (or `gil-lab run`)\n"
    rows = [("date (UTC)", "git", "preset", "cells", "headline 3.14t vs 3.14 (highest users)", "run")]
    for e in entries:
        s = e.summary
        heads = "; ".join(f"{h.scenario}/{h.server} {h.ratio:.2f}× ({h.verdict})" for h in e.headlines) or "—"
        sha = (e.git_sha or "?")[:8] + ("+" if s.get("git_dirty") else "")
        cells = f"{s.get('cells', '?')}" + (f" ({s['invalid_cells']} invalid)" if s.get("invalid_cells") else "")
        if not e.complete:
            cells += " incomplete"
        rows.append((e.created_at.replace("T", " ").rstrip("Z"), sha, e.preset, cells, heads, e.run_id))
    return "\n".join(text_table(rows)) + "\n"
