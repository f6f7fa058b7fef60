"""The layers (docs/architecture.md, "Layers"): domain rules, use cases and the framework-free
core of services/common import no framework, directly or through another module of the
platform, so they run and are tested without a broker, a database or a web server."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FRAMEWORKS = {"nameko", "eventlet", "kombu", "amqp", "pika", "flask", "flask_smorest", "werkzeug", "pymongo", "bson"}
CORE = ["services.common." + name for name in (
    "access", "errors", "events", "failures", "lifecycle", "privacy", "schema", "unit_of_work", "usecase",
    "wilayah", "config", "logs", "tokens", "identity", "keys")]
SERVICES = ("organisasi", "kegiatan", "bantuan", "notifikasi", "akun")
FREE = CORE + [f"services.{name}.{layer}" for name in SERVICES for layer in ("domain", "usecases", "schemas")] + [
    "services.organisasi.lookups"]


def imports_of(module):
    path = ROOT / (module.replace(".", "/") + ".py")
    if not path.exists():
        path = ROOT / module.replace(".", "/") / "__init__.py"
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def reached(module, seen=None):
    """Every module `module` imports, following the platform's own modules."""
    seen = set() if seen is None else seen
    for name in imports_of(module):
        if name in seen:
            continue
        seen.add(name)
        if name.startswith(("services.", "gateway.")) and (
                (ROOT / (name.replace(".", "/") + ".py")).exists() or (ROOT / name.replace(".", "/")).is_dir()):
            reached(name, seen)
    return seen


@pytest.mark.parametrize("module", FREE)
def test_a_framework_free_module_reaches_no_framework(module):
    frameworks = sorted({name for name in reached(module) if name.split(".")[0] in FRAMEWORKS})
    assert not frameworks, f"{module} reaches {frameworks}"


def test_every_module_of_common_says_who_may_import_it():
    for path in sorted((ROOT / "services" / "common").glob("*.py")):
        if path.name == "__init__.py":
            continue
        doc = ast.get_docstring(ast.parse(path.read_text())) or ""
        assert "core" in doc.lower() or "adapter" in doc.lower(), f"{path.name}: core or adapter, and for whom?"
