# The two commands: `make run` starts the platform, `make test` runs every test.
# Both create .venv and install the pinned dependencies first when needed.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
# The official AsyncAPI JSON schemas (npm), which a test validates docs/asyncapi.json against.
ASYNCAPI_SPECS := tools/asyncapi/node_modules/.installed
# The web front-end's npm packages (web/assets, pinned by its lock; axe-core for the browser
# tests is a devDependency) and the pages' assets built from them with hashed names.
WEB_ASSETS := web/assets/node_modules/.installed
WEB_DIST := web/static/dist/manifest.json
# Lighthouse 12.2.3 (npm; newer ones need Node 22), for the portal's budgets in `make bench`.
LIGHTHOUSE := tools/lighthouse/node_modules/.installed

.PHONY: run test test-faults bench lock clean

run: $(INSTALLED) $(WEB_DIST)
	$(BIN)/python -m services.stack

# The browser tests drive Debian's Chromium (Playwright's own browser download is never used).
test: $(INSTALLED) $(ASYNCAPI_SPECS) $(WEB_DIST)
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)
	$(BIN)/ruff check services gateway tests bench web
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The fault suite alone (it is part of `make test` too): poison messages, crashes, outages.
test-faults: $(INSTALLED)
	$(BIN)/python -m pytest $(FAULT_TESTS) $(PYTEST_ARGS)

# The benchmarks (not part of `make test`): each figure beside a baseline measured in the same
# run, printed and written into docs/benchmarks.md. wrk, Debian's package, makes the HTTP load.
bench: $(INSTALLED) $(WEB_DIST) $(LIGHTHOUSE)
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)
	$(BIN)/python -m bench $(BENCH_ARGS)

FAULT_TESTS := tests/integration/test_fault_poison.py tests/integration/test_fault_schemathesis.py \
	tests/integration/test_fault_authorization.py tests/integration/test_fault_under_load.py \
	tests/integration/test_reliable_delivery.py \
	tests/integration/test_notifikasi_crash.py tests/integration/test_gateway_outages.py

$(INSTALLED): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

$(ASYNCAPI_SPECS): tools/asyncapi/package-lock.json
	npm ci --prefix tools/asyncapi --silent --no-audit --no-fund
	touch $@

$(LIGHTHOUSE): tools/lighthouse/package-lock.json
	npm ci --prefix tools/lighthouse --silent --no-audit --no-fund
	touch $@

$(WEB_ASSETS): web/assets/package-lock.json
	npm ci --prefix web/assets --silent --no-audit --no-fund
	touch $@

# Again whenever the build or one of our own sources changes.
$(WEB_DIST): $(INSTALLED) $(WEB_ASSETS) web/build.py $(wildcard web/static/src/*)
	$(BIN)/python -m web.build

# Re-resolve the lock from pyproject.toml's direct pins (run after changing a pin).
lock:
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet "setuptools<81" -e ".[embedded-db,test]"
	(echo '# Every dependency, pinned: `make` installs exactly these (regenerate with `make lock`).'; \
	 .venv-lock/bin/pip freeze --all --exclude-editable | grep -v '^pip==\|^bkpm[ =@]' | sort -f) > requirements.lock
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet "setuptools<81" -c requirements.lock .
	(echo '# The image'"'"'s dependencies: requirements.lock without the test tools and the embedded database (`make lock` writes both).'; \
	 .venv-lock/bin/pip freeze --all --exclude-editable | grep -v '^pip==\|^bkpm[ =@]' | sort -f) > deploy/requirements.runtime.lock
	rm -rf .venv-lock

clean:
	rm -rf $(VENV) var web/static/dist web/assets/node_modules
