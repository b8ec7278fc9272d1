"""Debian packages the lab needs from the system, checked and (as root) installed.

- The CPython build needs a C toolchain and the headers of the optional modules.
- The report's browser test needs Debian's Chromium.
- The diagnosis samples each server natively with Linux ``perf`` (Debian's linux-perf);
  without it the diagnosis still runs, from the probe and the run's own signals, and says
  how to install it.

``python3 -m loadtests.provision.sysdeps [--install] [--best-effort] [--for build,browser]``.
Without ``--install`` it only reports; with it, it runs ``apt-get`` when it can (root,
or passwordless sudo) and otherwise prints the exact command to run. ``--best-effort``
(what ``make compare`` uses) never fails: when it cannot install, it prints the command
and lets the set-up go on, since interpreters that already exist need no headers.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys

from loadtests.provision.process_env import installer_env

GROUPS = {
    "build": ["build-essential", "pkg-config", "libssl-dev", "libffi-dev", "zlib1g-dev", "libbz2-dev",
              "liblzma-dev", "libsqlite3-dev", "libreadline-dev", "uuid-dev", "libncurses-dev", "libzstd-dev"],
    "browser": ["chromium"],
    "profile": ["linux-perf"],
}


def missing(packages: list[str]) -> list[str]:
    """Packages dpkg does not report as installed (all of them when dpkg is absent)."""
    if shutil.which("dpkg-query") is None:
        return list(packages)
    absent = []
    for name in packages:
        proc = subprocess.run(["dpkg-query", "-W", "-f=${Status}", name], capture_output=True, text=True)
        if "install ok installed" not in proc.stdout:
            absent.append(name)
    return absent


def apt_prefix() -> list[str] | None:
    if shutil.which("apt-get") is None:
        return None
    if os.geteuid() == 0:
        return []
    if shutil.which("sudo") and subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0:
        return ["sudo", "-n"]
    return None


def install(packages: list[str]) -> None:
    """Install ``packages`` with apt-get; ``SystemExit`` with the command to run when that is not possible."""
    prefix = apt_prefix()
    command = f"apt-get update && apt-get install -y {' '.join(packages)}"
    if prefix is None:
        raise SystemExit(f"error: missing system packages: {' '.join(packages)}\nRun as root: {command}")
    env = installer_env({"DEBIAN_FRONTEND": "noninteractive"})
    print(f"==> installing system packages: {' '.join(packages)}", flush=True)
    for args in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *packages]):
        proc = subprocess.run([*prefix, *args], env=env)
        if proc.returncode != 0:
            raise SystemExit(f"error: `{' '.join(args)}` failed (exit {proc.returncode}). Try: {command}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python3 -m loadtests.provision.sysdeps", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--install", action="store_true", help="install what is missing (apt-get, as root)")
    p.add_argument("--best-effort", action="store_true",
                   help="with --install: when installing is not possible, print the command and exit 0")
    p.add_argument("--for", dest="groups", default="build,browser",
                   help=f"comma-separated groups: {', '.join(GROUPS)} (default: all)")
    args = p.parse_args(argv)
    groups = [g.strip() for g in args.groups.split(",") if g.strip()]
    unknown = [g for g in groups if g not in GROUPS]
    if unknown:
        p.error(f"unknown group(s) {', '.join(unknown)}; choose from {', '.join(GROUPS)}")
    absent = missing([pkg for g in groups for pkg in GROUPS[g]])
    if not absent:
        print(f"    system packages for {', '.join(groups)}: all present")
        return 0
    if args.install:
        try:
            install(absent)
        except SystemExit as exc:
            if not args.best_effort:
                raise
            print(f"{str(exc.code).removeprefix('error: ')}\n    (going on: interpreters that already exist "
                  "do not need these; a CPython build made without them lacks the modules they provide)")
        return 0
    print(f"missing system packages: {' '.join(absent)}\n  apt-get install {' '.join(absent)}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
