"""What can be checked of the deployment without a Docker engine or a cluster: the compose file
against the Compose specification and the properties a region relies on for years; the image
against hadolint and its own promises; the Kubernetes manifests, rendered by Kustomize, against
the Kubernetes schemas, and who may reach what (least privilege) in both. (The broker
definitions, its configuration and the entry commands run for real in
tests/integration/test_deployment.py and every other integration test.)"""
import base64
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from services.bantuan import domain as bantuan_domain
from services.common import attachments
from services.common.config import SERVICES
from tests.support import ROOT

BIN = Path(sys.executable).parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES_OF_COMPOSE = COMPOSE["services"]
ONE_SHOT = {"rabbitmq-definitions", "wilayah-import"}
LONG_RUNNING = {name for name in SERVICES_OF_COMPOSE if name not in ONE_SHOT}
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|KEY", re.IGNORECASE)
RABBITMQ_CONF = ROOT / "deploy/rabbitmq/rabbitmq.conf"
MONGO_INIT = ROOT / "deploy/mongo/init.js"


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
    assert set(SERVICES_OF_COMPOSE["gateway"]["depends_on"]) == {*SERVICES, "valkey"}
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
    assert "--file /opt/bkpm/mongo-init.js" in " ".join(mongodb["healthcheck"]["test"])
    assert "./deploy/mongo/init.js:/opt/bkpm/mongo-init.js:ro" in mongodb["volumes"]
    assert "rs.initiate" in MONGO_INIT.read_text()
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
        if value == "None":  # no value: passed from .env when set there
            continue
        if key.endswith("_FILE"):  # where a secret is mounted, not the secret
            assert value.startswith("/run/secrets/"), (name, key)
        elif SECRET_NAME.search(key):
            assert re.fullmatch(r"\$\{[A-Z_]+(:\?[^}]*|:-)?\}", value), (name, key)
        for userinfo in re.findall(r"://([^@/]+)@", value):  # credentials inside a URI
            assert re.fullmatch(r"(\$\{[^}]+\}|[^:]*):\$\{[^}]+\}", userinfo), (name, key)
    assert not re.search(r"ganti-|password[ \t]*[:=][ \t]*[\"']?\w", (ROOT / "docker-compose.yml").read_text(), re.I)


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


def test_every_variable_of_env_example_reaches_a_container():
    """Without a shared env_file, a variable .env sets but no container is given does nothing."""
    documented = set(re.findall(r"^#? ?([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    interpolated = set(re.findall(r"\$\{([A-Z_]+)", (ROOT / "docker-compose.yml").read_text()))
    passed = set().union(*(variables_from_env_file(service) for service in SERVICES_OF_COMPOSE.values()))
    assert documented <= interpolated | passed, documented - interpolated - passed


def test_the_image_is_clean_under_hadolint_and_keeps_its_promises():
    dockerfiles = sorted((ROOT / "deploy").glob("**/Dockerfile*"))
    assert dockerfiles
    for dockerfile in dockerfiles:
        result = run(str(BIN / "hadolint"), str(dockerfile))
        assert result.returncode == 0, result.stdout + result.stderr
    text = (ROOT / "deploy/Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+)", text, re.M)
    assert len(stages) == 3 and stages[0].startswith("node:")  # the web's assets, the build, the image
    assert all(re.search(r":[0-9][^ ]*-slim", image) for image in stages)
    assert "npm ci --omit=dev" in text and "python -m web.build" in text  # assets pinned by the lock, hashed
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
    for role in ("gateway)", "import-wilayah)", "subscribe)", "healthcheck)", "alive)"):
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


@pytest.fixture(scope="module")
def manifests(rendered):
    """The rendered overlay as {kind: {name: document}}."""
    by_kind = {}
    for document in rendered[1]:
        by_kind.setdefault(document["kind"], {})[document["metadata"]["name"]] = document
    return by_kind


def unhashed(name):
    """A generated ConfigMap's name without the hash Kustomize appends."""
    return re.sub(r"-[a-z0-9]{10}$", "", name)


def platform_deployments(manifests):
    """The Deployments running the platform's own image (not its Valkey)."""
    return {name: deployment for name, deployment in manifests["Deployment"].items()
            if deployment["spec"]["template"]["spec"]["containers"][0]["image"].rpartition(":")[0].endswith("bkpm")}


def test_the_manifests_probe_limit_scale_and_protect_every_part(manifests):
    by_kind = manifests
    assert set(by_kind["Deployment"]) == {"gateway", "web", *SERVICES, "valkey"}
    assert set(platform_deployments(by_kind)) == {"gateway", "web", *SERVICES}
    for name, deployment in by_kind["Deployment"].items():
        [container] = deployment["spec"]["template"]["spec"]["containers"]
        assert container["readinessProbe"] and container["livenessProbe"], name
        assert container["resources"]["requests"]["memory"] and container["resources"]["limits"]["memory"], name
        assert not container["image"].endswith(":latest") and ":" in container["image"], name
        assert deployment["metadata"]["namespace"] == "bkpm-jateng"
        pod_security = deployment["spec"]["template"]["spec"]["securityContext"]
        assert pod_security["runAsNonRoot"] and container["securityContext"]["readOnlyRootFilesystem"], name
    # Valkey, one replica with nothing on disk, may be drained: the gateways count on their own meanwhile.
    assert set(by_kind["PodDisruptionBudget"]) == {"gateway", "web", *SERVICES}
    assert by_kind["HorizontalPodAutoscaler"]["gateway"]["spec"]["scaleTargetRef"]["name"] == "gateway"
    assert by_kind["Deployment"]["kegiatan"]["spec"]["replicas"] == 3  # the overlay's patch
    assert "Secret" not in by_kind  # referenced, never committed
    config = next(config for name, config in by_kind["ConfigMap"].items() if unhashed(name) == "bkpm-config")["data"]
    for name, deployment in platform_deployments(by_kind).items():
        if name == "web":  # checks no token: it calls the gateway as any front-end does
            continue
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


# Least privilege: which container may read which secret of .env. The platform's broker
# password goes into AMQP_URI; each service's database password into its own MONGO_URI.
SECRETS_READ_BY = {
    "RABBITMQ_PASSWORD": {"rabbitmq-definitions", "gateway", *SERVICES},
    "OUTSIDE_SYSTEMS": {"rabbitmq-definitions"},
    "MONGO_PASSWORD": {"mongodb"},
    "MONGO_REPLICA_KEY": {"mongodb"},
    **{f"MONGO_{name.upper()}_PASSWORD": {"mongodb", name} for name in SERVICES},
    "SMTP_USER": {"notifikasi"},
    "SMTP_PASSWORD": {"notifikasi"},
    "SMS_PROVIDER_TOKEN": {"notifikasi"},
    "WHATSAPP_PROVIDER_TOKEN": {"notifikasi"},
    "ALTCHA_HMAC_KEY": {"gateway"},
    "WEB_SECRET_KEY": {"web"},
    "VALKEY_PASSWORD": {"gateway", "valkey"},  # the gateway's in RATE_LIMIT_STORAGE_URI
}
SECRETS_READ_BY["MONGO_ORGANISASI_PASSWORD"] |= {"wilayah-import"}  # it writes organisasi's database


def variables_from_env_file(service):
    """The .env variables a container receives: interpolated into its environment, or passed
    through by a name without a value."""
    environment = service.get("environment", {})
    passed = {key for key, value in environment.items() if value is None}
    return passed | set(re.findall(r"\$\{([A-Z_]+)", json.dumps(environment)))


def test_no_container_gets_every_variable_and_each_secret_only_the_containers_that_use_it():
    assert not [name for name, service in SERVICES_OF_COMPOSE.items() if "env_file" in service]
    for name, service in SERVICES_OF_COMPOSE.items():
        for secret in variables_from_env_file(service) & set(SECRETS_READ_BY):
            assert name in SECRETS_READ_BY[secret], (name, secret)
    for secret, readers in SECRETS_READ_BY.items():
        assert {name for name, service in SERVICES_OF_COMPOSE.items()
                if secret in variables_from_env_file(service)} == readers, secret


def test_each_service_connects_to_mongodb_as_its_own_user_and_the_gateway_not_at_all():
    for name in SERVICES:
        uri = SERVICES_OF_COMPOSE[name]["environment"]["MONGO_URI"]
        user, password = re.match(r"mongodb://([^:]+):\$\{([A-Z_]+)", uri).groups()
        assert (user, password) == (name, f"MONGO_{name.upper()}_PASSWORD"), name
    assert SERVICES_OF_COMPOSE["wilayah-import"]["environment"]["MONGO_URI"] == \
        SERVICES_OF_COMPOSE["organisasi"]["environment"]["MONGO_URI"]
    gateway = SERVICES_OF_COMPOSE["gateway"]
    assert not [key for key in gateway["environment"] if "MONGO" in key]
    # MongoDB is only on a network without a way out, which the gateway and the broker are not on.
    assert COMPOSE["networks"]["database"]["internal"] is True
    assert SERVICES_OF_COMPOSE["mongodb"]["networks"] == ["database"]
    on_database = {name for name, service in SERVICES_OF_COMPOSE.items() if "database" in service.get("networks", [])}
    assert on_database == {"mongodb", "wilayah-import", *SERVICES}


def run_mongo_init(*, initiated=True, primary=True, users=(), env=None):
    """deploy/mongo/init.js under Node, with mongosh's `rs`, `db`, `quit` and `print` played by
    stubs: what it did, and its exit code."""
    env = {f"MONGO_{name.upper()}_PASSWORD": f"sandi-{name}" for name in SERVICES} if env is None else env
    harness = """
const vm = require('vm'); const fs = require('fs');
const [file, scenario] = [process.argv[1], JSON.parse(process.argv[2])];
const done = [];
const context = {
  process: {env: scenario.env}, print: () => {},
  quit: (code) => done.push(['quit', code]),
  rs: {status: () => { if (!scenario.initiated) throw new Error('no replset config'); return {ok: 1}; },
       initiate: (config) => done.push(['initiate', config])},
  db: {hello: () => ({isWritablePrimary: scenario.primary}),
       getSiblingDB: (name) => ({
         getUser: (user) => (scenario.users.includes(user) ? {user} : null),
         createUser: (spec) => done.push(['createUser', name, spec])})},
};
vm.runInNewContext(fs.readFileSync(file, 'utf8'), context);
console.log(JSON.stringify(done));
"""
    scenario = {"initiated": initiated, "primary": primary, "users": list(users), "env": env}
    result = run("node", "-e", harness, str(MONGO_INIT), json.dumps(scenario))
    assert result.returncode == 0, result.stderr
    done = json.loads(result.stdout)
    assert done[-1][0] == "quit"
    return done[:-1], done[-1][1]


def test_the_databases_init_makes_the_replica_set_and_one_user_per_service_with_rights_on_its_own_database():
    done, code = run_mongo_init(initiated=False)
    assert [what for what, *_ in done] == ["initiate"] and code == 1  # healthy once a primary is elected
    assert done[0][1]["members"] == [{"_id": 0, "host": "mongodb:27017"}]
    done, code = run_mongo_init()
    assert code == 0
    assert [(database, spec["user"], spec["pwd"], spec["roles"]) for _, database, spec in done] == [
        ("admin", name, f"sandi-{name}", [{"role": "readWrite", "db": f"bkpm_{name}"}]) for name in SERVICES]
    assert run_mongo_init(users=SERVICES) == ([], 0)  # every later check changes nothing
    assert run_mongo_init(primary=False) == ([], 1)
    done, code = run_mongo_init(env={"MONGO_ORGANISASI_PASSWORD": "sandi"})  # a password missing
    assert code == 1 and [spec["user"] for _, _, spec in done] == ["organisasi"]


def broker_settings():
    return dict(line.split(" = ", 1) for line in RABBITMQ_CONF.read_text().splitlines()
                if line.strip() and not line.startswith("#"))


def test_outside_systems_reach_the_broker_only_over_tls_with_a_client_certificate():
    rabbitmq = SERVICES_OF_COMPOSE["rabbitmq"]
    assert rabbitmq["ports"] == ["${AMQPS_PUBLISH:-5671}:5671"]  # plain AMQP is never published
    assert "${RABBITMQ_TLS_DIR:-./tls}:/etc/rabbitmq/tls:ro" in rabbitmq["volumes"]
    conf = broker_settings()
    assert conf["listeners.ssl.default"] == "5671"
    assert all(conf[f"ssl_options.{name}"].startswith("/etc/rabbitmq/tls/")
               for name in ("cacertfile", "certfile", "keyfile"))
    assert conf["ssl_options.verify"] == "verify_peer" and conf["ssl_options.fail_if_no_peer_cert"] == "true"
    assert {value for key, value in conf.items() if key.startswith("ssl_options.versions.")} == {"tlsv1.3", "tlsv1.2"}
    assert conf["loopback_users.guest"] == "true"


def test_the_broker_takes_the_largest_message_the_platform_sends():
    """The largest RPC requests, JSON-encoded as gateway/rpc.py does, with room to spare (RabbitMQ
    4 takes 16 MiB unless told): an attachment of the largest size, base64, and a part of a
    recipients' import at its largest, every character one JSON escapes."""
    attachment = base64.b64encode(b"\xff" * attachments.MAX_BYTES).decode()
    import_part = '"' * (bantuan_domain.PART_BYTES + bantuan_domain.PART_MAX_BYTES)
    limit = int(broker_settings()["max_message_size"])
    for payload in (attachment, import_part):
        request = json.dumps({"args": ["x" * 2000, "k-1", {"berkas": payload}], "kwargs": {}})
        assert len(request.encode()) * 1.5 < limit <= 512 * 1024 * 1024, (len(request), limit)


def pods_of(manifests):
    """{name: pod spec} of every Deployment and Job."""
    return {name: document["spec"]["template"] for kind in ("Deployment", "Job")
            for name, document in manifests[kind].items()}


def references(pod):
    """The Secrets and ConfigMaps a pod's containers read, by kind."""
    found = {"Secret": set(), "ConfigMap": set()}
    for container in pod["spec"]["containers"]:
        for source in container.get("envFrom", []):
            for key, kind in (("secretRef", "Secret"), ("configMapRef", "ConfigMap")):
                if key in source:
                    found[kind].add(source[key]["name"])
        for variable in container.get("env", []):
            for key, kind in (("secretKeyRef", "Secret"), ("configMapKeyRef", "ConfigMap")):
                if key in variable.get("valueFrom", {}):
                    found[kind].add(variable["valueFrom"][key]["name"])
    for volume in pod["spec"].get("volumes", []):
        if "secret" in volume:
            found["Secret"].add(volume["secret"]["secretName"])
    found["ConfigMap"] = {unhashed(name) for name in found["ConfigMap"]}  # generated ones only
    return found


def test_each_pod_reads_only_the_secrets_its_process_uses(manifests):
    expected = {
        "gateway": {"bkpm-rabbitmq", "bkpm-altcha", "bkpm-valkey"},
        "web": {"bkpm-web", "bkpm-valkey"},  # the Valkey's password, for the console's logins
        "valkey": {"bkpm-valkey"},
        "wilayah-import": {"bkpm-mongodb-organisasi"},
        **{name: {"bkpm-rabbitmq", f"bkpm-mongodb-{name}", f"bkpm-layanan-{name}"} for name in SERVICES},
    }
    expected["notifikasi"] |= {"bkpm-notifikasi"}
    expected["akun"] |= {"bkpm-jwt-private"}
    pods = pods_of(manifests)
    assert {name: references(pod)["Secret"] for name, pod in pods.items()} == expected
    gateway = references(pods["gateway"])["ConfigMap"]
    assert gateway == {"bkpm-config", "bkpm-gateway-config"}  # where the database is, it is not told
    assert references(pods["web"])["ConfigMap"] == {"bkpm-web-config"}  # not even where the broker is
    for name in SERVICES:
        assert "bkpm-database-config" in references(pods[name])["ConfigMap"]
        assert "bkpm-gateway-config" not in references(pods[name])["ConfigMap"]
        [container] = pods[name]["spec"]["containers"]
        uri = next(variable["value"] for variable in container["env"] if variable["name"] == "MONGO_URI")
        assert uri.startswith(f"mongodb://{name}:$(MONGO_PASSWORD)@"), name


def test_one_service_down_is_not_the_api_down_and_a_wedged_service_is_restarted(manifests):
    for name, deployment in manifests["Deployment"].items():
        [container] = deployment["spec"]["template"]["spec"]["containers"]
        if name in ("gateway", "web"):
            # /ready asks every service: as the readiness probe, one service down would take
            # every gateway pod out of the Service.
            assert container["readinessProbe"]["httpGet"]["path"] == "/health"
            assert container["livenessProbe"]["httpGet"]["path"] == "/health"
        elif name == "valkey":
            assert container["readinessProbe"]["tcpSocket"]["port"] == "valkey"
        else:
            assert container["livenessProbe"]["exec"]["command"] == ["bkpm-entrypoint", "alive"], name
            assert container["readinessProbe"]["exec"]["command"] == ["bkpm-entrypoint", "healthcheck"], name
            mounts = {mount["mountPath"] for mount in container["volumeMounts"]}
            assert "/tmp" in mounts, name  # where the heartbeat is written, under a read-only root


def selects(selector, labels):
    """Whether a label selector (matchLabels and `In` expressions) selects a pod's labels."""
    if any(labels.get(key) != value for key, value in selector.get("matchLabels", {}).items()):
        return False
    return all(expression["operator"] == "In" and labels.get(expression["key"]) in expression["values"]
               for expression in selector.get("matchExpressions", []))


def allowed(manifests, labels, direction):
    """The ports NetworkPolicies open to or from a pod with `labels` ("ingress" or "egress"), with
    whether a rule opens them to everything outside the cluster too."""
    ports, policy_types = set(), set()
    for policy in manifests["NetworkPolicy"].values():
        if not selects(policy["spec"]["podSelector"], labels):
            continue
        policy_types |= set(policy["spec"]["policyTypes"])
        for rule in policy["spec"].get(direction, []):
            outside = any("ipBlock" in peer for peer in rule.get("to", []))
            ports |= {(port["port"], outside) for port in rule.get("ports", [])}
    assert policy_types == {"Ingress", "Egress"}, labels  # nothing is open unless a rule says so
    return ports


def test_network_policies_allow_only_the_flows_the_architecture_draws(manifests):
    pods = pods_of(manifests)
    flows = {name: (allowed(manifests, pod["metadata"]["labels"], "ingress"),
                    allowed(manifests, pod["metadata"]["labels"], "egress")) for name, pod in pods.items()}
    dns_and = {(53, False)}
    assert flows["gateway"] == ({(8000, False), (9100, False)}, dns_and | {(5672, False), (6379, False)})
    assert flows["valkey"] == ({(6379, False), (9100, False)}, dns_and)  # 9100: the scraper's rule, unused
    # browsers -> web -> gateway, and web -> Valkey (the console's logins)
    assert flows["web"] == ({(8080, False), (9100, False)}, dns_and | {(8000, False), (6379, False)})
    # The overlay lets the gateway's HTTP in from the ingress controller and the web front-end only.
    [gateway_http] = manifests["NetworkPolicy"]["bkpm-gateway-http"]["spec"]["ingress"]
    assert {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "web"}}} in gateway_http["from"]
    for name in SERVICES:
        outside = {(port, True) for port in (25, 465, 587, 443)} if name == "notifikasi" else set()
        assert flows[name] == ({(9100, False)}, dns_and | {(5672, False), (27017, False)} | outside), name
    assert flows["wilayah-import"] == ({(9100, False)}, dns_and | {(27017, False)})
    # The broker: plain AMQP from the platform's pods only, TLS from anywhere; the database from
    # the services only.
    broker = manifests["NetworkPolicy"]["bkpm-rabbitmq"]["spec"]["ingress"]
    [plain] = [rule for rule in broker if {"port": 5672, "protocol": "TCP"} in rule.get("ports", [])]
    assert plain["from"] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/part-of": "bkpm"}}}]
    assert {"ports": [{"port": 5671, "protocol": "TCP"}]} in broker
    [services] = [rule for rule in manifests["NetworkPolicy"]["bkpm-mongodb"]["spec"]["ingress"] if "ports" in rule]
    assert set(services["from"][0]["podSelector"]["matchExpressions"][0]["values"]) == {*SERVICES, "wilayah-import"}


def test_every_gateway_counts_its_rate_limits_in_the_shared_valkey_which_only_its_clients_reach(manifests):
    """One count per client address for every gateway process and replica, and a spent ALTCHA
    solution spent for all of them; the store holds nothing on disk and only its clients reach
    it: the gateway and, on Kubernetes, the web pods (the console's logins)."""
    storage = re.compile(r"valkey://:(\$\{VALKEY_PASSWORD:\?[^}]*\}|\$\(VALKEY_PASSWORD\))@valkey:6379/0\?"
                         r"socket_timeout=1&socket_connect_timeout=1")
    gateway, valkey = SERVICES_OF_COMPOSE["gateway"], SERVICES_OF_COMPOSE["valkey"]
    assert storage.fullmatch(gateway["environment"]["RATE_LIMIT_STORAGE_URI"])
    assert gateway["depends_on"]["valkey"] == {"condition": "service_healthy"}
    assert "--save ''" in valkey["command"][-1] and "--appendonly no" in valkey["command"][-1]
    assert valkey["user"] != "root" and not valkey["user"].startswith("0") and "ports" not in valkey
    # Compose: Valkey only on `limits`, a network without a way out that only the gateway shares.
    assert valkey["networks"] == ["limits"] and COMPOSE["networks"]["limits"]["internal"] is True
    assert {name for name, service in SERVICES_OF_COMPOSE.items()
            if "limits" in service.get("networks", [])} == {"gateway", "valkey"}

    # Kubernetes: the gateway's storage is the Service `valkey`, which selects the Valkey pods.
    [container] = manifests["Deployment"]["gateway"]["spec"]["template"]["spec"]["containers"]
    env = {variable["name"]: variable.get("value") for variable in container["env"]}
    assert storage.fullmatch(env["RATE_LIMIT_STORAGE_URI"])
    valkey_pod = manifests["Deployment"]["valkey"]["spec"]["template"]
    valkey_labels = valkey_pod["metadata"]["labels"]
    assert selects({"matchLabels": manifests["Service"]["valkey"]["spec"]["selector"]}, valkey_labels)
    [server] = valkey_pod["spec"]["containers"]
    assert "--save ''" in server["command"][-1] and "--appendonly no" in server["command"][-1]
    # Only the gateway's and the web's pods may send to 6379, and Valkey takes it from them alone.
    pods = pods_of(manifests)
    senders = {name for name, pod in pods.items()
               if (6379, False) in allowed(manifests, pod["metadata"]["labels"], "egress")}
    assert senders == {"gateway", "web"}
    for policy in manifests["NetworkPolicy"].values():
        if selects(policy["spec"]["podSelector"], valkey_labels):
            for rule in policy["spec"].get("ingress", []):
                if any(port["port"] == 6379 for port in rule.get("ports", [])) or "ports" not in rule:
                    [peer] = rule["from"]
                    assert set(peer) == {"podSelector"}, peer  # this namespace's pods, no other
                    assert {name for name, pod in pods.items()
                            if selects(peer["podSelector"], pod["metadata"]["labels"])} == {"gateway", "web"}
    # The web's way out to it goes to the Valkey's pods on 6379 and nowhere else.
    web_labels = pods["web"]["metadata"]["labels"]
    to_valkey = [rule for policy in manifests["NetworkPolicy"].values()
                 if selects(policy["spec"]["podSelector"], web_labels)
                 for rule in policy["spec"].get("egress", []) if {"port": 6379, "protocol": "TCP"} in rule["ports"]]
    assert to_valkey == [{"to": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "valkey"}}}],
                          "ports": [{"port": 6379, "protocol": "TCP"}]}]


def test_every_web_pod_keeps_the_consoles_logins_in_the_shared_valkey_on_a_database_of_their_own(manifests):
    """Two web replicas behind one Service: a login made at one pod holds at the other only if
    both read one store. The Valkey's password comes from its Secret, never the manifest; the
    gateway's counters are on database 0, the logins on 1. Nothing else is written, so the web
    needs no writable data folder (its cookies' key is the Secret bkpm-web too)."""
    pod = manifests["Deployment"]["web"]["spec"]["template"]["spec"]
    [container] = pod["containers"]
    env = {variable["name"]: variable for variable in container["env"]}
    assert env["VALKEY_PASSWORD"]["valueFrom"] == {"secretKeyRef": {"name": "bkpm-valkey", "key": "password"}}
    assert env["WEB_SESSION_STORAGE_URI"]["value"] == "valkey://:$(VALKEY_PASSWORD)@valkey:6379/1"
    assert list(env).index("VALKEY_PASSWORD") < list(env).index("WEB_SESSION_STORAGE_URI")  # $(...) needs it first
    assert env["WEB_SECRET_KEY"]["valueFrom"] == {"secretKeyRef": {"name": "bkpm-web", "key": "secret-key"}}
    assert manifests["Deployment"]["web"]["spec"]["replicas"] > 1
    assert [mount["mountPath"] for mount in container["volumeMounts"]] == ["/tmp"]


def test_the_web_front_end_shares_a_network_with_the_gateway_only():
    """It reaches the platform through the gateway's HTTP API: the broker, the services and the
    databases are on networks it is not on."""
    assert SERVICES_OF_COMPOSE["web"]["networks"] == ["portal"]
    assert {name for name, service in SERVICES_OF_COMPOSE.items()
            if "portal" in service.get("networks", [])} == {"gateway", "web"}
