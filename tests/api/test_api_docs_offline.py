# SPDX-License-Identifier: MIT
"""/docs and /redoc work offline: every asset they load is served by the API itself, from
files the package ships with their licences; / says what Wrenchlight is and links to them."""

from __future__ import annotations

import re
import tomllib
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

import api.docs.pages

ROOT = Path(__file__).resolve().parents[2]
HOST = "testserver"  # TestClient's host


class _Links(HTMLParser):
    """Every URL a page refers to: src, href, and a ReDoc element's spec-url."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [v for k, v in attrs if k in {"src", "href", "spec-url"} and v]


def _referenced(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    # Swagger UI's configuration is a script: its url and the OAuth2 redirect.
    scripted = re.findall(r"(?:url|oauth2RedirectUrl):\s*['\"]([^'\"]+)['\"]", html)
    return parser.urls + scripted


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_nothing_from_another_host(client, page):
    response = client.get(page)
    assert response.status_code == 200 and "content-security-policy" in response.headers
    assert "default-src 'self'" in response.headers["content-security-policy"]
    urls = [urljoin(f"http://{HOST}{page}", u) for u in _referenced(response.text)]
    assert len(urls) >= 3, urls  # script, favicon, the OpenAPI document at least
    for url in urls:
        assert urlsplit(url).netloc == HOST, url
        asset = client.get(url)
        assert asset.status_code == 200 and asset.content, url
        if url.endswith(".css"):  # and a stylesheet fetches only inline data or this host
            for ref in re.findall(r"url\(\s*['\"]?([^'\")]+)", asset.text):
                assert ref.startswith("data:") or not urlsplit(ref).netloc, ref


def test_the_shipped_assets_are_pinned_with_licences_and_in_the_package_data():
    static = Path(api.docs.pages.STATIC_DIR)
    for folder, script in (
        ("swagger-ui", "swagger-ui-bundle.js"),
        ("redoc", "redoc.standalone.js"),
    ):
        assert (static / folder / "LICENSE").stat().st_size > 500
        assert (static / folder / f"{script}.LICENSE.txt").is_file()
        assert (static / folder / script).stat().st_size > 500_000
    readme = (static / "README.md").read_text()
    assert "| 5.36.0 |" in readme and "| 2.5.4 |" in readme
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]
    patterns = package_data["api.docs"]
    shipped = {p for pattern in patterns for p in static.parent.glob(pattern) if p.is_file()}
    assert {p for p in static.rglob("*") if p.is_file()} <= shipped


def test_the_root_page_says_what_this_is_and_links_to_the_docs(client):
    response = client.get("/")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert "Wrenchlight" in response.text and "predicts" in response.text
    links = _referenced(response.text)
    assert {"/docs", "/redoc", "/openapi.json"} <= set(links)
    for link in links:
        assert client.get(link).status_code == 200, link
