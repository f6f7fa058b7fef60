"""What can be checked of the deployment without a Docker engine or a cluster: the compose file
against the Compose specification and the properties a region relies on for years; the image
against hadolint and its own promises; the Kubernetes manifests, rendered by Kustomize, against
the Kubernetes schemas. (The broker definitions and the entry commands run for real in
tests/integration/test_deployment.py and every other integration test.)"""
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from services.common.config import SERVICES
from tests.support import ROOT

BIN = Path(sys.executable).parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES_OF_COMPOSE = COMPOSE["services"]
ONE_SHOT = {"rabbitmq-definitions", "wilayah-import"}
LONG_RUNNING = {name for name in SERVICES_OF_COMPOSE if name not in ONE_SHOT}
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|KEY", re.IGNORECASE)


def run(*command):
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_the_compose_file_follows_the_compose_specification():
    result = run(str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec", "docker-compose.yml")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", sorted(SERVICES_OF_COMPOSE))
def test_every_image_is_pinned(name):
    image = SERVICES_OF_COMPOSE[name]["image"]
    image = re.sub(r"\$\{[A-Z_]+:-([^}]+)\}", r"\1", image)  # the default of an interpolation
    repository, _, tag = image.rpartition(":")
    assert repository and tag and tag != "latest" and re.search(r"[0-9]", tag), image


@pytest.mark.parametrize("name", sorted(LONG_RUNNING))
def test_long_running_containers_restart_have_a_memory_limit_and_a_healthcheck(name):
    service = SERVICES_OF_COMPOSE[name]
    assert service["restart"] in ("unless-stopped", "always")
    assert service["deploy"]["resources"]["limits"]["memory"]
    if "profiles" not in service:  # the management UI's port forwarder is optional
        assert service["healthcheck"]["test"] and not service["healthcheck"].get("disable")


def test_one_shot_jobs_run_once_and_everything_waits_for_what_it_needs():
    for name in ONE_SHOT:
        assert SERVICES_OF_COMPOSE[name]["restart"] == "no"
    for name, service in SERVICES_OF_COMPOSE.items():
        for needed, condition in service.get("depends_on", {}).items():
            expected = "service_completed_successfully" if needed in ONE_SHOT else "service_healthy"
            assert condition["condition"] == expected, (name, needed)
    for name in ("gateway", *SERVICES):
        assert {"rabbitmq", "mongodb"} <= set(SERVICES_OF_COMPOSE[name]["depends_on"]) or name == "gateway"
    assert set(SERVICES_OF_COMPOSE["gateway"]["depends_on"]) == set(SERVICES)
    assert "wilayah-import" in SERVICES_OF_COMPOSE["organisasi"]["depends_on"]


def test_the_broker_and_the_database_keep_their_data_and_the_broker_its_name():
    rabbitmq, mongodb = SERVICES_OF_COMPOSE["rabbitmq"], SERVICES_OF_COMPOSE["mongodb"]
    assert rabbitmq["hostname"] == "rabbitmq"
    assert "rabbitmq-data:/var/lib/rabbitmq" in rabbitmq["volumes"]
    assert any(volume.startswith("rabbitmq-definitions:/etc/rabbitmq/definitions") for volume in rabbitmq["volumes"])
    assert "mongodb-data:/data/db" in mongodb["volumes"]
    assert set(COMPOSE["volumes"]) == {"rabbitmq-data", "rabbitmq-definitions", "mongodb-data"}
    # Authentication on, a replica set initiated by the healthcheck.
    assert "MONGO_INITDB_ROOT_PASSWORD" in mongodb["environment"]
    assert "--replSet rs0" in (ROOT / "deploy/mongo/entrypoint.sh").read_text()
    assert "rs.initiate" in " ".join(mongodb["healthcheck"]["test"])
    # The management UI only with its profile, only on loopback.
    assert "15672" not in str(rabbitmq.get("ports"))
    assert SERVICES_OF_COMPOSE["rabbitmq-management"]["profiles"] == ["management"]
    assert SERVICES_OF_COMPOSE["rabbitmq-management"]["ports"] == ["127.0.0.1:15672:15672"]


def test_services_can_scale_out():
    for name in SERVICES:
        service = SERVICES_OF_COMPOSE[name]
        assert "container_name" not in service and "ports" not in service and "hostname" not in service


def environment_values():
    for name, service in SERVICES_OF_COMPOSE.items():
        environment = service.get("environment", {})
        for key, value in (environment.items() if isinstance(environment, dict) else ()):
            yield name, key, str(value)


def test_no_secret_is_written_in_the_compose_file():
    for name, key, value in environment_values():
        if key.endswith("_FILE"):  # where a secret is mounted, not the secret
            assert value.startswith("/run/secrets/"), (name, key)
        elif SECRET_NAME.search(key):
            assert re.fullmatch(r"\$\{[A-Z_]+(:\?[^}]*|:-)?\}", value), (name, key)
        for userinfo in re.findall(r"://([^@/]+)@", value):  # credentials inside a URI
            assert re.fullmatch(r"(\$\{[^}]+\}|[^:]*):\$\{[^}]+\}", userinfo), (name, key)
    assert not re.search(r"ganti-|password\s*[:=]\s*[\"']?\w", (ROOT / "docker-compose.yml").read_text(), re.I)


def test_every_process_checks_tokens_with_the_public_key_and_only_akun_holds_the_private_key():
    assert set(COMPOSE["secrets"]) == {"jwt-private", "jwt-public", "layanan-publik",
                                       *(f"layanan-{name}" for name in SERVICES)}
    for name in ("gateway", *SERVICES):
        service = SERVICES_OF_COMPOSE[name]
        assert service["environment"]["JWT_PUBLIC_KEYS_FILE"] == "/run/secrets/jwt-public", name
        assert "jwt-public" in service["secrets"], name
        holds_private = "jwt-private" in service["secrets"] or "JWT_PRIVATE_KEY_FILE" in service["environment"]
        assert holds_private is (name == "akun"), name
    assert SERVICES_OF_COMPOSE["akun"]["environment"]["JWT_PRIVATE_KEY_FILE"] == "/run/secrets/jwt-private"
    assert "JWT_SECRET" not in (ROOT / "docker-compose.yml").read_text() + (ROOT / ".env.example").read_text()
    assert "python -m services.common.keys" in (ROOT / ".env.example").read_text()


def test_each_service_holds_its_own_key_only_and_every_services_public_key():
    for name in SERVICES:
        service = SERVICES_OF_COMPOSE[name]
        own = [secret for secret in service["secrets"] if secret.startswith("layanan-") and secret != "layanan-publik"]
        assert own == [f"layanan-{name}"], name
        assert service["environment"]["SERVICE_KEY_FILE"] == f"/run/secrets/layanan-{name}", name
        assert service["environment"]["SERVICE_PUBLIC_KEYS_FILE"] == "/run/secrets/layanan-publik", name
    assert not any(secret.startswith("layanan-") and secret != "layanan-publik"
                   for secret in SERVICES_OF_COMPOSE["gateway"]["secrets"])


def test_every_variable_the_compose_file_reads_is_documented_in_env_example():
    used = set(re.findall(r"\$\{([A-Z_]+)", (ROOT / "docker-compose.yml").read_text()))
    documented = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert used <= documented, used - documented


def test_the_image_is_clean_under_hadolint_and_keeps_its_promises():
    dockerfiles = sorted((ROOT / "deploy").glob("**/Dockerfile*"))
    assert dockerfiles
    for dockerfile in dockerfiles:
        result = run(str(BIN / "hadolint"), str(dockerfile))
        assert result.returncode == 0, result.stdout + result.stderr
    text = (ROOT / "deploy/Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+)", text, re.M)
    assert len(stages) == 2 and all(re.search(r":[0-9][^ ]*-slim", image) for image in stages)
    final = text.split("\nFROM ")[-1]
    assert re.search(r"^USER 10001", final, re.M) and "HEALTHCHECK" in final and "ENTRYPOINT" in final
    assert "apt-get" not in final and "gcc" not in final
    assert "requirements.runtime.lock" in text


def test_the_images_lock_is_the_projects_lock_without_the_test_tools_and_the_embedded_database():
    def pins(path):
        return {line.split("==")[0].lower().replace("_", "-"): line.split("==")[1]
                for line in (ROOT / path).read_text().splitlines() if "==" in line}
    runtime, everything = pins("deploy/requirements.runtime.lock"), pins("requirements.lock")
    assert all(everything.get(name) == version for name, version in runtime.items()), \
        {name for name in runtime if everything.get(name) != runtime[name]}
    assert not {"pytest", "secantusdb", "ruff", "hypothesis"} & set(runtime)


def test_the_entrypoint_names_every_role():
    text = (ROOT / "deploy/entrypoint.sh").read_text()
    assert "|".join(SERVICES) + ")" in text
    for role in ("gateway)", "import-wilayah)", "subscribe)", "healthcheck)"):
        assert role in text


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    kubectl = shutil.which("kubectl")
    assert kubectl, "rendering the Kustomize overlay needs kubectl (its built-in kustomize)"
    result = run(kubectl, "kustomize", "deploy/k8s/overlays/example")
    assert result.returncode == 0, result.stderr
    path = tmp_path_factory.mktemp("k8s") / "rendered.yaml"
    path.write_text(result.stdout)
    return path, [document for document in yaml.safe_load_all(result.stdout) if document]


def test_the_rendered_manifests_are_valid_kubernetes(rendered):
    path, _ = rendered
    result = run(str(BIN / "kubernetes-validate"), "--strict", "--quiet", str(path))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_manifests_probe_limit_scale_and_protect_every_part(rendered):
    _, documents = rendered
    by_kind = {}
    for document in documents:
        by_kind.setdefault(document["kind"], {})[document["metadata"]["name"]] = document
    assert set(by_kind["Deployment"]) == {"gateway", *SERVICES}
    for name, deployment in by_kind["Deployment"].items():
        [container] = deployment["spec"]["template"]["spec"]["containers"]
        assert container["readinessProbe"] and container["livenessProbe"], name
        assert container["resources"]["requests"]["memory"] and container["resources"]["limits"]["memory"], name
        assert not container["image"].endswith(":latest") and ":" in container["image"], name
        assert deployment["metadata"]["namespace"] == "bkpm-jateng"
        assert name in by_kind["PodDisruptionBudget"], name
    gateway = by_kind["Deployment"]["gateway"]["spec"]["template"]["spec"]["containers"][0]
    assert gateway["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert by_kind["HorizontalPodAutoscaler"]["gateway"]["spec"]["scaleTargetRef"]["name"] == "gateway"
    assert by_kind["Deployment"]["kegiatan"]["spec"]["replicas"] == 3  # the overlay's patch
    assert "Secret" not in by_kind  # referenced, never committed
    config = next(iter(by_kind["ConfigMap"].values()))["data"]
    for name, deployment in by_kind["Deployment"].items():
        pod = deployment["spec"]["template"]["spec"]
        [container] = pod["containers"]
        mounts = {mount["name"]: mount["mountPath"] for mount in container["volumeMounts"]}
        volumes = {volume["name"]: volume for volume in pod["volumes"]}
        assert config["JWT_PUBLIC_KEYS_FILE"].startswith(mounts["jwt-public"] + "/"), name
        assert volumes["jwt-public"]["configMap"]["name"] == "bkpm-jwt-public", name
        env = {variable["name"]: variable.get("value") for variable in container["env"]}
        assert ("jwt-private" in mounts) is ("JWT_PRIVATE_KEY_FILE" in env) is (name == "akun"), name
    akun = by_kind["Deployment"]["akun"]["spec"]["template"]["spec"]
    assert akun["volumes"][-1]["secret"]["secretName"] == "bkpm-jwt-private"
    assert akun["securityContext"]["fsGroup"] == 10001  # the key is readable by the pod's user


def test_named_volumes_the_images_user_writes_to_exist_in_the_image_owned_by_it():
    dockerfile = (ROOT / "deploy/Dockerfile").read_text()
    for name, service in SERVICES_OF_COMPOSE.items():
        if "bkpm" not in service["image"]:
            continue
        for volume in service.get("volumes", []):
            source, target = volume.split(":")[:2]
            if source in COMPOSE["volumes"] and not volume.endswith(":ro"):
                assert f"install -d -o bkpm -g bkpm {target}" in dockerfile, (name, volume)
