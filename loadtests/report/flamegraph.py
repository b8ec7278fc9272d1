"""Flame graphs as static SVG: readable with no JavaScript, hover titles for the exact figures.

Input is folded stacks, one ``root;…;leaf count`` per distinct stack (what the profile
windows write). Each frame is a rectangle on top of its caller: its width is its share of
the samples, children are ordered by name (not by time), the bottom row is the kind of
thread. A frame's colour is the cause its own name belongs to
(:func:`loadtests.core.native_causes.frame_cause`), with a small shift per name so that
neighbours stay apart. Frames narrower than :data:`MIN_WIDTH_PX` are left out of the
drawing, never out of their callers' widths.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

from loadtests.core.native_causes import cause_family, frame_cause

WIDTH_PX = 1200
ROW_PX = 16
MIN_WIDTH_PX = 0.4
CHAR_PX = 6.4
MAX_DEPTH = 90
LEGEND_PX = 22
TITLE_PX = 28
#: Base colours per cause family (RGB); a frame's name shifts them a little.
COLOURS: dict[str, tuple[int, int, int]] = {
    "refcount-shared": (225, 60, 50),
    "refcount": (240, 140, 130),
    "locks": (150, 90, 200),
    "gc": (240, 150, 40),
    "allocator": (225, 205, 60),
    "eval": (90, 140, 220),
    "interpreter": (150, 165, 185),
    "extension": (90, 185, 110),
    "kernel": (170, 120, 80),
    "libc": (200, 170, 140),
    "unknown": (200, 200, 200),
    "python": (110, 170, 210),
    "thread": (235, 235, 235),
}
LEGEND = ("refcount-shared", "refcount", "locks", "gc", "allocator", "eval", "interpreter", "extension", "kernel")


@dataclass
class Node:
    name: str
    count: int = 0
    children: dict[str, Node] = field(default_factory=dict)

    def child(self, name: str) -> Node:
        found = self.children.get(name)
        if found is None:
            found = self.children[name] = Node(name)
        return found


def parse_folded(lines: Iterable[str]) -> dict[str, int]:
    """``stack count`` lines (blank or malformed ones skipped)."""
    out: dict[str, int] = {}
    for line in lines:
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if stack and count.isdigit():
            out[stack] = out.get(stack, 0) + int(count)
    return out


def tree(stacks: Mapping[str, int]) -> Node:
    root = Node("all")
    for stack, count in stacks.items():
        root.count += count
        node = root
        for frame in stack.split(";")[:MAX_DEPTH]:
            node = node.child(frame)
            node.count += count
    return root


def depth(node: Node, min_count: float = 0.0) -> int:
    """Rows of the drawing: frames of at least ``min_count`` samples (narrower ones are not drawn)."""
    return 1 + max((depth(c, min_count) for c in node.children.values() if c.count >= min_count), default=0)


def colour(name: str, level: int, python: bool) -> str:
    """The frame's fill: the thread row grey, Python frames one hue, native frames by cause."""
    if level == 1:
        base = COLOURS["thread"]
    elif python:
        base = COLOURS["python"]
    else:
        base = COLOURS.get(cause_family(frame_cause(name)), COLOURS["unknown"])
    shift = zlib.crc32(name.encode()) % 25 - 12
    return "rgb({},{},{})".format(*(max(0, min(255, c + shift)) for c in base))


def _label(name: str, width: float) -> str | None:
    room = int((width - 6) / CHAR_PX)
    if room < 3:
        return None
    return name if len(name) <= room else name[: room - 1] + "…"


def render(stacks: Mapping[str, int], title: str, python: bool = False,
           describe: Callable[[str, int, int], str] | None = None) -> str:
    """The SVG document. ``describe(name, samples, total)`` makes a frame's hover title (default: samples, %)."""
    root = tree(stacks)
    total = root.count
    rows = depth(root, MIN_WIDTH_PX * total / (WIDTH_PX - 16)) if total else 1
    legend = 0 if python else LEGEND_PX
    height = TITLE_PX + legend + rows * ROW_PX + 8
    text = describe or (lambda name, n, all_: f"{name}: {n} samples, {n / all_:.1%}")
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH_PX}" height="{height}" '
             f'viewBox="0 0 {WIDTH_PX} {height}" font-family="monospace" font-size="11" role="img">',
             f"<title>{escape(title)}</title>",
             f'<rect width="{WIDTH_PX}" height="{height}" fill="#ffffff"/>',
             f'<text x="{WIDTH_PX / 2}" y="18" text-anchor="middle" font-size="14">{escape(title)}</text>']
    if not python:
        x = 8.0
        for cause in LEGEND:
            r, g, b = COLOURS[cause]
            parts.append(f'<rect x="{x:.0f}" y="{TITLE_PX}" width="12" height="12" fill="rgb({r},{g},{b})"/>'
                         f'<text x="{x + 16:.0f}" y="{TITLE_PX + 10}">{escape(cause)}</text>')
            x += 22 + CHAR_PX * len(cause)
    if not total:
        parts.append(f'<text x="8" y="{TITLE_PX + legend + 14}">no samples</text></svg>')
        return "".join(parts)
    scale = (WIDTH_PX - 16) / total
    bottom = height - 8

    def draw(node: Node, x: float, level: int) -> None:
        width = node.count * scale
        if width < MIN_WIDTH_PX:
            return
        y = bottom - level * ROW_PX
        if level > 0:
            label = _label(node.name, width)
            parts.append(f"<g><title>{escape(text(node.name, node.count, total))}</title>"
                         f'<rect x="{x:.2f}" y="{y:.0f}" width="{width:.2f}" height="{ROW_PX - 1}" '
                         f'fill={quoteattr(colour(node.name, level, python))} rx="2"/>'
                         + (f'<text x="{x + 3:.2f}" y="{y + 11:.0f}">{escape(label)}</text>' if label else "")
                         + "</g>")
        offset = x
        for name in sorted(node.children):
            child = node.children[name]
            draw(child, offset, level + 1)
            offset += child.count * scale

    draw(root, 8.0, 0)
    parts.append("</svg>")
    return "".join(parts)
