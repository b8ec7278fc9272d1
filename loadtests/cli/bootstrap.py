"""``python3 -m loadtests.cli.bootstrap``: set-up (and clean-up) with nothing but a system Python.

``make setup`` runs this with whatever ``python3`` the machine has, because the
control-plane venv (and so the ``gil-lab`` command) does not exist yet. It uses only
the standard library. Once set up, ``.venv/bin/gil-lab`` offers the same commands.
"""

from __future__ import annotations

import argparse
import sys

from loadtests.core.errors import LabError
from loadtests.provision.interpreters import ResolveOptions
from loadtests.workflow.clean import PARTS, choose_parts, clean


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python3 -m loadtests.cli.bootstrap",
        description="Provision both interpreters (find or build them) and the lab's environments.",
        epilog="Environment: LAB_PYTHON_GIL, LAB_PYTHON_FT (explicit interpreters), LAB_CPYTHON_SOURCE "
        "(tarball to build from), LAB_CPYTHON_SHA256, LAB_CPYTHON_OPTIMIZED=1 (PGO+LTO), LAB_UV_INSTALL=0, "
        "LAB_CPYTHON_DOWNLOAD=0, LAB_CPYTHON_MIRROR, LAB_CACHE_DIR, LAB_INSTALLER=auto|uv|pip. See docs/setup.md.",
    )
    sub = p.add_subparsers(dest="command", required=True)
    for name, text in (("setup", "find or build interpreters, then sync environments"),
                       ("lock", "set up, then regenerate locks/*.txt against the real interpreters")):
        cmd = sub.add_parser(name, help=text, description=text)
        cmd.add_argument("--python-gil", help="path to a standard CPython 3.14 (overrides LAB_PYTHON_GIL)")
        cmd.add_argument("--python-ft", help="path to a free-threaded CPython 3.14t (overrides LAB_PYTHON_FT)")
        cmd.add_argument("--force", action="store_true", help="re-sync environments even if nothing changed")
    clean = sub.add_parser("clean", help="remove environments and caches (what `gil-lab clean` does)",
                           description="Remove the lab's environments and caches (default), or the parts named.")
    for name, text in PARTS.items():
        clean.add_argument(f"--{name}", dest="parts", action="append_const", const=name, default=[],
                           help=f"remove {text}")
    clean.add_argument("--all", dest="everything", action="store_true",
                       help="environments, caches and builds (results only with --results as well)")
    clean.add_argument("--dry-run", action="store_true", help="print what would be removed, and remove nothing")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.command == "clean":
            clean(choose_parts(args.parts, args.everything), print, dry_run=args.dry_run)
            return 0
        explicit = {role: path for role, path in (("gil", args.python_gil), ("ft", args.python_ft)) if path}
        options = ResolveOptions.from_env(explicit=explicit)
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
