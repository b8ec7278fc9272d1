"""Check the Kubernetes manifests of ``docker/k8s/`` without a cluster.

No cluster runs here, so the manifests are validated, never applied. Two layers:

- **The Kubernetes JSON schemas** that ship with the ``kubernetes-validate`` package
  (``kubernetes_validate.validate(document, version, strict=True)``; strict schemas
  refuse unknown fields, so a misspelt key fails instead of being dropped by the API
  server), for the oldest and the newest Kubernetes version the package carries.
- **The lab's own rules**, which no schema can express: every image is a target of
  ``docker/Dockerfile`` and the right one for its role, and the pods run as the
  image's non-root user, unprivileged; every container has CPU and memory limits
  equal to its requests, and the two apps are identical but for their image; every
  Service selects pods that declare its target port (a port the image EXPOSEs);
  the worker's ``--master`` names the master's Service and port, the master's
  ``--app-url`` names each app's Service, its ``--expect-workers`` equals the
  workers' replicas; the token of the lab's handshake comes from the Secret, and
  no manifest commits a token; every object carries the labels that tie the lab
  together, and every selector selects something.

``docker/validate.py`` runs this (``make lint``); ``problems()`` is the entry point.
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import kubernetes_validate
from kubernetes_validate.utils import all_versions

sys.path.insert(0, str(Path(__file__).resolve().parent))  # k8s_model and dockerfile_model beside this file

import dockerfile_model as dm  # noqa: E402
import k8s_model as km  # noqa: E402

KUBERNETES_DIR = Path(__file__).resolve().parent / "k8s"
PART_OF = "app.kubernetes.io/part-of"
COMPONENT = "app.kubernetes.io/component"
LAB = "gil-lab"
COMPONENTS = ("master", "worker", "app")
# The lab's worker handshake reads its shared token from TOKEN_ENV; in a cluster it
# comes from key TOKEN_KEY of the Secret TOKEN_SECRET, created with kubectl, never committed.
TOKEN_ENV = "LAB_LOCUST_TOKEN"
TOKEN_SECRET = "gil-lab-locust"
TOKEN_KEY = "token"
LOCUST_MASTER_PORT = 5557  # Locust's default master port; `gil-lab worker --master HOST` means HOST:5557
CONTROL_TARGET = "control"
IMAGE_TARGETS = ("app-gil", "app-ft", CONTROL_TARGET)  # the Dockerfile targets built as images
APP_TARGETS = {"3.14": "app-gil", "3.14t": "app-ft"}  # --app-url label -> the image target serving it
# In-cluster DNS forms of a Service name: name, name.namespace, name.namespace.svc[.cluster.local].
_SERVICE_DOMAINS: tuple[list[str], ...] = ([], ["svc"], ["svc", "cluster", "local"])


def schema_versions() -> tuple[str, str]:
    """The oldest and newest Kubernetes versions whose schemas kubernetes-validate ships."""
    versions = all_versions()
    return versions[0], versions[-1]


def problems(directory: Path, stages: dict[str, dm.Stage]) -> list[str]:
    """Everything wrong with the manifests in ``directory``; ``stages`` are the Dockerfile's (dm.read)."""
    try:
        manifests = km.load(directory)
    except (OSError, ValueError) as exc:
        return [f"cannot load the manifests: {exc}"]
    found = schema_problems(manifests) + label_problems(manifests)
    found += image_problems(manifests, stages) + security_problems(manifests, stages)
    for rule in (resource_problems, app_problems, service_problems, reference_problems, master_port_problems,
                 worker_count_problems, token_problems, network_policy_problems):
        found += rule(manifests)
    return found


def schema_problems(manifests: list[km.Manifest]) -> list[str]:
    """Findings of the strict Kubernetes schemas, one line per finding and the versions that gave it."""
    findings: dict[str, list[str]] = {}
    for manifest in manifests:
        if not manifest.document.get("apiVersion") or not manifest.kind:
            findings.setdefault(f"{manifest.where}: no apiVersion or kind", [])
            continue
        for version in schema_versions():
            finding = _schema_finding(json.dumps(manifest.document, sort_keys=True), version)
            if finding is not None:
                text, versioned = finding
                findings.setdefault(f"{manifest.where}: {text}", []).extend([version] if versioned else [])
    return [f"{text} (Kubernetes {' and '.join(versions)} schema)" if versions else text
            for text, versions in findings.items()]


@functools.lru_cache(maxsize=512)
def _schema_finding(document: str, version: str) -> tuple[str, bool] | None:
    """The first schema finding for one object (JSON text, so it can be cached) and whether it is version-specific."""
    try:
        kubernetes_validate.validate(json.loads(document), version, strict=True)
    except kubernetes_validate.ValidationError as exc:
        return f"{'.'.join(map(str, exc.path)) or '(top level)'}: {exc.message}", True
    except kubernetes_validate.SchemaNotFoundError as exc:
        return (f"kubernetes-validate has no schema for kind {exc.kind} of apiVersion {exc.api_version}: "
                "a misspelt kind or apiVersion, or a custom resource"), False
    return None


# ---- the lab's rules -----------------------------------------------------------------


def _workloads(manifests: list[km.Manifest], component: str | None = None) -> list[km.Manifest]:
    return [m for m in manifests if m.pod is not None
            and (component is None or m.pod_labels.get(COMPONENT) == component)]


def _only(manifests: list[km.Manifest], component: str, kind: str) -> tuple[km.Manifest | None, list[str]]:
    """The one ``kind`` workload labelled ``component``, or why there is not exactly one."""
    found = [m for m in _workloads(manifests, component) if m.kind == kind]
    if len(found) == 1:
        return found[0], []
    return None, [f"expected one {kind} labelled {COMPONENT}: {component}, found {len(found)}"]


def label_problems(manifests: list[km.Manifest]) -> list[str]:
    """Every object and pod template carries part-of and component; workload selectors match their pods."""
    found = []
    for manifest in manifests:
        if manifest.labels.get(PART_OF) != LAB:
            found.append(f"{manifest.where}: lacks the label {PART_OF}: {LAB} that ties the lab's objects together")
        if manifest.pod is None or manifest.kind == "Pod":
            continue
        labels = manifest.pod_labels
        if labels.get(PART_OF) != LAB or labels.get(COMPONENT) not in COMPONENTS:
            found.append(f"{manifest.where}: its pod template needs the labels {PART_OF}: {LAB} and "
                         f"{COMPONENT}: one of {', '.join(COMPONENTS)}")
        selector = (manifest.document.get("spec") or {}).get("selector")
        if isinstance(selector, dict) and not km.matches(selector, labels):
            found.append(f"{manifest.where}: spec.selector does not match its own pod template's labels "
                         "(the API server refuses it); make them agree")
    return found


def _image_target(container: dict[str, Any]) -> str:
    return km.image_name(str(container.get("image", "")))


def _image_uid(stages: dict[str, dm.Stage], target: str) -> int | None:
    user = dm.effective(stages, target, "USER")
    uid = user.args.split(":")[0] if user else ""
    return int(uid) if uid.isdigit() else None


def _exposed(stages: dict[str, dm.Stage], target: str) -> set[int]:
    return {int(word.split("/")[0]) for stage in dm.chain(stages, target) for instruction in stage.all("EXPOSE")
            for word in instruction.args.split() if word.split("/")[0].isdigit()}


def image_problems(manifests: list[km.Manifest], stages: dict[str, dm.Stage]) -> list[str]:
    """Each image names a Dockerfile target (its last path part, tag dropped), the right one for its role."""
    found = []
    for workload in _workloads(manifests):
        component = workload.pod_labels.get(COMPONENT)
        for container in workload.containers():
            target = _image_target(container)
            where = f"{workload.where}: container {container.get('name')}"
            if target not in stages:
                found.append(f"{where} runs image {container.get('image')!r}, but docker/Dockerfile has no target "
                             f"{target!r}; the lab's images are {', '.join(t for t in IMAGE_TARGETS if t in stages)}")
                continue
            if component in ("master", "worker") and target != CONTROL_TARGET:
                found.append(f"{where} must run the {CONTROL_TARGET!r} image (Locust and the lab), not {target!r}")
            if component == "app" and target not in APP_TARGETS.values():
                found.append(f"{where} must run an app image ({' or '.join(APP_TARGETS.values())}), not {target!r}")
            exposed = _exposed(stages, target)
            for number in sorted(set(km.container_ports(container).values()) - exposed):
                found.append(f"{where} declares port {number}, but image target {target} exposes only "
                             f"{', '.join(map(str, sorted(exposed))) or 'nothing'}")
    return found


def security_problems(manifests: list[km.Manifest], stages: dict[str, dm.Stage]) -> list[str]:
    """Non-root as the image's user, no privilege or its escalation, no host namespaces."""
    found = []
    for workload in _workloads(manifests):
        pod_context = workload.pod_spec.get("securityContext") or {}
        for namespace in ("hostNetwork", "hostPID", "hostIPC"):
            if workload.pod_spec.get(namespace):
                found.append(f"{workload.where}: {namespace} shares the node's namespace; remove it")
        for container in workload.containers():
            context = container.get("securityContext") or {}
            where = f"{workload.where}: container {container.get('name')}"
            uid = context.get("runAsUser", pod_context.get("runAsUser"))
            image_uid = _image_uid(stages, _image_target(container))
            if context.get("runAsNonRoot", pod_context.get("runAsNonRoot")) is not True:
                found.append(f"{where}: set runAsNonRoot: true so the kubelet refuses to start it as root")
            if uid == 0:
                found.append(f"{where} runs as root (runAsUser: 0); the images run as uid {image_uid}")
            elif uid is not None and image_uid is not None and uid != image_uid:
                found.append(f"{where} runs as uid {uid}, but the image's USER is {image_uid}; use {image_uid}")
            if context.get("privileged"):
                found.append(f"{where} is privileged; nothing in the lab needs it")
            if context.get("allowPrivilegeEscalation") is not False:
                found.append(f"{where}: set allowPrivilegeEscalation: false (Kubernetes allows it by default)")
    return found


def resource_problems(manifests: list[km.Manifest]) -> list[str]:
    """CPU and memory limits on every container, requests equal to them (Guaranteed QoS)."""
    found = []
    for workload in _workloads(manifests):
        for container in workload.containers():
            resources = container.get("resources") or {}
            where = f"{workload.where}: container {container.get('name')}"
            for resource in ("cpu", "memory"):
                limit = (resources.get("limits") or {}).get(resource)
                request = (resources.get("requests") or {}).get(resource)
                if limit is None:
                    found.append(f"{where} has no {resource} limit; set resources.limits.{resource}")
                    continue
                try:
                    unequal = request is not None and km.quantity(request) != km.quantity(limit)
                except ValueError as exc:
                    found.append(f"{where}: {exc}")
                    continue
                if unequal:
                    found.append(f"{where} requests {resource} {request} but limits it to {limit}; make them equal, "
                                 "so what is measured is neither throttled below nor allowed above its share")
    return found


def _comparable(manifest: km.Manifest) -> dict[str, Any]:
    """The Deployment without what may differ between the two apps: names, labels, selector, image."""
    copy: dict[str, Any] = json.loads(json.dumps(manifest.document))
    copy.pop("metadata", None)
    spec = copy.get("spec") or {}
    spec.pop("selector", None)
    (spec.get("template") or {}).pop("metadata", None)
    for container in ((spec.get("template") or {}).get("spec") or {}).get("containers") or []:
        container.pop("image", None)
    return copy


def _first_difference(a: Any, b: Any, path: str = "") -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                return _first_difference(a.get(key), b.get(key), f"{path}.{key}" if path else key)
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for index, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                return _first_difference(x, y, f"{path}[{index}]")
    return f"{path}: {json.dumps(a)} against {json.dumps(b)}"


def app_problems(manifests: list[km.Manifest]) -> list[str]:
    """Two app Deployments of one replica each, identical but for names, labels and image."""
    apps = [m for m in _workloads(manifests, "app") if m.kind == "Deployment"]
    if len(apps) != 2:
        return [f"expected two app Deployments ({' and '.join(APP_TARGETS.values())}), found {len(apps)}"]
    found = [f"{app.where} has {app.document['spec'].get('replicas', 1)} replicas; the lab measures one process "
             "per app, so use replicas: 1" for app in apps if (app.document.get("spec") or {}).get("replicas", 1) != 1]
    first, second = (_comparable(app) for app in apps)
    if first != second:
        found.append(f"{apps[0].name} and {apps[1].name} differ beyond names, labels and image "
                     f"({_first_difference(first, second)}); the comparison is only fair if they are the same")
    return found


def _selected(manifests: list[km.Manifest], selector: dict[str, Any], empty_selects_all: bool = False) -> list[km.Manifest]:
    """The workloads whose pods ``selector`` selects. An empty one selects nothing in a Service, all in a policy."""
    if not selector and not empty_selects_all:
        return []
    return [m for m in _workloads(manifests) if km.matches(selector, m.pod_labels)]


def service_problems(manifests: list[km.Manifest]) -> list[str]:
    """Each Service selects pods, and each of its ports reaches a port their containers declare."""
    found = []
    for service in (m for m in manifests if m.kind == "Service"):
        spec = service.document.get("spec") or {}
        selected = _selected(manifests, spec.get("selector") or {})
        if not selected:
            found.append(f"{service.where}: its selector {spec.get('selector')} selects no pod of these manifests")
        for port in spec.get("ports") or []:
            target = str(port.get("targetPort", port.get("port")))
            for workload in selected:
                if not any(target in km.container_ports(c) for c in workload.containers(init=False)):
                    found.append(f"{service.where}: port {port.get('port')} sends to {target}, which no container "
                                 f"of {workload.where} declares (containers[].ports)")
    return found


def _service(manifests: list[km.Manifest], host: str) -> km.Manifest | None:
    name, *domain = host.split(".")
    if domain and domain[1:] not in _SERVICE_DOMAINS:
        return None
    return next((m for m in manifests if m.kind == "Service" and m.name == name), None)


def _reaches(manifests: list[km.Manifest], where: str, what: str, host: str, port: int,
             component: str, target: str | None = None) -> list[str]:
    """``host:port`` is a Service port of these manifests in front of ``component`` pods (running ``target``)."""
    service = _service(manifests, host)
    if service is None:
        return [f"{where}: {what} names {host}, which is not a Service of these manifests"]
    spec = service.document.get("spec") or {}
    if port not in [p.get("port") for p in spec.get("ports") or []]:
        return [f"{where}: {what} uses port {port}, but service/{service.name} listens on "
                f"{', '.join(str(p.get('port')) for p in spec.get('ports') or [])}"]
    pods = _selected(manifests, spec.get("selector") or {})
    if not any(p.pod_labels.get(COMPONENT) == component for p in pods):
        return [f"{where}: {what} reaches service/{service.name}, which selects no {component} pods"]
    if target and not any(_image_target(c) == target for p in pods for c in p.containers(init=False)):
        return [f"{where}: {what} reaches service/{service.name}, whose pods do not run {target}"]
    return []


def reference_problems(manifests: list[km.Manifest]) -> list[str]:
    """The worker's ``--master`` and every app URL (``--app-url`` or a bare one) name Services of these manifests."""
    worker, found = _only(manifests, "worker", "Deployment")
    found += _only(manifests, "master", "Job")[1]
    if worker is not None:
        for container in worker.containers(init=False):
            where = f"{worker.where}: container {container.get('name')}"
            found += _master_problems(manifests, where, km.argv(container))
    for workload in _workloads(manifests):
        for container in workload.containers():
            found += _url_problems(manifests, f"{workload.where}: container {container.get('name')}", km.argv(container))
    return found


def _master_problems(manifests: list[km.Manifest], where: str, words: list[str]) -> list[str]:
    values = km.option_values(words, "--master")
    if len(values) != 1:
        return [f"{where} must pass --master HOST[:PORT] once (the master's Service), found {len(values)}"]
    host, _, port = values[0].partition(":")
    if port and not port.isdigit():
        return [f"{where}: --master {values[0]} has no numeric port"]
    return _reaches(manifests, where, f"--master {values[0]}", host, int(port or LOCUST_MASTER_PORT), "master")


def _url_problems(manifests: list[km.Manifest], where: str, words: list[str]) -> list[str]:
    found = []
    urls: dict[str, str | None] = {}  # URL -> the image target it must reach, when its label says
    for value in km.option_values(words, "--app-url"):
        label, _, url = value.partition("=")
        if label not in APP_TARGETS:
            found.append(f"{where}: --app-url {value}: the label must be {' or '.join(APP_TARGETS)}")
        urls[url] = APP_TARGETS.get(label)
    urls.update({word: None for word in words if word.startswith(("http://", "https://")) and word not in urls})
    for url, target in urls.items():
        parts = urlsplit(url)
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            found.append(f"{where}: {url} has no valid port")
            continue
        found += _reaches(manifests, where, url, parts.hostname or "", port, "app", target)
    return found


def master_port_problems(manifests: list[km.Manifest]) -> list[str]:
    """The master Job names its port (the lab picks a free one otherwise), and its container exposes it."""
    master, _ = _only(manifests, "master", "Job")
    found = []
    for container in master.containers(init=False) if master else ():
        where = f"{master.where}: container {container.get('name')}"  # type: ignore[union-attr]
        named = km.option_values(km.argv(container), "--locust-master-port")
        exposed = [str(p.get("containerPort")) for p in container.get("ports") or []]
        if len(named) != 1:
            found.append(f"{where} must pass --locust-master-port once (the Service's port for the workers); "
                         "without it the lab picks a free port per run")
        elif named[0] not in exposed:
            found.append(f"{where} listens on --locust-master-port {named[0]}, which is not one of its container "
                         f"ports ({', '.join(exposed) or 'none'})")
    return found


def worker_count_problems(manifests: list[km.Manifest]) -> list[str]:
    """The master waits for as many workers as the worker Deployment runs."""
    worker, _ = _only(manifests, "worker", "Deployment")
    master, _ = _only(manifests, "master", "Job")
    if not worker or not master:
        return []  # reported by reference_problems
    replicas = (worker.document.get("spec") or {}).get("replicas", 1)
    expected = [value for container in master.containers(init=False)
                for value in km.option_values(km.argv(container), "--expect-workers")]
    if expected != [str(replicas)]:
        return [f"{master.where} passes --expect-workers {' '.join(expected) or '(none)'} but {worker.where} has "
                f"{replicas} replicas; make them equal, or the run waits forever or starts short of workers"]
    return []


def token_problems(manifests: list[km.Manifest]) -> list[str]:
    """Master and workers read the handshake token from the Secret; no manifest carries a token."""
    found = []
    for workload in _workloads(manifests, "master") + _workloads(manifests, "worker"):
        for container in workload.containers(init=False):
            where = f"{workload.where}: container {container.get('name')}"
            entry = next((e for e in container.get("env") or [] if e.get("name") == TOKEN_ENV), None)
            source = (entry or {}).get("valueFrom") or {}
            reference = source.get("secretKeyRef") or {}
            wanted = f"valueFrom.secretKeyRef {{name: {TOKEN_SECRET}, key: {TOKEN_KEY}}}"
            if entry is None:
                found.append(f"{where} does not set {TOKEN_ENV}; take it from {wanted}")
            elif (reference.get("name"), reference.get("key")) != (TOKEN_SECRET, TOKEN_KEY):
                given = "a value in the manifest" if "value" in entry else ", ".join(source) or "nothing"
                found.append(f"{where} takes {TOKEN_ENV} from {given}; take it from the Secret: {wanted}")
            elif reference.get("optional"):
                found.append(f"{where}: the token must not be optional: without it the handshake cannot succeed")
    for manifest in manifests:
        data = {**(manifest.document.get("data") or {}), **(manifest.document.get("stringData") or {})}
        if manifest.kind == "Secret" and data:
            found.append(f"{manifest.where} commits a Secret's value to the repository, which publishes it; "
                         "create the Secret with kubectl (docs/kubernetes.md) instead")
        if manifest.kind == "ConfigMap" and TOKEN_ENV in data:
            found.append(f"{manifest.where} holds {TOKEN_ENV} in a ConfigMap; it belongs in the Secret {TOKEN_SECRET}")
    return found


def network_policy_problems(manifests: list[km.Manifest]) -> list[str]:
    """Each NetworkPolicy guards pods of these manifests and admits pods that exist."""
    found = []
    for policy in (m for m in manifests if m.kind == "NetworkPolicy"):
        spec = policy.document.get("spec") or {}
        if not _selected(manifests, spec.get("podSelector") or {}, empty_selects_all=True):
            found.append(f"{policy.where}: its podSelector selects no pod of these manifests, so it guards nothing")
        for rule in spec.get("ingress") or []:
            for peer in rule.get("from") or []:
                if "podSelector" in peer and not _selected(manifests, peer["podSelector"] or {}, empty_selects_all=True):
                    found.append(f"{policy.where}: an ingress rule admits pods that match no pod of these manifests")
    return found

