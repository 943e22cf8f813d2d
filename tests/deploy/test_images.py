"""The step images and what Kubernetes receives, checked offline with the real linters and
schemas: hadolint on the Dockerfile, Kubernetes' own OpenAPI schemas (kubernetes-validate, strict:
an unknown key is an error) on every step Job and on the pods the Helm values describe, for the
oldest and newest Kubernetes the deployment supports. Nothing here runs docker, helm or a
cluster."""

from __future__ import annotations

import copy
import re
import shlex
import subprocess
import sys
from importlib.metadata import distribution
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
from images import REPO, canonical, closure, image_roots, ui_only
from test_k8s import ASSET_STAGES, DEPLOY, DEPLOYMENT, VALUES, dockerfile, step_job

from moviefaces_dag.defs.k8s import FACE_MODELS, k8s_op_tags

HADOLINT = Path(sys.executable).parent / "hadolint"
KUBERNETES = ["1.30.0", kubernetes_validate.latest_version()]
INSTALL = (DEPLOY / "install.sh").read_text()


def test_dockerfile_passes_hadolint() -> None:
    done = subprocess.run([str(HADOLINT), "--failure-threshold", "style",
                           str(DEPLOY / "Dockerfile")], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_hadolint_fails_a_bad_dockerfile(tmp_path: Path) -> None:
    """The check above can fail: an unpinned apt install is refused."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:3.11-slim\nRUN apt-get update && apt-get install -y curl\n")
    done = subprocess.run([str(HADOLINT), str(bad)], capture_output=True, text=True)
    assert done.returncode != 0 and "DL3008" in done.stdout


def stages() -> list[str]:
    return re.findall(r"^FROM \S+ AS (\w+)$", (DEPLOY / "Dockerfile").read_text(), re.MULTILINE)


def test_a_cpu_and_a_gpu_image_and_cpu_is_the_default() -> None:
    assert stages() == ["base", "gpu", "cpu"]  # docker builds the last stage by default
    runs = [args for instruction, args in dockerfile() if instruction == "RUN"]
    assert [run for run in runs if "install.sh" in run] == [
        "sh /tmp/moviefaces/install.sh gpu && rm -rf /tmp/moviefaces",
        "sh /tmp/moviefaces/install.sh cpu && rm -rf /tmp/moviefaces"]
    users = [args for instruction, args in dockerfile() if instruction == "USER"]
    assert users == ["10001", "10001"]


def test_every_install_takes_its_versions_from_the_constraints() -> None:
    copied = [shlex.split(args) for instruction, args in dockerfile() if instruction == "COPY"]
    assert "constraints.txt" in copied[0]
    installs = re.findall(r"^\s*pip install (.*)$", INSTALL, re.MULTILINE)
    assert installs and all(line.startswith('-c "$here/constraints.txt" ') for line in installs)
    pinned = {canonical(line.split("==")[0]) for line in
              (REPO / "constraints.txt").read_text().splitlines() if "==" in line}
    assert {"dagster-aws", "onnxruntime-gpu", "tritonclient"} <= pinned
    # the GPU image's CUDA and cuDNN wheels (onnxruntime-gpu's cuda and cudnn extras) too
    assert {"nvidia-cuda-runtime", "nvidia-cudnn-cu13", "nvidia-cublas"} <= pinned


def test_the_gpu_image_swaps_onnxruntime_for_onnxruntime_gpu() -> None:
    gpu = INSTALL.split('if [ "$flavour" = gpu ]; then', 1)[1].split("fi", 1)[0]
    assert "pip uninstall -y onnxruntime" in gpu
    assert '"onnxruntime-gpu[cuda,cudnn]"' in gpu


def test_the_image_leaves_out_exactly_what_only_the_webserver_and_dg_need() -> None:
    listed = set(re.search(r'UI_ONLY="([^"]*)"', INSTALL).group(1).split())
    assert listed == ui_only() - {"setuptools"}  # the base image's own stays
    assert {"dagster-webserver", "dagster-dg-cli", "dagster-graphql"} <= listed
    assert "dagster-aws" in closure(image_roots(), set())


def top_level_modules(names: set[str]) -> set[str]:
    modules = set()
    for name in names:
        files = distribution(name).files or []
        modules |= {str(f).split("/")[0].removesuffix(".py") for f in files
                    if str(f).endswith((".py", "/__init__.py")) and ".dist-info" not in str(f)
                    and not str(f).startswith("..")}
    return modules


def test_a_pod_imports_nothing_the_image_leaves_out() -> None:
    """The code server's command, a step's command and the executors, run with the modules the
    image leaves out made unimportable."""
    banned = sorted(top_level_modules(ui_only() - {"setuptools"}))
    code = f"""
import sys
BANNED = set({banned!r})
class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BANNED:
            raise ImportError("left out of the image: " + name)
sys.meta_path.insert(0, Refuse())
import moviefaces_dag.definitions, moviefaces_dag.cli
import dagster_k8s, dagster_celery.executor, dagster_postgres, dagster_aws.s3.compute_log_manager
from dagster._cli import cli
for args in (["code-server", "start", "--help"], ["api", "execute_step", "--help"]):
    try:
        cli.main(args, prog_name="dagster")
    except SystemExit as exit:
        assert exit.code in (0, None), args
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=REPO, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "dagster_webserver" in banned and "graphene" in banned


# Kubernetes -------------------------------------------------------------------------------------

def valid(resource: dict[str, Any], version: str) -> None:
    try:
        kubernetes_validate.validate(resource, version, strict=True)
    except kubernetes_validate.ValidationError as exc:
        pytest.fail(f"{resource['kind']} invalid for Kubernetes {version}: {exc}")


@pytest.mark.parametrize("version", KUBERNETES)
def test_every_step_job_is_valid_kubernetes(version: str) -> None:
    for backend in sorted(FACE_MODELS):
        for stage in ASSET_STAGES:
            valid(step_job(k8s_op_tags(stage, backend)), version)


def values_pod() -> dict[str, Any]:
    """The code server's Deployment as the chart builds it from the user deployment's values
    (templates/deployment-user.yaml, for the keys values.yaml sets); a copy, free to change."""
    return copy.deepcopy(_values_pod())


def _values_pod() -> dict[str, Any]:
    image = DEPLOYMENT["image"]
    container = {
        "name": DEPLOYMENT["name"],
        "image": f"{image['repository']}:{image['tag']}",
        "imagePullPolicy": image["pullPolicy"],
        "args": ["dagster", "code-server", "start", "-h", "0.0.0.0", "-p",
                 str(DEPLOYMENT["port"]), *DEPLOYMENT["codeServerArgs"]],
        "env": DEPLOYMENT.get("env", []),
        "envFrom": [{"secretRef": {"name": ref["name"]}}
                    for ref in DEPLOYMENT.get("envSecrets", [])],
        "volumeMounts": DEPLOYMENT.get("volumeMounts", []),
        "ports": [{"name": "grpc", "containerPort": DEPLOYMENT["port"]}],
        **{key: DEPLOYMENT[key] for key in ("resources", "securityContext", "livenessProbe",
                                            "readinessProbe", "startupProbe")
           if key in DEPLOYMENT},
    }
    labels = {"app": DEPLOYMENT["name"]}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": DEPLOYMENT["name"], "labels": labels},
            "spec": {"selector": {"matchLabels": labels}, "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [container], "volumes": DEPLOYMENT.get("volumes", []),
                         **{key: DEPLOYMENT[key] for key in (
                             "nodeSelector", "affinity", "tolerations", "podSecurityContext")
                            if key in DEPLOYMENT}}}}}


@pytest.mark.parametrize("version", KUBERNETES)
def test_helm_values_pods_are_valid_kubernetes(version: str) -> None:
    pod = values_pod()
    if "podSecurityContext" in DEPLOYMENT:
        spec = pod["spec"]["template"]["spec"]
        spec["securityContext"] = spec.pop("podSecurityContext")
    valid(pod, version)
    launcher = VALUES["runLauncher"]["config"]["k8sRunLauncher"]
    assert not {"volumes", "volumeMounts", "resources"} & set(launcher) or valid(
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "run"}, "spec": {
            "containers": [{"name": "run", "image": "x",
                            "volumeMounts": launcher.get("volumeMounts", []),
                            **({"resources": launcher["resources"]}
                               if "resources" in launcher else {})}],
            "volumes": launcher.get("volumes", [])}}, version)


def test_strict_validation_refuses_a_misspelt_key() -> None:
    """The checks above can fail: a volume mount's misspelt key is refused."""
    pod = values_pod()
    pod["spec"]["template"]["spec"]["containers"][0]["volumeMounts"][0]["mountpath"] = "/x"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(pod, KUBERNETES[0], strict=True)
