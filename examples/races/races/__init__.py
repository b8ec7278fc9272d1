"""A small service with two deliberate races, to learn what `gil-lab safety` finds (docs/safety.md)."""
