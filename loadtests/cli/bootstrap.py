"""``python3 -m loadtests.cli.bootstrap``: set-up with nothing but a system Python.

``make setup`` runs this with whatever ``python3`` the machine has, because the
control-plane venv (and so the ``gil-lab`` command) does not exist yet. It uses only
the standard library. Once set up, ``.venv/bin/gil-lab`` offers the same commands.
"""

from __future__ import annotations

import argparse
import sys

from loadtests.core.errors import LabError
from loadtests.provision.interpreters import ResolveOptions


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python3 -m loadtests.cli.bootstrap",
        description="Provision both interpreters (find or build them) and the lab's environments.",
        epilog="Environment: LAB_PYTHON_GIL, LAB_PYTHON_FT (explicit interpreters), CPYTHON_SOURCE "
        "(tarball to build from), CPYTHON_SHA256, LAB_CPYTHON_OPTIMIZED=1 (PGO+LTO), LAB_UV_INSTALL=0, "
        "LAB_CPYTHON_DOWNLOAD=0, LAB_CPYTHON_MIRROR, LAB_CACHE_DIR, LAB_INSTALLER=auto|uv|pip. See docs/setup.md.",
    )
    sub = p.add_subparsers(dest="command", required=True)
    for name, text in (("setup", "find or build interpreters, then sync environments"),
                       ("lock", "set up, then regenerate locks/*.txt against the real interpreters")):
        cmd = sub.add_parser(name, help=text, description=text)
        cmd.add_argument("--python-gil", help="path to a standard CPython 3.14 (overrides LAB_PYTHON_GIL)")
        cmd.add_argument("--python-ft", help="path to a free-threaded CPython 3.14t (overrides LAB_PYTHON_FT)")
        cmd.add_argument("--force", action="store_true", help="re-sync environments even if nothing changed")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    explicit = {role: path for role, path in (("gil", args.python_gil), ("ft", args.python_ft)) if path}
    options = ResolveOptions.from_env(explicit=explicit)
    try:
        if args.command == "lock":
            from loadtests.provision import envs
            from loadtests.provision.interpreters import resolve

            for path in envs.lock(resolve(options)):
                print(f"    wrote {path}")
            return 0
        from loadtests.provision.provisioning import provision

        provision(options, force_sync=args.force)
    except LabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
