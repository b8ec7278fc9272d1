"""Which runs may be compared or pooled: those whose controlled conditions match.

A figure depends on more than the code under test: the machine it ran on (CPU model,
microcode, the cores the lab could use), how the servers loaded their modules (the
bytecode state, which moves 3.14t's figures by a quarter on compute) and the window
design (window and transition lengths). The lab controls these and records them. Two
runs that differ in one of them measured different things, so, as pyperf refuses to add
a run with different metadata to a benchmark, ``diff --fail-above`` refuses to gate
them, and the history's change points never pool them into one reference: each set of
conditions is a series of its own. What a change is *meant* to move (the lab's commit,
the interpreter builds, package versions) is not a condition: ``diff`` warns about it.
"""

from __future__ import annotations

from loadtests.results.records import RunRecord


def conditions(run: RunRecord) -> dict[str, str]:
    """The controlled conditions of a run, as names and printable values."""
    machine = run.machine
    out = {"CPU model": machine.cpu_model, "usable cores": str(machine.usable_cores),
           "window": f"{run.settings.duration_s:g} s", "transition": f"{run.settings.plan.transition_s:g} s"}
    if machine.microcode:
        out["microcode"] = machine.microcode
    for label in sorted(run.bytecode):
        out[f"bytecode of {label}"] = run.bytecode[label].state
    return out


def fingerprint(run: RunRecord) -> str:
    """The conditions as one stable string: runs with equal fingerprints may be pooled."""
    return "; ".join(f"{k}={v}" for k, v in sorted(conditions(run).items()))


def unlike(a: RunRecord, b: RunRecord) -> list[str]:
    """Every controlled condition that differs between runs A and B (empty: they may be compared)."""
    ca, cb = conditions(a), conditions(b)
    return [f"{name}: {ca.get(name, 'not recorded')} in A, {cb.get(name, 'not recorded')} in B"
            for name in sorted(set(ca) | set(cb)) if ca.get(name) != cb.get(name)]
