"""The officers' guide (docs/panduan-konsol.md) stays true to what it shows: every screenshot it
links is in docs/panduan/, every screenshot there is linked, and every console page it names by
its address is a page of the web app."""
import re

import pytest
from werkzeug.exceptions import MethodNotAllowed, NotFound

from services.common.config import Settings
from tests.support import ROOT
from web.app import create_app

GUIDE = ROOT / "docs/panduan-konsol.md"
IMAGES = ROOT / "docs/panduan"
# <img src="panduan/x.png"> or ![...](panduan/x.png)
LINKED = re.compile(r'(?:src="|\]\()(panduan/[^")\s]+)')
# A console address in the text: /konsol, /konsol/bantuan/impor, ... (up to a query, a quote, a space).
ADDRESS = re.compile(r"(?<![\w.])/konsol(?:/[\w.-]+)*")


@pytest.fixture(scope="module")
def text():
    return GUIDE.read_text(encoding="utf-8")


def test_every_image_the_guide_links_is_there_and_every_one_there_is_linked(text):
    linked = {IMAGES.parent / path for path in LINKED.findall(text)}
    assert linked, "the guide links no screenshot"
    assert {path for path in linked if not path.is_file()} == set()
    assert set(IMAGES.glob("*.png")) - linked == set()


def test_every_image_has_its_words_and_the_phone_width(text):
    for tag in re.findall(r"<img\b[^>]*>", text):
        assert re.search(r'\balt="[^"]{10,}"', tag) and 'width="360"' in tag, tag


def test_every_console_page_the_guide_names_is_a_page_of_the_app(text, tmp_path, monkeypatch):
    monkeypatch.setenv("BKPM_DATA_DIR", str(tmp_path))
    urls = create_app(Settings()).url_map.bind("localhost")
    named = set(ADDRESS.findall(text))
    assert "/konsol/masuk" in named

    def is_page(path):
        try:
            urls.match(path, method="GET")
        except MethodNotAllowed:
            return True
        except NotFound:
            return False
        return True

    assert {path for path in named if not is_page(path)} == set()
