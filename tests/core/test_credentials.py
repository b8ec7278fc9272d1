"""URLs with credentials: used to authenticate, recorded without them; secrets scrubbed from copied output."""

from __future__ import annotations

import base64

import pytest

from loadtests.core import credentials
from loadtests.core.credentials import keep_url_secrets, redact, split_credentials, without_credentials


def test_a_url_loses_its_credentials_and_keeps_everything_else() -> None:
    url = "http://team:p%40ss@app.example:8001/base?x=1"
    plain, header = split_credentials(url)
    assert plain == without_credentials(url) == "http://app.example:8001/base?x=1"
    assert header == "Basic " + base64.b64encode(b"team:p@ss").decode()
    assert split_credentials("http://[::1]:8000/") == ("http://[::1]:8000/", None)
    assert without_credentials("http://u:pw@[::1]:8000/") == "http://[::1]:8000/"


def test_registered_secrets_are_scrubbed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(credentials, "_secrets", set())
    keep_url_secrets("http://team:p%40ss-word@app:1")
    assert redact("host http://team:p%40ss-word@app:1 or p@ss-word") == "host http://team:***@app:1 or ***"
    assert credentials.redact_bytes(b"p@ss-word!") == b"***!"
