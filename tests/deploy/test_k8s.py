"""The Kubernetes deployment (deploy/k8s) checked offline with the parsers that read it in the
cluster: dagster-k8s for the step tags and pod specs, dagster's instance schema for what the Helm
chart renders from values.yaml, moviefaces' settings loader for settings.toml, dagster's CLI for
the Dockerfile's command. Nothing here runs docker, helm or a cluster.

The chart's rendering is mirrored from dagster-io/dagster's helm/dagster templates
(templates/configmap-instance.yaml, templates/helpers/instance/*.tpl and the user deployments'
`dagsterUserDeployments.k8sContainerContext`) for the keys values.yaml sets.
"""

from __future__ import annotations

import json
import re
import shlex
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from dagster import AssetsDefinition
from dagster._cli.code_server import start_command
from dagster._config import validate_config
from dagster._core.instance.config import dagster_instance_config
from dagster._serdes.config_class import ConfigurableClassData, class_from_code_pointer
from dagster_k8s.container_context import K8sContainerContext
from dagster_k8s.job import (
    USER_DEFINED_K8S_CONFIG_KEY,
    DagsterK8sJobConfig,
    construct_dagster_k8s_job,
    get_user_defined_k8s_config,
)
from kubernetes.client import ApiClient
from kubernetes.utils import parse_quantity

from moviefaces_dag.core import settings
from moviefaces_dag.definitions import defs
from moviefaces_dag.defs.k8s import (
    FACE_MODEL_STAGES,
    FACE_MODELS,
    GPU,
    K8S_CONFIG_TAG,
    STAGES,
    k8s_op_tags,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy" / "k8s"
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
VALUES = yaml.safe_load((DEPLOY / "values.yaml").read_text())
DEPLOYMENT = VALUES["dagster-user-deployments"]["deployments"][0]
NAMESPACE = "moviefaces"
ASSET_STAGES = sorted(key.to_user_string() for a in defs.assets if isinstance(a, AssetsDefinition)
                      for key in a.keys)

# The chart's pydantic schema (helm/dagster/schema/schema/charts/...), which generates
# values.schema.json: helm refuses unknown keys where the model forbids extras, and the
# templates ignore the others, so a misspelt key here is a setting silently lost.
CHART_KEYS = {
    "": {"global", "generatePostgresqlPasswordSecret", "postgresql", "dagster-user-deployments",
         "runLauncher", "dagsterDaemon", "concurrency", "telemetry"},
    "global": {"postgresqlSecretName", "dagsterHome", "serviceAccountName",
               "celeryConfigSecretName", "dagsterInstanceConfigMap"},
    "postgresql": {"image", "enabled", "postgresqlHost", "postgresqlUsername", "postgresqlPassword",
                   "postgresqlDatabase", "postgresqlParams", "postgresqlScheme", "service"},
    "dagster-user-deployments": {"enabled", "enableSubchart", "imagePullSecrets", "deployments"},
    "deployment": {"name", "image", "port", "dagsterApiGrpcArgs", "codeServerArgs",
                   "includeConfigInLaunchedRuns", "env", "envConfigMaps", "envSecrets",
                   "annotations", "nodeSelector", "affinity", "tolerations", "podSecurityContext",
                   "securityContext", "resources", "livenessProbe", "readinessProbe",
                   "startupProbe", "labels", "volumeMounts", "volumes", "schedulerName"},
    "runLauncher.config.k8sRunLauncher": {
        "image", "imagePullPolicy", "jobNamespace", "loadInclusterConfig", "kubeconfigFile",
        "envConfigMaps", "envSecrets", "envVars", "volumeMounts", "volumes", "labels",
        "failPodOnRunFailure", "resources", "schedulerName", "securityContext", "runK8sConfig"},
    "dagsterDaemon.runRetries": {"enabled", "maxRetries", "retryOnAssetOrOpFailure"},
    "concurrency": {"enabled", "pools", "runs"},
    "concurrency.pools": {"defaultLimit", "granularity", "opGranularityRunBuffer"},
    "concurrency.runs": {"maxConcurrentRuns", "tagConcurrencyLimits"},
}


def _at(path: str) -> dict[str, Any]:
    node = DEPLOYMENT if path == "deployment" else VALUES
    for key in path.split(".") if path not in ("", "deployment") else []:
        node = node[key]
    return node


def _snake(mapping: dict[str, Any]) -> dict[str, Any]:
    """The chart's camelCase keys as dagster.yaml's snake_case ones (one level)."""
    return {re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower(): value for key, value in mapping.items()}


def _names(refs: list[dict[str, str]]) -> list[str]:
    return [ref["name"] for ref in refs]


def rendered_instance() -> dict[str, Any]:
    """dagster.yaml as the chart renders it from these values (the sections they set)."""
    pg = VALUES["postgresql"]
    postgres = {"postgres_db": {
        "username": pg["postgresqlUsername"], "password": {"env": "DAGSTER_PG_PASSWORD"},
        "hostname": pg["postgresqlHost"], "db_name": pg["postgresqlDatabase"],
        "port": pg["service"]["port"], "params": pg.get("postgresqlParams", {})}}
    launcher = VALUES["runLauncher"]["config"]["k8sRunLauncher"]
    daemon = VALUES["dagsterDaemon"]
    concurrency = VALUES["concurrency"]
    instance = {
        "run_storage": {"module": "dagster_postgres.run_storage", "class": "PostgresRunStorage",
                        "config": postgres},
        "event_log_storage": {"module": "dagster_postgres.event_log",
                              "class": "PostgresEventLogStorage", "config": postgres},
        "schedule_storage": {"module": "dagster_postgres.schedule_storage",
                             "class": "PostgresScheduleStorage", "config": postgres},
        "run_launcher": {"module": "dagster_k8s", "class": "K8sRunLauncher", "config": {
            "load_incluster_config": launcher["loadInclusterConfig"],
            "job_namespace": launcher.get("jobNamespace") or NAMESPACE,
            "image_pull_policy": launcher["imagePullPolicy"],
            "service_account_name": "moviefaces-dagster",
            "dagster_home": {"env": "DAGSTER_HOME"},
            "instance_config_map": {"env": "DAGSTER_K8S_INSTANCE_CONFIG_MAP"},
            "postgres_password_secret": {"env": "DAGSTER_K8S_PG_PASSWORD_SECRET"},
            "env_config_maps": [{"env": "DAGSTER_K8S_PIPELINE_RUN_ENV_CONFIGMAP"},
                                *_names(launcher.get("envConfigMaps", []))],
            **({"env_secrets": _names(launcher["envSecrets"])} if launcher.get("envSecrets")
               else {}),
        }},
        "run_coordinator": {"module": "dagster.core.run_coordinator",
                            "class": daemon["runCoordinator"]["type"]},
        "run_monitoring": _snake(daemon["runMonitoring"]),
        "run_retries": _snake(daemon["runRetries"]),
        "telemetry": VALUES["telemetry"],
    }
    if concurrency["enabled"]:
        instance["concurrency"] = {section: _snake(concurrency[section])
                                   for section in ("pools", "runs") if section in concurrency}
    return instance


def chart_container_context() -> dict[str, Any]:
    """The container context the chart gives the code server, passed on to its runs' pods."""
    return {"k8s": {
        "image_pull_policy": DEPLOYMENT["image"]["pullPolicy"],
        "env_config_maps": [f"moviefaces-dagster-user-deployments-{DEPLOYMENT['name']}-user-env",
                            *_names(DEPLOYMENT.get("envConfigMaps", []))],
        "env_secrets": _names(DEPLOYMENT.get("envSecrets", [])),
        "volume_mounts": DEPLOYMENT.get("volumeMounts", []),
        "volumes": DEPLOYMENT.get("volumes", []),
        "namespace": NAMESPACE,
        "service_account_name": "moviefaces-dagster-user-deployments-user-deployments",
        "env": DEPLOYMENT.get("env", []),
    }}


def step_pod(tags: dict[str, str]) -> dict[str, Any]:
    """The pod spec of a step's Kubernetes job (step_job)."""
    return step_job(tags)["spec"]["template"]["spec"]


def step_job(tags: dict[str, str]) -> dict[str, Any]:
    """A step's Kubernetes Job as the API receives it, built as dagster-k8s's k8s_job_executor
    builds it: the code location's container context, then the step's tags over it."""
    context = K8sContainerContext.create_from_config(chart_container_context()).merge(
        K8sContainerContext(run_k8s_config=get_user_defined_k8s_config(tags)))
    image = f"{DEPLOYMENT['image']['repository']}:{DEPLOYMENT['image']['tag']}"
    job = construct_dagster_k8s_job(
        job_config=DagsterK8sJobConfig(job_image=image, dagster_home="/opt/dagster/dagster_home",
                                       instance_config_map="moviefaces-dagster-instance"),
        args=["dagster", "api", "execute_step"], job_name="dagster-step-test",
        pod_name="dagster-step-test", component="step_worker",
        user_defined_k8s_config=context.run_k8s_config)
    return ApiClient().sanitize_for_serialization(job)


def dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) of deploy/k8s/Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n", " ", (DEPLOY / "Dockerfile").read_text())
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def docker_cmd() -> list[str]:
    return json.loads(next(args for instruction, args in dockerfile() if instruction == "CMD"))


# step tags ---------------------------------------------------------------------------------------

def test_tag_key_is_dagster_k8s_own() -> None:
    assert K8S_CONFIG_TAG == USER_DEFINED_K8S_CONFIG_KEY


def test_sized_stages_are_real_assets() -> None:
    assert set(STAGES) | FACE_MODEL_STAGES <= set(ASSET_STAGES)


@pytest.mark.parametrize("backend", sorted(FACE_MODELS))
@pytest.mark.parametrize("stage", ASSET_STAGES)
def test_step_tags_parse_and_gpu_only_for_face_models_on_onnx(stage: str, backend: str) -> None:
    config = get_user_defined_k8s_config(k8s_op_tags(stage, backend))
    resources = config.container_config["resources"]
    requests, limits = resources["requests"], resources["limits"]
    assert (GPU in limits) == (stage in FACE_MODEL_STAGES and backend == "onnx")
    assert parse_quantity(requests["cpu"]) > 0
    assert 0 < parse_quantity(requests["memory"]) <= parse_quantity(limits["memory"])
    assert (GPU in json.dumps(config.pod_spec_config)) == (GPU in limits)


def test_step_pod_has_its_resources_and_the_code_locations_settings() -> None:
    pod = step_pod(k8s_op_tags("face_detections", "onnx"))
    container = pod["containers"][0]
    assert container["resources"]["limits"][GPU] == "1"
    assert {"key": GPU, "operator": "Exists", "effect": "NoSchedule"} in pod["tolerations"]
    env = {item["name"]: item.get("value") for item in container["env"]}
    settings_file = Path(env[settings.SETTINGS_FILE_ENV])
    mounts = {mount["name"]: mount["mountPath"] for mount in container["volumeMounts"]}
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    mounted = [name for name, path in mounts.items() if Path(path) == settings_file.parent]
    assert mounted and "configMap" in volumes[mounted[0]]
    assert {"secretRef": {"name": "moviefaces-aws"}} in container["envFrom"]


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="backend"):
        k8s_op_tags("frames", "cuda")


# Helm values -------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", sorted(CHART_KEYS))
def test_values_use_only_the_charts_keys(path: str) -> None:
    assert set(_at(path)) <= CHART_KEYS[path]


def test_rendered_instance_validates_with_dagsters_schema(tmp_path: Path) -> None:
    instance = rendered_instance()
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(instance))
    config, _ = dagster_instance_config(str(tmp_path))
    assert config["run_monitoring"]["enabled"] and config["run_retries"]["enabled"]
    assert config["run_retries"]["max_retries"] > 0
    assert config["concurrency"]["pools"]["default_limit"] == 2
    # Each configured class imports (as in the image: dagster-k8s, dagster-postgres) and its
    # config validates against that class's own schema.
    for section in ("run_storage", "event_log_storage", "schedule_storage", "run_launcher",
                    "run_coordinator"):
        data = ConfigurableClassData(instance[section]["module"], instance[section]["class"],
                                     yaml.safe_dump(instance[section].get("config", {})))
        klass = class_from_code_pointer(data.module_name, data.class_name)
        result = validate_config(klass.config_type(), instance[section].get("config", {}))
        assert result.success, (section, result.errors)


def test_face_models_is_the_only_pool_so_the_default_limit_caps_it() -> None:
    pools = {a.op.pool for a in defs.assets if isinstance(a, AssetsDefinition) and a.op.pool}
    assert pools == {"face_models"}
    assert VALUES["concurrency"]["pools"]["defaultLimit"] >= 1


def test_moviefaces_environment_names_real_settings() -> None:
    envs = {setting.env for setting in settings.SETTINGS.values()} | {settings.SETTINGS_FILE_ENV}
    names = {item["name"] for item in DEPLOYMENT["env"]}
    assert {settings.SETTINGS_FILE_ENV, "MOVIEFACES_OUTPUT_DIR"} <= names
    assert {name for name in names if name.startswith("MOVIEFACES_")} <= envs
    assert Path(next(item["value"] for item in DEPLOYMENT["env"]
                     if item["name"] == settings.SETTINGS_FILE_ENV)).name == "settings.toml"


def test_code_server_matches_the_dockerfile() -> None:
    cmd = docker_cmd()
    assert cmd[:3] == ["dagster", "code-server", "start"]
    assert DEPLOYMENT["codeServerArgs"] == cmd[cmd.index("-m"):]
    assert str(DEPLOYMENT["port"]) == cmd[cmd.index("-p") + 1]
    exposed = [args for instruction, args in dockerfile() if instruction == "EXPOSE"]
    assert exposed == [str(DEPLOYMENT["port"])]


# settings file -----------------------------------------------------------------------------------

def test_settings_file_loads_with_moviefaces_loader(monkeypatch: pytest.MonkeyPatch) -> None:
    for setting in settings.SETTINGS.values():
        monkeypatch.delenv(setting.env, raising=False)
    for item in DEPLOYMENT["env"]:
        monkeypatch.setenv(item["name"], item["value"])
    monkeypatch.setenv(settings.SETTINGS_FILE_ENV, str(DEPLOY / "settings.toml"))
    in_force = settings.in_force()
    file_values = tomllib.loads((DEPLOY / "settings.toml").read_text())
    for section, fields in file_values.items():
        for name, value in fields.items():
            got, source = in_force[f"{section}.{name}"]
            assert (got, source.startswith(str(DEPLOY / "settings.toml"))) == (value, True)
    assert in_force["store.output_dir"] == (
        next(item["value"] for item in DEPLOYMENT["env"]
             if item["name"] == "MOVIEFACES_OUTPUT_DIR"), "$MOVIEFACES_OUTPUT_DIR")
    assert in_force["face_analyzer.backend"][0] == "triton"


# Dockerfile --------------------------------------------------------------------------------------

def test_dockerfile_copies_what_the_package_build_needs() -> None:
    copies = [shlex.split(args) for instruction, args in dockerfile() if instruction == "COPY"]
    sources = {source for copy in copies for source in copy[:-1] if not source.startswith("--")}
    assert all((REPO / source).exists() for source in sources)
    assert PROJECT["project"]["readme"] in sources
    assert {"pyproject.toml", "moviefaces_dag"} <= sources


def test_dockerfile_installs_the_farm_extra_with_the_k8s_and_postgres_libraries() -> None:
    runs = " ".join(args for instruction, args in dockerfile() if instruction == "RUN")
    assert "install.sh" in runs
    installs = (DEPLOY / "install.sh").read_text()
    extras = set(re.findall(r'pip install -c \S+ "\$here\[([^\]]+)\]"', installs)[0].split(","))
    optional = PROJECT["project"]["optional-dependencies"]
    assert extras <= set(optional)
    needed = " ".join(requirement for extra in extras for requirement in optional[extra])
    assert {"dagster-k8s", "dagster-postgres", "dagster-aws"} <= set(re.findall(r"[\w-]+", needed))
    assert "ffmpeg" not in installs + runs and "apt-get" not in installs + runs


def test_dockerfile_command_parses_and_its_module_imports() -> None:
    cmd = docker_cmd()
    context = start_command.make_context("start", cmd[3:])
    assert context.params["module_name"] == "moviefaces_dag.definitions"
    assert context.params["module_name"] == PROJECT["tool"]["dagster"]["module_name"]
    __import__(context.params["module_name"])
