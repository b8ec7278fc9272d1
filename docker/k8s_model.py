"""Read the Kubernetes manifests of ``docker/k8s/`` into what ``docker/k8s_checks.py`` checks.

The JSON schemas say whether each object is well formed; they cannot say that a
Service selects the pods it is meant for or that a command names that Service.
This reader gives the checks the objects, their pod templates, containers, commands
and label selectors. It understands the kinds ``docker/k8s/`` uses and the other
built-in workloads; it is no general Kubernetes client.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

# Where each workload kind keeps its pod template.
_TEMPLATE_PATHS = {
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}
# Resource quantities: decimal and binary suffixes (Kubernetes' resource.Quantity).
_SUFFIXES = {"": Decimal(1), "m": Decimal("0.001"), "k": Decimal(10) ** 3, "M": Decimal(10) ** 6,
             "G": Decimal(10) ** 9, "T": Decimal(10) ** 12, "P": Decimal(10) ** 15, "E": Decimal(10) ** 18,
             **{f"{p}i": Decimal(2) ** (10 * n) for n, p in enumerate("KMGTPE", start=1)}}
_QUANTITY = re.compile(r"([+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)([A-Za-z]*)")
_TAG = re.compile(r":[^/:]+$")  # after the last "/", so a registry port stays


@dataclass(frozen=True)
class Manifest:
    """One object of one file, as YAML loaded it; ``index`` is its place in the file (0-based)."""

    path: Path
    index: int
    document: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.document.get("kind", ""))

    @property
    def name(self) -> str:
        return str((self.document.get("metadata") or {}).get("name", ""))

    @property
    def labels(self) -> dict[str, str]:
        return dict((self.document.get("metadata") or {}).get("labels") or {})

    @property
    def where(self) -> str:
        return f"{self.path.name}: {self.kind.lower() or '?'}/{self.name or '?'}"

    @property
    def pod(self) -> dict[str, Any] | None:
        """The pod template (``metadata`` and ``spec``) of a workload, the object itself for a Pod."""
        if self.kind == "Pod":
            return self.document
        keys = _TEMPLATE_PATHS.get(self.kind)
        node: Any = self.document
        for key in keys or ():
            node = node.get(key) if isinstance(node, dict) else None
        return node if keys and isinstance(node, dict) else None

    @property
    def pod_labels(self) -> dict[str, str]:
        pod = self.pod or {}
        return dict((pod.get("metadata") or {}).get("labels") or {})

    @property
    def pod_spec(self) -> dict[str, Any]:
        return dict((self.pod or {}).get("spec") or {})

    def containers(self, init: bool = True) -> list[dict[str, Any]]:
        """The pod's containers, its init containers first when ``init``."""
        spec = self.pod_spec
        found = list(spec.get("initContainers") or []) if init else []
        return found + list(spec.get("containers") or [])


def load(directory: Path) -> list[Manifest]:
    """Every object of every ``*.yaml``/``*.yml`` in ``directory``, in file-name order. Raises ValueError."""
    import yaml

    manifests = []
    paths = sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    if not paths:
        raise ValueError(f"no *.yaml manifest in {directory}")
    for path in paths:
        try:
            documents = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
        except yaml.YAMLError as exc:
            raise ValueError(f"{path.name}: not YAML: {exc}") from exc
        for index, document in enumerate(documents):
            if not isinstance(document, dict):
                raise ValueError(f"{path.name}: document {index + 1} is not a mapping")
            manifests.append(Manifest(path, index, document))
    return manifests


def argv(container: dict[str, Any]) -> list[str]:
    """What the container runs: ``command`` then ``args`` (the lab's images have no ENTRYPOINT)."""
    return [str(word) for word in (container.get("command") or []) + (container.get("args") or [])]


def option_values(words: list[str], flag: str) -> list[str]:
    """Every value of ``flag`` in ``words``, written ``--flag VALUE`` or ``--flag=VALUE``."""
    values = []
    for position, word in enumerate(words):
        if word == flag and position + 1 < len(words):
            values.append(words[position + 1])
        elif word.startswith(flag + "="):
            values.append(word[len(flag) + 1:])
    return values


def matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """Whether ``labels`` satisfy a label selector: a Service's plain map, or ``matchLabels``/``matchExpressions``."""
    if "matchLabels" in selector or "matchExpressions" in selector:
        plain = selector.get("matchLabels") or {}
        expressions = selector.get("matchExpressions") or []
    else:
        plain, expressions = selector, []
    if any(labels.get(key) != value for key, value in plain.items()):
        return False
    for expression in expressions:
        key, operator, values = expression.get("key"), expression.get("operator"), expression.get("values") or []
        present = key in labels
        if ((operator == "In" and labels.get(key) not in values)
                or (operator == "NotIn" and present and labels[key] in values)
                or (operator == "Exists" and not present) or (operator == "DoesNotExist" and present)):
            return False
    return True


def image_name(image: str) -> str:
    """The last path part of an image reference without tag or digest: ``reg:5000/gil-lab/control:1`` -> ``control``."""
    return _TAG.sub("", image.split("@", 1)[0]).rsplit("/", 1)[-1]


def container_ports(container: dict[str, Any]) -> dict[str, int]:
    """The container's ports by name and by number (as text), each to its number."""
    ports: dict[str, int] = {}
    for port in container.get("ports") or []:
        number = int(port.get("containerPort", 0))
        ports[str(number)] = number
        if port.get("name"):
            ports[str(port["name"])] = number
    return ports


def quantity(value: object) -> Decimal:
    """A resource quantity as a number (``"500m"`` -> 0.5, ``"2Gi"`` -> 2147483648). Raises ValueError."""
    match = _QUANTITY.fullmatch(str(value).strip())
    if not match or match.group(2) not in _SUFFIXES:
        raise ValueError(f"{value!r} is not a Kubernetes quantity")
    try:
        return Decimal(match.group(1)) * _SUFFIXES[match.group(2)]
    except InvalidOperation as exc:
        raise ValueError(f"{value!r} is not a Kubernetes quantity") from exc
