"""core, plan and provision say what they offer: every name in ``__all__`` is there, and is the module's own."""

from __future__ import annotations

import importlib
import inspect

import pytest


@pytest.mark.parametrize("package", ["loadtests.core", "loadtests.plan", "loadtests.provision"])
def test_each_name_a_package_offers_is_defined_in_the_package(package: str) -> None:
    module = importlib.import_module(package)
    offered = module.__all__
    assert offered and len(set(offered)) == len(offered)
    for name in offered:
        value = getattr(module, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert value.__module__.startswith(package), f"{package}.{name} comes from {value.__module__}"
