"""The Kubernetes manifests of docker/k8s/, checked without a cluster (none runs here).

The manifests are never applied. What is checked: they pass the strict Kubernetes
JSON schemas of the kubernetes-validate package and the lab's own rules
(docker/k8s_checks.py), and a copy broken in any way a rule covers fails with a
message that names the cause. The master's wait-for-apps init container is run for
real against an HTTP server on 127.0.0.1.
"""

from __future__ import annotations

import http.server
import importlib
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.docker.docker_modules import DOCKER_DIR, REPO_ROOT, load

K8S = DOCKER_DIR / "k8s"
DOCKERFILE = DOCKER_DIR / "Dockerfile"

validate = load("validate")  # puts docker/ on sys.path, where validate.py finds k8s_checks
k8s_checks = importlib.import_module("k8s_checks")
km = k8s_checks.km


def problems(directory: Path) -> list[str]:
    return validate.check_kubernetes(directory, DOCKERFILE).problems


def manifests() -> list:
    return km.load(K8S)


# ---- the real manifests pass -----------------------------------------------------------


def test_manifests_pass_schemas_and_rules() -> None:
    assert problems(K8S) == []


def test_every_object_has_a_schema_and_the_schemas_are_strict() -> None:
    """Each kind is one kubernetes-validate knows; an unknown field in any of them is refused."""
    import kubernetes_validate

    kinds = {m.kind for m in manifests()}
    assert kinds == {"Deployment", "Job", "Service", "PersistentVolumeClaim", "NetworkPolicy"}
    for manifest in manifests():
        broken = {**manifest.document, "spec": {**manifest.document["spec"], "replica": 1}}
        with pytest.raises(kubernetes_validate.ValidationError, match="'replica' was unexpected"):
            kubernetes_validate.validate(broken, k8s_checks.schema_versions()[1], strict=True)


def test_validate_script_checks_the_manifests() -> None:
    proc = subprocess.run([sys.executable, str(DOCKER_DIR / "validate.py")], capture_output=True, text=True,
                          timeout=300, cwd=REPO_ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ok   kubernetes docker/k8s (Kubernetes 1.25.0 and 1.37.0 schemas" in proc.stdout


def test_the_three_parts_share_one_label_and_the_token_secret() -> None:
    by_component: dict[str, set[str]] = {}
    for manifest in manifests():
        assert manifest.labels["app.kubernetes.io/part-of"] == "gil-lab", manifest.where
        by_component.setdefault(manifest.labels["app.kubernetes.io/component"], set()).add(manifest.kind)
    assert by_component["master"] >= {"Job", "Service"} and by_component["worker"] == {"Deployment"}
    assert not [m for m in manifests() if m.kind in ("Secret", "ConfigMap")]  # the token is never committed


def test_docs_describe_every_manifest() -> None:
    text = (REPO_ROOT / "docs" / "kubernetes.md").read_text()
    for path in K8S.glob("*.yaml"):
        assert f"docker/k8s/{path.name}" in text, f"docs/kubernetes.md does not mention {path.name}"


# ---- the wait-for-apps init container, for real ------------------------------------------


def _wait_for_apps() -> list[str]:
    [job] = [m for m in manifests() if m.kind == "Job"]
    [init] = job.pod_spec["initContainers"]
    return km.argv(init)


@pytest.fixture
def runtime_server() -> Iterator[str]:
    """An HTTP server on 127.0.0.1 that answers /lab/runtime, as the apps do."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/lab/runtime" else 404)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _closed_port_url() -> str:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_wait_for_apps_passes_once_every_app_answers(runtime_server: str) -> None:
    python, flag, script, *urls = _wait_for_apps()
    assert (python, flag) == ("python", "-c") and len(urls) == 2
    proc = subprocess.run([sys.executable, "-c", script, runtime_server, runtime_server], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("answers /lab/runtime") == 2


def test_wait_for_apps_fails_naming_the_app_that_never_answers(runtime_server: str) -> None:
    _, _, script, *_ = _wait_for_apps()
    silent = _closed_port_url()
    proc = subprocess.run([sys.executable, "-c", script, runtime_server, silent], capture_output=True, text=True,
                          timeout=60, env={"LAB_WAIT_S": "1", "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 1
    assert f"{silent} did not answer /lab/runtime in time" in proc.stderr


# ---- the rules can fail --------------------------------------------------------------


def _broken_copy(tmp_path: Path, name: str, old: str, new: str, which: str = "all") -> Path:
    """docker/k8s copied to tmp_path with ``old`` replaced in ``name`` (``which``: all, first, last occurrence).

    With ``old`` empty, ``new`` is written as a new file ``name``.
    """
    target = tmp_path / "k8s"
    shutil.copytree(K8S, target)
    path = target / name
    if not old:
        path.write_text(new)
        return target
    text = path.read_text()
    assert old in text, f"{old!r} is no longer in {name}; update this test"
    if which == "all":
        text = text.replace(old, new)
    elif which == "first":
        text = text.replace(old, new, 1)
    else:
        head, _, tail = text.rpartition(old)
        text = head + new + tail
    path.write_text(text)
    return target


TOKEN_FROM_SECRET = ("              valueFrom:\n                secretKeyRef:\n                  name: gil-lab-locust\n"
                     "                  key: token\n")
APP_RESOURCES = ('          resources:\n            requests:\n              cpu: "2"\n              memory: 2Gi\n'
                 '            limits:\n              cpu: "2"\n              memory: 2Gi\n')
COMMITTED_SECRET = ("apiVersion: v1\nkind: Secret\nmetadata:\n  name: gil-lab-locust\n  labels:\n"
                    "    app.kubernetes.io/part-of: gil-lab\nstringData:\n  token: changeme\n")
TOKEN_CONFIGMAP = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: gil-lab-settings\n  labels:\n"
                   "    app.kubernetes.io/part-of: gil-lab\ndata:\n  LAB_LOCUST_TOKEN: changeme\n")

BROKEN: dict[str, tuple[str, str, str, str, str]] = {
    # name: (file, old, new, which occurrence, expected message)
    # the schemas
    "unknown field": ("workers.yaml", "  replicas: 2\n", "  replica: 2\n", "all",
                      "workers.yaml: deployment/gil-lab-worker: spec: Additional properties are not allowed "
                      "('replica' was unexpected) (Kubernetes 1.25.0 and 1.37.0 schema)"),
    "wrong type": ("apps.yaml", "              containerPort: 8000\n", '              containerPort: "8000"\n',
                   "first", "containerPort: '8000' is not of type 'integer'"),
    "unknown kind": ("master.yaml", "kind: PersistentVolumeClaim", "kind: PersistentVolumeClame", "all",
                     "has no schema for kind PersistentVolumeClame of apiVersion v1"),
    "not yaml": ("master.yaml", "kind: Job\n", "kind: [Job\n", "all", "cannot load the manifests: master.yaml: not YAML"),
    # images
    "no such target": ("workers.yaml", "gil-lab/control:local", "gil-lab/controller:local", "all",
                       "but docker/Dockerfile has no target 'controller'"),
    "worker on an app image": ("workers.yaml", "gil-lab/control:local", "gil-lab/app-gil:local", "all",
                               "container worker must run the 'control' image"),
    "port the image does not expose": ("master.yaml", "              containerPort: 5557\n",
                                       "              containerPort: 5558\n", "all",
                                       "declares port 5558, but image target control exposes only 5557, 8089"),
    # security
    "root": ("workers.yaml", "        runAsUser: 10001\n", "        runAsUser: 0\n", "all", "runs as root (runAsUser: 0)"),
    "another uid": ("apps.yaml", "runAsUser: 10001", "runAsUser: 10002", "first",
                    "runs as uid 10002, but the image's USER is 10001"),
    "may run as root": ("master.yaml", "        runAsNonRoot: true\n", "", "all", "set runAsNonRoot: true"),
    "privileged": ("master.yaml", "privileged: false", "privileged: true", "last", "container master is privileged"),
    "escalation allowed": ("workers.yaml", "            allowPrivilegeEscalation: false\n", "", "all",
                           "set allowPrivilegeEscalation: false"),
    "host network": ("workers.yaml", "      automountServiceAccountToken: false\n",
                     "      automountServiceAccountToken: false\n      hostNetwork: true\n", "all",
                     "hostNetwork shares the node's namespace"),
    # resources
    "no cpu limit": ("workers.yaml", '            limits:\n              cpu: "1"\n', "            limits:\n", "all",
                     "container worker has no cpu limit"),
    "init container without resources": ("master.yaml", "          resources:\n            requests:\n"
                                         "              cpu: 100m\n              memory: 64Mi\n            limits:\n"
                                         "              cpu: 100m\n              memory: 64Mi\n", "", "all",
                                         "container wait-for-apps has no cpu limit"),
    "request below limit": ("master.yaml", 'requests:\n              cpu: "1"', "requests:\n              cpu: 500m",
                            "all", "requests cpu 500m but limits it to 1"),
    "apps with unequal cpus": ("apps.yaml", APP_RESOURCES, APP_RESOURCES.replace('"2"', '"1"'), "last",
                               "gil-lab-app-gil and gil-lab-app-ft differ beyond names, labels and image "
                               '(spec.template.spec.containers[0].resources.limits.cpu: "2" against "1")'),
    "apps with unequal threads": ("apps.yaml", 'value: "8"', 'value: "16"', "last", "differ beyond names"),
    "two replicas of an app": ("apps.yaml", "  replicas: 1\n", "  replicas: 2\n", "all",
                               "has 2 replicas; the lab measures one process per app"),
    # services and references
    "service port to nowhere": ("master.yaml", "      targetPort: locust-master\n", "      targetPort: 5558\n", "all",
                                "service/gil-lab-master: port 5557 sends to 5558, which no container"),
    "service selects nothing": ("master.yaml", "  selector:\n    app.kubernetes.io/name: gil-lab-master\n",
                                "  selector:\n    app.kubernetes.io/name: gil-lab-mastr\n", "all",
                                "service/gil-lab-master: its selector"),
    "worker's master is no service": ("workers.yaml", "gil-lab-master:5557", "locust-master:5557", "all",
                                      "--master locust-master:5557 names locust-master, which is not a Service"),
    "worker's master port": ("workers.yaml", "gil-lab-master:5557", "gil-lab-master:5558", "all",
                             "uses port 5558, but service/gil-lab-master listens on 5557"),
    "worker's master is an app": ("workers.yaml", "gil-lab-master:5557", "gil-lab-app-gil:8000", "all",
                                  "reaches service/gil-lab-app-gil, which selects no master pods"),
    "worker without --master": ("workers.yaml", '["gil-lab", "worker", "--master", "gil-lab-master:5557"]',
                                '["gil-lab", "worker"]', "all", "must pass --master HOST[:PORT] once"),
    "app urls swapped": ("master.yaml", "3.14t=http://gil-lab-app-ft:8000", "3.14t=http://gil-lab-app-gil:8000",
                         "all", "reaches service/gil-lab-app-gil, whose pods do not run app-ft"),
    "app url label": ("master.yaml", "3.14t=http", "3.13t=http", "all", "the label must be 3.14 or 3.14t"),
    "app url host": ("master.yaml", "3.14=http://gil-lab-app-gil:8000", "3.14=http://app-gil:8000", "all",
                     "names app-gil, which is not a Service"),
    "app url port": ("master.yaml", "3.14=http://gil-lab-app-gil:8000", "3.14=http://gil-lab-app-gil:8001", "all",
                     "uses port 8001, but service/gil-lab-app-gil listens on 8000"),
    "init container url": ("master.yaml", "            - http://gil-lab-app-ft:8000\n",
                           "            - http://gil-lab-app-ftt:8000\n", "all", "names gil-lab-app-ftt"),
    "master port left to chance": ("master.yaml", '                    "--locust-master-port", "5557",\n', "", "all",
                                   "must pass --locust-master-port once"),
    "master port not exposed": ("master.yaml", '"--locust-master-port", "5557",', '"--locust-master-port", "5560",',
                                "all", "listens on --locust-master-port 5560, which is not one of its container ports"),
    "expect-workers against replicas": ("workers.yaml", "  replicas: 2\n", "  replicas: 3\n", "all",
                                        "passes --expect-workers 2 but workers.yaml: deployment/gil-lab-worker "
                                        "has 3 replicas"),
    # the token
    "token in the manifest": ("workers.yaml", TOKEN_FROM_SECRET, '              value: "not-a-secret"\n', "all",
                              "takes LAB_LOCUST_TOKEN from a value in the manifest; take it from the Secret"),
    "token from a configmap": ("workers.yaml", "secretKeyRef:", "configMapKeyRef:", "all",
                               "takes LAB_LOCUST_TOKEN from configMapKeyRef"),
    "master without token": ("master.yaml", "            - name: LAB_LOCUST_TOKEN\n" + TOKEN_FROM_SECRET, "", "all",
                             "container master does not set LAB_LOCUST_TOKEN"),
    "optional token": ("workers.yaml", "                  key: token\n",
                       "                  key: token\n                  optional: true\n", "all",
                       "the token must not be optional"),
    "committed secret": ("secret.yaml", "", COMMITTED_SECRET, "all", "commits a Secret's value to the repository"),
    "token in a configmap": ("settings.yaml", "", TOKEN_CONFIGMAP, "all", "holds LAB_LOCUST_TOKEN in a ConfigMap"),
    # labels and selectors
    "no part-of label": ("workers.yaml", "    app.kubernetes.io/part-of: gil-lab\n", "", "first",
                         "deployment/gil-lab-worker: lacks the label app.kubernetes.io/part-of: gil-lab"),
    "pod without component": ("workers.yaml", "        app.kubernetes.io/component: worker\n", "", "all",
                              "its pod template needs the labels"),
    "selector against template": ("workers.yaml", "    matchLabels:\n      app.kubernetes.io/name: gil-lab-worker\n",
                                  "    matchLabels:\n      app.kubernetes.io/name: gil-lab-workers\n", "all",
                                  "spec.selector does not match its own pod template's labels"),
    "policy guards nothing": ("network-policies.yaml", "    matchLabels:\n      app.kubernetes.io/name: gil-lab-master\n",
                              "    matchLabels:\n      app.kubernetes.io/name: gil-lab-mastr\n", "all",
                              "networkpolicy/gil-lab-master: its podSelector selects no pod"),
    "policy admits nobody": ("network-policies.yaml", "              app.kubernetes.io/name: gil-lab-worker\n",
                             "              app.kubernetes.io/name: gil-lab-workr\n", "all",
                             "an ingress rule admits pods that match no pod"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_copy_fails_with_the_cause(tmp_path: Path, case: str) -> None:
    name, old, new, which, message = BROKEN[case]
    found = problems(_broken_copy(tmp_path, name, old, new, which))
    assert any(message in line for line in found), "\n".join(found)


def test_an_unmodified_copy_passes(tmp_path: Path) -> None:
    copy = tmp_path / "k8s"
    shutil.copytree(K8S, copy)
    assert problems(copy) == []


def test_a_document_that_is_no_mapping_is_refused(tmp_path: Path) -> None:
    found = problems(_broken_copy(tmp_path, "extra.yaml", "", "- just\n- a list\n"))
    assert found == ["cannot load the manifests: extra.yaml: document 1 is not a mapping"]


def test_validate_script_fails_on_a_broken_copy(tmp_path: Path) -> None:
    broken = _broken_copy(tmp_path, "workers.yaml", "gil-lab-master:5557", "locust-master:5557")
    proc = subprocess.run([sys.executable, str(DOCKER_DIR / "validate.py"), "--k8s", str(broken)],
                          capture_output=True, text=True, timeout=300, cwd=REPO_ROOT)
    assert proc.returncode == 1, proc.stdout
    assert f"FAIL kubernetes {broken}" in proc.stdout and "names locust-master" in proc.stdout


# ---- the pieces --------------------------------------------------------------------


@pytest.mark.parametrize(("image", "name"), [
    ("gil-lab/control:local", "control"),
    ("registry.example:5000/gil-lab/app-ft", "app-ft"),
    ("registry.example:5000/team/app-gil:1.2@sha256:" + "0" * 64, "app-gil"),
    ("control", "control"),
])
def test_image_name_drops_registry_tag_and_digest(image: str, name: str) -> None:
    assert km.image_name(image) == name


@pytest.mark.parametrize(("a", "b"), [("1", "1000m"), ("2Gi", "2048Mi"), ("1k", "1000"), ("0.5", "500m"), ("1e3", "1k")])
def test_equal_quantities_compare_equal(a: str, b: str) -> None:
    assert km.quantity(a) == km.quantity(b)


def test_a_bad_quantity_is_refused() -> None:
    with pytest.raises(ValueError, match="not a Kubernetes quantity"):
        km.quantity("2 GB")


def test_selectors_follow_kubernetes() -> None:
    labels = {"app.kubernetes.io/component": "worker", "app.kubernetes.io/part-of": "gil-lab"}
    assert km.matches({"app.kubernetes.io/part-of": "gil-lab"}, labels)
    assert not km.matches({"app.kubernetes.io/part-of": "other"}, labels)
    expression = {"key": "app.kubernetes.io/component", "operator": "In", "values": ["master", "worker"]}
    assert km.matches({"matchExpressions": [expression]}, labels)
    assert not km.matches({"matchExpressions": [{**expression, "values": ["app"]}]}, labels)
    assert km.matches({"matchExpressions": [{"key": "x", "operator": "DoesNotExist"}]}, labels)
    assert not km.matches({"matchExpressions": [{"key": "x", "operator": "Exists"}]}, labels)


def test_option_values_reads_both_spellings() -> None:
    words = ["gil-lab", "compare", "--app-url", "3.14=http://a:1", "--app-url=3.14t=http://b:2", "--expect-workers"]
    assert km.option_values(words, "--app-url") == ["3.14=http://a:1", "3.14t=http://b:2"]
    assert km.option_values(words, "--expect-workers") == []  # no value after it


def test_loader_reads_every_document_of_every_file() -> None:
    expected = sum(len([d for d in yaml.safe_load_all(p.read_text()) if d]) for p in K8S.glob("*.yaml"))
    assert len(manifests()) == expected >= 9
