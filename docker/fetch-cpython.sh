#!/usr/bin/env bash
# Put the pinned CPython source tarball at DEST, verified: taken from SOURCE_DIR when it
# holds Python-VERSION.tar.xz, downloaded from MIRROR (python.org's /ftp/python/ layout)
# otherwise. Either way its sha256 must be SHA256, or nothing is left at DEST.
#
# docker/Dockerfile runs this in its cpython-source stage, with SOURCE_DIR the named build
# context cpython-src-dir; tests/docker/test_cpython_source.py runs it against a local mirror.
#
#   fetch-cpython.sh SOURCE_DIR DEST VERSION SHA256 MIRROR
set -euo pipefail

if [ "$#" -ne 5 ]; then
  echo "usage: fetch-cpython.sh SOURCE_DIR DEST VERSION SHA256 MIRROR" >&2
  exit 2
fi
source_dir=$1 dest=$2 version=$3 sha256=$4 mirror=$5
name="Python-${version}.tar.xz"
partial="${dest}.part"
trap 'rm -f "$partial"' EXIT

if [ -f "${source_dir}/${name}" ]; then
  echo "fetch-cpython: ${name} from the cpython-src-dir build context"
  cp "${source_dir}/${name}" "$partial"
  origin="the cpython-src-dir build context (LAB_CPYTHON_SRC_DIR with compose)"
else
  url="${mirror%/}/${version}/${name}"
  echo "fetch-cpython: no ${name} in the cpython-src-dir build context; downloading ${url}"
  if ! curl -fsSL --retry 3 --connect-timeout 20 --max-time 900 -o "$partial" "$url"; then
    echo "fetch-cpython: could not download ${url}." >&2
    echo "Set LAB_CPYTHON_MIRROR to a mirror with python.org's layout, or put ${name} in a directory" >&2
    echo "and name it with LAB_CPYTHON_SRC_DIR (compose) or --build-context cpython-src-dir=DIR (docker build)." >&2
    echo "A lab that has built its interpreters keeps the tarball in ~/.cache/gil-lab/sources/." >&2
    exit 1
  fi
  origin="${url}"
fi

actual=$(sha256sum "$partial" | cut -d' ' -f1)
if [ "$actual" != "$sha256" ]; then
  echo "fetch-cpython: ${name} from ${origin} has sha256 ${actual}, not the pinned ${sha256}." >&2
  echo "It is not the release the lab builds: replace the file, or use another mirror." >&2
  exit 1
fi
mv "$partial" "$dest"
echo "fetch-cpython: ${name} verified (sha256 ${sha256})"
