"""Tiny real packages for the installer tests: an sdist whose build refuses 3.14t, and hand-made wheels."""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
import textwrap
import zipfile
from pathlib import Path

#: setup.py of a package that builds on 3.14 and refuses to build on a free-threaded interpreter. The wheel
#: is marked as binary (has_ext_modules), so the 3.14 build cannot be reused for 3.14t, as with any extension.
REFUSES_FREE_THREADING = '''
import sysconfig

from setuptools import setup
from setuptools.dist import Distribution

if sysconfig.get_config_var("Py_GIL_DISABLED") == 1:
    raise RuntimeError("{name} cannot be built for free-threaded Python")


class BinaryDistribution(Distribution):
    def has_ext_modules(self):
        return True


setup(name="{name}", version="{version}", packages=["{module}"], distclass=BinaryDistribution)
'''


def sdist_refusing_free_threading(directory: Path, name: str = "gil-lab-refuses-ft", version: str = "0.1") -> Path:
    """Write ``<name>-<version>.tar.gz`` into ``directory``; its setup.py raises when Py_GIL_DISABLED is 1."""
    module = name.replace("-", "_")
    base = f"{module}-{version}"
    files = {
        f"{base}/setup.py": textwrap.dedent(REFUSES_FREE_THREADING.format(name=name, version=version, module=module)),
        f"{base}/{module}/__init__.py": f'VERSION = "{version}"\n',
        f"{base}/PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
    }
    path = directory / f"{base}.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        for arcname, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(arcname)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def wheel(directory: Path, name: str, version: str, tag: str) -> Path:
    """A minimal valid wheel (one module, METADATA, WHEEL, RECORD) with the given ``python-abi-platform`` tag."""
    module = name.replace("-", "_")
    info = f"{module}-{version}.dist-info"
    files = {
        f"{module}/__init__.py": f'VERSION = "{version}"\n'.encode(),
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{info}/WHEEL": (f"Wheel-Version: 1.0\nGenerator: gil-lab-tests\nRoot-Is-Purelib: {str(tag.endswith('none-any')).lower()}\n"
                          f"Tag: {tag}\n").encode(),
    }
    record = "".join(f"{path},sha256={_digest(data)},{len(data)}\n" for path, data in files.items())
    files[f"{info}/RECORD"] = (record + f"{info}/RECORD,,\n").encode()
    path = directory / f"{module}-{version}-{tag}.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for arcname, data in files.items():
            archive.writestr(arcname, data)
    return path


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
