"""The web front-end's assets: `python -m web.build` copies what the pages use, from the pinned npm
packages (web/assets, `npm ci --prefix web/assets`) and from our own sources (web/static/src),
into web/static/dist, each with a hash of its content in its name, and writes the manifest the
pages name them by (`asset("htmx.js")`). A file's name changes with its content, so browsers may
keep every file for a year: no request ever leaves for another host, and none is repeated.

Our stylesheets name fonts and other assets by their plain names (`url("noto-sans-400.woff2")`):
the build writes the hashed names in. Icons are SVG files the templates put inline (`icon("star")`).

Each text asset also gets a gzip copy beside it (`htmx.<hash>.js.gz`), which the web app sends to
browsers that accept gzip: gunicorn compresses nothing, and a phone on a weak connection should
not wait for what compresses to a third. (No brotli: no Python binding of it is among our pins.)
"""
import gzip
import hashlib
import json
import re
import shutil
import sys
from pathlib import Path

WEB = Path(__file__).resolve().parent
NODE_MODULES = WEB / "assets" / "node_modules"
SOURCES = WEB / "static" / "src"
DIST = WEB / "static" / "dist"
MANIFEST = DIST / "manifest.json"
ICONS = "icons"

# The files the pages load, by the name templates give them: from node_modules.
VENDORED = {
    "htmx.js": "htmx.org/dist/htmx.min.js",
    # ALTCHA's CSP-friendly build: no inline style, no worker made from a blob; its stylesheet
    # and its PBKDF2 worker are files of their own.
    "altcha.js": "altcha/dist/external/altcha.min.js",
    "altcha.css": "altcha/dist/external/altcha.css",
    "altcha-pbkdf2.js": "altcha/dist/workers/pbkdf2.js",
    "uplot.js": "uplot/dist/uPlot.iife.min.js",
    "uplot.css": "uplot/dist/uPlot.min.css",
    # Latin only: every word of the pages is written in it.
    "noto-sans-400.woff2": "@fontsource/noto-sans/files/noto-sans-latin-400-normal.woff2",
    "noto-sans-700.woff2": "@fontsource/noto-sans/files/noto-sans-latin-700-normal.woff2",
}
# Heroicons (outline, 24 px) the templates use.
ICON_NAMES = ("academic-cap", "arrow-down-tray", "arrow-path", "arrow-right", "arrow-up-tray", "bell",
              "calendar-days", "camera", "chart-bar", "chat-bubble-left-right", "check", "check-circle",
              "chevron-left", "chevron-right", "clock", "document-arrow-up", "document-text", "envelope",
              "exclamation-triangle", "eye", "flag", "funnel", "gift", "hand-raised", "inbox", "information-circle",
              "key", "list-bullet", "lock-closed", "magnifying-glass", "map-pin", "megaphone", "no-symbol",
              "pencil-square", "photo", "play", "plus", "printer", "qr-code", "shield-check", "star", "stop",
              "table-cells", "trash", "user-group", "user-minus", "user-plus", "users", "x-mark")
ICON_SOURCE = "heroicons/24/outline/{}.svg"
CSS_URL = re.compile(r"""url\(\s*["']?([^"')]+)["']?\s*\)""")
# What gzip makes smaller (fonts in woff2 are compressed already), and the suffix of its copy.
COMPRESSIBLE = (".js", ".css", ".svg")
GZIP = ".gz"


def hashed_name(name, content):
    stem, dot, extension = name.partition(".")
    return f"{stem}.{hashlib.sha256(content).hexdigest()[:12]}{dot}{extension}"


def build(node_modules=NODE_MODULES, sources=SOURCES, dist=DIST):
    """Write dist afresh; returns the manifest {name: hashed name}."""
    missing = [path for path in VENDORED.values() if not (node_modules / path).exists()]
    if missing:
        raise SystemExit(f"{node_modules} lacks {', '.join(missing)}: run `npm ci --prefix web/assets` first")
    staging = dist.with_name(dist.name + ".new")
    shutil.rmtree(staging, ignore_errors=True)
    (staging / ICONS).mkdir(parents=True)
    manifest = {}

    def emit(name, content):
        manifest[name] = hashed_name(name, content)
        (staging / manifest[name]).write_bytes(content)
        if name.endswith(COMPRESSIBLE):
            # mtime=0: the same content gives the same bytes, build after build.
            (staging / (manifest[name] + GZIP)).write_bytes(gzip.compress(content, compresslevel=9, mtime=0))

    for name, path in VENDORED.items():
        emit(name, (node_modules / path).read_bytes())
    # Our own: scripts and images as they are, stylesheets with the hashed names of what they refer to
    # (vendored files are all emitted by then).
    for path in sorted([*sources.glob("*.js"), *sources.glob("*.svg")]):
        emit(path.name, path.read_bytes())
    for path in sorted(sources.glob("*.css")):
        text = CSS_URL.sub(lambda match: f'url("{manifest.get(match.group(1), match.group(1))}")', path.read_text())
        emit(path.name, text.encode())
    for icon in ICON_NAMES:
        shutil.copyfile(node_modules / ICON_SOURCE.format(icon), staging / ICONS / f"{icon}.svg")
    (staging / MANIFEST.name).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    shutil.rmtree(dist, ignore_errors=True)
    staging.rename(dist)
    return manifest


class Assets:
    """The built assets as the pages name them: `url(name)`, the hashed file's name; `icon(name)`,
    an icon's SVG to put inline."""

    def __init__(self, dist=DIST):
        self.dist = dist
        try:
            self.manifest = json.loads((dist / MANIFEST.name).read_text())
        except FileNotFoundError:
            raise RuntimeError(f"{dist} has no built assets: run `npm ci --prefix web/assets && python -m web.build` "
                               "(`make run` does)") from None
        self.icons = {path.stem: path.read_text().strip() for path in (dist / ICONS).glob("*.svg")}

    def file(self, name):
        return self.manifest[name]

    def icon(self, name):
        return self.icons[name]


if __name__ == "__main__":
    written = build()
    print(f"{len(written)} assets and {len(ICON_NAMES)} icons in {DIST}", file=sys.stderr)
