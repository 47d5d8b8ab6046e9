"""Assertions shared by the test suites of every app."""


def assert_envelope_error(response, status: int, code: str | None = None) -> dict:
    """The response is seed 000's error envelope with ``status`` (and ``code``, if given)."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    body = response.json()
    assert body["success"] is False
    assert body["data"] is None
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code, body["error"]
    assert body["metadata"]["request_id"] == response["X-Request-ID"]
    assert body["metadata"]["timestamp"].endswith("Z")
    return body["error"]


def assert_envelope_ok(response, status: int = 200):
    """The response is a successful envelope; returns its ``data``."""
    assert response.status_code == status, (response.status_code, response.content[:800])
    body = response.json()
    assert body["success"] is True, body
    assert body["error"] is None
    assert body["metadata"]["request_id"] == response["X-Request-ID"]
    assert body["metadata"]["processing_time_ms"] >= 0
    return body["data"]
