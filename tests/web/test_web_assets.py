# SPDX-License-Identifier: MIT
"""Every asset is served from the package, pinned, with its licence; no page loads anything
from another site."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import web

STATIC = Path(web.__file__).parent / "static"
HTMX_SHA256 = "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"


def test_htmx_is_the_pinned_file_with_its_licence():
    assert hashlib.sha256((STATIC / "htmx" / "htmx.min.js").read_bytes()).hexdigest() == (
        HTMX_SHA256
    )
    assert "Zero-Clause BSD" in (STATIC / "htmx" / "LICENSE").read_text()
    assert HTMX_SHA256 in (STATIC / "README.md").read_text()


def test_pages_load_only_their_own_assets(client):
    page = client.get("/app/signin")
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith(("/app/", "#")) for s in sources), sources
    for asset in ("/app/static/htmx/htmx.min.js", "/app/static/app.css"):
        response = client.get(asset)
        assert response.status_code == 200 and len(response.content) > 1000
