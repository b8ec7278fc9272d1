"""The decision of a scenario, in words: the card's first blocks and the terminal's lines.

The verdict, its evidence and what would change it come whole from the analysis
(``analysis/figures/decision.py``); each piece of evidence is said with how it counted.
"""

from __future__ import annotations

from loadtests.analysis.figures.decision import Evidence, ScenarioDecision
from loadtests.report.document import Bullets, Paragraph, slug

WEIGHT_WORDS = {"for": "for moving", "against": "against moving", "blocks": "blocks moving",
                "neutral": "neither way", "unknown": "not measured"}


def evidence_line(e: Evidence) -> str:
    return f"{e.topic} ({WEIGHT_WORDS[e.weight]}): {e.text}"


def decision_blocks(d: ScenarioDecision) -> list[Paragraph | Bullets]:
    """The card's opening: the decision, the evidence it weighed, what would change it."""
    blocks: list[Paragraph | Bullets] = [Paragraph(f"**{d.headline}**: {d.because}."),
                                         Bullets(tuple(evidence_line(e) for e in d.evidence))]
    if d.would_change:
        blocks += [Paragraph("**What would change the answer**:"), Bullets(d.would_change)]
    return blocks


def tone(d: ScenarioDecision) -> str:
    """The card's colour: move, stay or not-yet."""
    return slug(d.verdict)


def terminal_decision(d: ScenarioDecision) -> list[str]:
    """``json: Stay on ...: ...``, what blocks it, and what would change it (the report's card has every piece)."""
    lines = [f"{d.scenario}: {d.sentence}"]
    lines += [f"  - {evidence_line(e)}" for e in d.blockers]
    lines += [f"  would change it: {item}" for item in d.would_change]
    return lines
