"""The platform under test, started for one bench run as `make run` starts it: the four
services and the gateway under gunicorn, on a RabbitMQ vhost of the run's own and a fresh
SecantusDB on disk, so nothing collides with tests or a `make run` on the same machine."""
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import requests

from services.common.config import PRIVATE_KEY, PUBLIC_KEYS, SERVICE_PUBLIC_KEYS, SERVICES, embedded_mongo_uri
from services.common.keys import ensure_keys
from services.common.mongo import connect, ensure_indexes
from services.common.tokens import Audience, SigningKey
from services.organisasi.repository import WILAYAH, OrganisasiRepository
from services.stack import die_with_parent, free_port, ready, start_database, stop, wait_for

log = logging.getLogger("bench")

ROOT = Path(__file__).resolve().parents[1]
WILAYAH_CSV = ROOT.parent / "shared" / "data" / "wilayah.csv"
BROKER = "127.0.0.1:5672"


def rabbitmqctl(*args):
    ctl = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
    return subprocess.run([ctl, "-q", *args], check=True, capture_output=True, text=True, timeout=60).stdout.strip()


def reset_collection(db, name, indexes):
    """An empty collection `name` with these indexes, as a service finds it on first start."""
    db.drop_collection(name)
    ensure_indexes(db, {name: indexes})


class Platform:
    """Use as a context manager: everything it started is stopped and its vhost deleted however
    the run ends; its files (the processes' logs, the database) are removed unless it failed."""

    def __init__(self):
        self.workdir = Path(tempfile.mkdtemp(prefix="bkpm-bench-"))
        self.vhost = f"bkpm-bench-{uuid.uuid4().hex[:10]}"
        self.amqp_uri = f"amqp://guest:guest@{BROKER}/{quote(self.vhost, safe='')}"
        self.processes = []
        self.client = None
        self._unit = None

    def __enter__(self):
        try:
            self._start()
        except BaseException:
            self.__exit__(*sys.exc_info())
            raise
        return self

    def __exit__(self, *exc_info):
        # One at a time, last started first: the gateway ends its last requests before the
        # services go, and they theirs before the database does.
        for process in reversed(self.processes):
            stop([process])
        if self.client:
            self.client.close()
        try:
            rabbitmqctl("delete_vhost", self.vhost)
        except subprocess.CalledProcessError:
            pass  # never created
        if exc_info and exc_info[0] is not None:
            log.warning("the platform's logs are kept in %s", self.workdir)
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def _start(self):
        rabbitmqctl("add_vhost", self.vhost)
        rabbitmqctl("set_permissions", "-p", self.vhost, "guest", ".*", ".*", ".*")
        db_port = free_port()
        # On disk, as `make run` keeps its data: the imports' figures depend on it.
        self.processes.append(start_database(self.workdir / "mongo", db_port))
        self.mongo_uri = embedded_mongo_uri(db_port)  # as `make run` speaks to its embedded database
        self.client = connect(self.mongo_uri)
        self.env = self._environment()
        ensure_keys(self.workdir / "data")
        self.signing_key = SigningKey(Path(self.env["JWT_PRIVATE_KEY_FILE"]).read_bytes(), Audience("bkpm", "bkpm-api"))
        self.base = f"http://127.0.0.1:{self.env['GATEWAY_PORT']}"
        self.services = {name: self.launch(name, ["-m", f"services.{name}"]) for name in SERVICES}
        self.gateway = self.launch("gateway", ["-m", "gunicorn", "-c", "python:gateway.gunicorn_conf",
                                               "gateway.wsgi:app"])
        wait_for(lambda: ready(f"{self.base}/ready"), "the gateway's /ready", 90, self.processes)

    def _environment(self):
        """The configuration `make run` would read, with this run's broker, database, port and
        secret; everything else at its default (logs at INFO, as deployed)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BKPM_", "MONGO_", "AMQP_"))}
        env.update({
            "AMQP_URI": self.amqp_uri,
            "MONGO_URI": self.mongo_uri,
            "BKPM_DATA_DIR": str(self.workdir / "data"),
            "BKPM_DB_PREFIX": f"bench{uuid.uuid4().hex[:8]}",
            "JWT_PRIVATE_KEY_FILE": str(self.workdir / "data" / PRIVATE_KEY),
            "JWT_PUBLIC_KEYS_FILE": str(self.workdir / "data" / PUBLIC_KEYS),
            "SERVICE_PUBLIC_KEYS_FILE": str(self.workdir / "data" / SERVICE_PUBLIC_KEYS),
            "GATEWAY_PORT": str(free_port()),
            # Nobody listens there: a message notifikasi would send fails fast instead of hanging.
            "SMTP_PORT": str(free_port()),
        })
        return env

    def launch(self, name, args, **env):
        """`python args...` with the platform's environment (and `env` over it), logging to a
        file of the run, dying with this process. Stopped at the end of the run at the latest."""
        log_file = open(self.workdir / f"{name}.log", "ab")
        process = subprocess.Popen([sys.executable, *args], env={**self.env, **env}, cwd=ROOT, stdout=log_file,
                                   stderr=subprocess.STDOUT, preexec_fn=die_with_parent, start_new_session=True)
        log_file.close()  # the child holds its own copy
        process.name = name
        self.processes.append(process)
        return process

    def log(self, name):
        return (self.workdir / f"{name}.log").read_text(errors="replace")

    def db(self, service):
        return self.client[f"{self.env['BKPM_DB_PREFIX']}_{service}"]

    # What the figures send

    @property
    def headers(self):
        # A fresh one each time: a bench run outlasts an access token's 15 minutes.
        return {"Authorization": f"Bearer {self.signing_key.issue('bench', ['admin'])}"}

    def api(self, method, path, **kwargs):
        response = requests.request(method, f"{self.base}/api/v1{path}", headers=self.headers, timeout=60, **kwargs)
        if not response.ok:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:500]}")
        return response.json()

    def unit(self):
        """The unit the figures read and write for: Kota Surabaya, formed on first use under Jawa
        Timur and the national unit, as most units are (a regency or city, its activities in
        its villages)."""
        if self._unit is None:
            self.load_reference()
            self.api("POST", "/units", json={"tingkat": "nasional"})
            self.api("POST", "/units", json={"tingkat": "provinsi", "kode_wilayah": "35"})
            self._unit = self.api("POST", "/units", json={"tingkat": "kabupaten_kota", "kode_wilayah": "35.78"})
        return self._unit

    def kegiatan_body(self):
        """A valid activity of the unit in one of its villages (JSON text): the write the write
        figures send."""
        return json.dumps({
            "unit_id": self.unit()["id"], "jenis": "penyuluhan", "topik": "narkoba",
            "judul": "Penyuluhan bahaya narkoba", "mulai": "2030-12-20T09:00:00+07:00",
            "selesai": "2030-12-20T11:00:00+07:00",
            "lokasi": {"kode_wilayah": "35.78.01.1001", "alamat": "Balai RW 03"}})

    def load_reference(self):
        """The official area list, loaded once when nothing has loaded it yet."""
        if self.db("organisasi")[WILAYAH].estimated_document_count() == 0:
            self.import_wilayah()

    def import_wilayah(self):
        """`bkpm wilayah import` of the 2025 list into an empty reference, as a user runs it;
        the seconds the command took."""
        reset_collection(self.db("organisasi"), WILAYAH, OrganisasiRepository.INDEXES[WILAYAH])
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "services.cli", "wilayah", "import", str(WILAYAH_CSV)],
                       env=self.env, cwd=ROOT, check=True, capture_output=True, timeout=600)
        return time.perf_counter() - start

    def pids(self):
        """{label: pid} of every service process and gateway worker."""
        pids = {name: process.pid for name, process in self.services.items()}
        for n, pid in enumerate(children(self.gateway.pid), start=1):
            pids[f"gateway worker {n}"] = pid
        return pids


def children(pid):
    with open(f"/proc/{pid}/task/{pid}/children") as listing:
        return sorted(int(child) for child in listing.read().split())
