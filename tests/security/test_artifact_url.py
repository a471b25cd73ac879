"""Regression: a release artifact's URL with a password (a private mirror) was quoted whole in errors."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from canaries import Canaries
from releases import ReleaseServer

from dtm_core.artifacts import download_artifact
from dtm_core.errors import DtmError


@pytest.mark.parametrize("where", ["unreachable", "wrong-digest", "missing"])
def test_a_mirror_password_is_masked_in_download_errors(where: str) -> None:
    canaries = Canaries()
    password = quote(canaries.new("mirror password").value, safe="")
    server = ReleaseServer(b"")
    server.files["/install.yaml"] = b"kind: List\n"
    try:
        root = "http://127.0.0.1:9" if where == "unreachable" else server.url
        path = "/gone.yaml" if where == "missing" else "/install.yaml"
        url = root.replace("http://", f"http://mirror:{password}@") + path
        with pytest.raises(DtmError) as raised:
            download_artifact(url, sha256="0" * 64, allow_unverified=False, label="argocd 3.5.1 manifest")
    finally:
        server.close()

    message = raised.value.message
    assert "http://mirror:***@" in message
    assert canaries.leaks_in("the error", message + (raised.value.hint or "")) == []
