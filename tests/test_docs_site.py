"""The documentation site: `mkdocs build --strict` (a broken link, anchor or reference is a
failure), then the built site served over HTTP on loopback and driven in headless Chromium by
Playwright, with every request that would leave 127.0.0.1 refused and counted: the navigation
reaches every page and the search finds what it should."""

import functools
import os
import re
import shutil
import subprocess
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

pytestmark = pytest.mark.once

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_browser = pytest.mark.skipif(
    CHROMIUM is None and os.environ.get("DJFAPI_REQUIRE_BROWSER") != "1",
    reason="headless Chromium is not installed (.ci/run installs it)")


def build(site: Path) -> subprocess.CompletedProcess:
    mkdocs = [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)]
    return subprocess.run(mkdocs, cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The base URL of the built site, served from a temp dir on a free loopback port."""
    directory = tmp_path_factory.mktemp("site")
    built = build(directory)
    assert built.returncode == 0, built.stdout + built.stderr
    handler = functools.partial(QuietHandler, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


def nav_titles() -> list[str]:
    nav = yaml.safe_load((ROOT / "mkdocs.yml").read_text())["nav"]
    return [next(iter(entry)) for entry in nav]


def test_a_broken_link_fails_the_strict_build(tmp_path):
    """--strict is what catches a stale anchor after a heading is renamed: shown on a copy."""
    copy = tmp_path / "copy"
    shutil.copytree(ROOT / "docs", copy / "docs")
    shutil.copy(ROOT / "mkdocs.yml", copy / "mkdocs.yml")
    shutil.copytree(ROOT / "scripts", copy / "scripts")
    page = copy / "docs" / "demo.md"
    page.write_text(page.read_text() + "\nSee [nowhere](security.md#no-such-heading).\n")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "out")],
        cwd=copy, capture_output=True, text=True, timeout=300,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONPATH": str(ROOT)})
    assert result.returncode != 0
    assert "no-such-heading" in result.stdout + result.stderr


@pytest.fixture
def browser_page(site, tmp_path):
    """A Playwright page in Debian's Chromium; requests to anything but 127.0.0.1 are aborted
    and listed in ``page.outside``."""
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    assert CHROMIUM is not None, "DJFAPI_REQUIRE_BROWSER=1 but no chromium on PATH"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"])
        page = browser.new_page()
        page.outside = []

        def only_loopback(route):
            if urlsplit(route.request.url).hostname == "127.0.0.1":
                route.continue_()
            else:
                page.outside.append(route.request.url)
                route.abort()

        page.route("**/*", only_loopback)
        try:
            yield page
        finally:
            browser.close()


@needs_browser
def test_the_navigation_reaches_every_page(site, browser_page):
    page = browser_page
    page.goto(site + "/")
    assert heading(page) == "djfapi"
    headings = set()
    for title in nav_titles()[1:]:
        page.goto(site + "/")
        page.locator("nav.md-nav--primary").get_by_role("link", name=title, exact=True).first.click()
        page.wait_for_load_state()
        assert page.url != site + "/", title
        assert page.locator("article h1").count() == 1, title
        headings.add(heading(page))
    assert len(headings) == len(nav_titles()) - 1  # a page of its own each
    assert page.outside == []


def heading(page) -> str:
    return page.locator("article h1").first.inner_text().rstrip("¶").strip()


def search(page, site: str, query: str):
    """The result links of the site's search for ``query``, typed as a reader types it."""
    page.goto(site + "/")
    page.locator("label.md-search__icon, .md-search__input").first.click()
    meta = page.locator(".md-search-result__meta")
    page.wait_for_function("m => !m.textContent.includes('Initializing')", arg=meta.element_handle())
    page.locator("input.md-search__input").press_sequentially(query, delay=20)
    results = page.locator(".md-search-result__item a")
    results.first.wait_for(timeout=15000)
    page.wait_for_function(  # the results of the whole query, not of its first letters
        "q => Array.from(document.querySelectorAll('.md-search-result__item a'))"
        "          .some(a => a.href.includes('h=' + q))",
        arg=query.lower(), timeout=15000)
    return results


def hrefs(results) -> list[str]:
    return [results.nth(i).get_attribute("href") for i in range(results.count())]


@needs_browser
def test_the_search_finds_pages_and_opens_them(site, browser_page):
    page = browser_page
    results = search(page, site, "CursorPagination")
    assert any("pagination/" in href for href in hrefs(results)), hrefs(results)
    results.first.click()
    page.wait_for_load_state()
    assert "CursorPagination" in page.locator("article").inner_text()
    results = search(page, site, "djfapi_token")
    assert any("tutorial/" in href for href in hrefs(results)), hrefs(results)
    assert page.outside == []


@needs_browser
def test_the_api_reference_is_rendered_from_the_docstrings(site, browser_page):
    page = browser_page
    page.goto(site + "/reference/")
    text = page.locator("article").inner_text()
    for name in ("ModelViewSet", "Router", "JWTBearer", "CursorPagination", "make_token",
                 "perform_create", "perform_update", "perform_destroy", "filter_fields"):
        assert name in text, name
    assert "A signed token" in text  # make_token's docstring
    assert re.findall(r":(?:class|meth|func|attr):", text) == []  # Sphinx roles shown as Sphinx does
    assert page.outside == []
