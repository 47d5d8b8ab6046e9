"""Uploaded files are private: only the owning business (or a short-lived signed link) reads them.

The attack that found it: ``/uploads/profiles/<business>/<file>`` answered 200 to an anonymous
client and to another business. Charlie (Beta Electric) must get exactly what a stranger gets for
Alice's photo, the 404 of a file that does not exist.
"""

import io
import os
import subprocess
import sys
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from nevermisscall import media
from nevermisscall.testing import assert_envelope_ok

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (10, 200, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def alice_photo(alice, client_for):
    upload = SimpleUploadedFile("me.png", _png(), content_type="image/png")
    data = assert_envelope_ok(client_for(alice).post(f"/users/{alice.id}/profile/photo", {"photo": upload}), 201)
    alice.refresh_from_db()
    return alice.photo, data["photo_url"]


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_the_owner_gets_the_file_with_private_headers(alice, bob, client_for, client, alice_photo):
    name, url = alice_photo
    assert url == f"/media/{name}"
    for response in (
        client_for(alice).get(url, HTTP_ACCEPT="image/avif,image/webp,*/*"),
        client_for(bob).get(url, HTTP_ACCEPT="image/png"),  # Same business; Accept must not 406.
    ):
        assert response.status_code == 200
        assert response["Content-Type"] == "image/png"
        assert response["Cache-Control"] == "private, max-age=300"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert _body(response) == _png()
    client.force_login(alice)  # The dashboard's session works as well as a JWT.
    assert client.get(url).status_code == 200


def test_another_business_and_strangers_get_the_404_of_a_missing_file(alice, charlie, client_for, alice_photo):
    _, url = alice_photo
    missing = client_for(alice).get(url[: -len("0" * 32 + ".png")] + "0" * 32 + ".png")
    assert missing.status_code == 404
    for response in (
        client_for(charlie).get(url),
        client_for().get(url),
        client_for(HTTP_AUTHORIZATION="Bearer not-a-token").get(url),
    ):
        assert response.status_code == 404
        assert not getattr(response, "streaming", False)
        assert response.json()["error"] == missing.json()["error"]  # Nothing tells them apart.


def test_the_old_public_uploads_path_serves_nothing(client_for, alice_photo, _media_root):
    name, _ = alice_photo
    assert (_media_root / name).exists()
    assert client_for().get(f"/uploads/{name}").status_code == 404


def test_a_signed_link_works_without_a_session_until_it_expires(client_for, alice_photo):
    name, _ = alice_photo
    signed = media.media_signed_url(name, max_age=60)
    response = client_for().get(signed)
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, max-age=300"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert _body(response) == _png()
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        assert client_for().get(signed).status_code == 404


def test_a_tampered_signed_link_gets_404(client_for, alice_photo, charlie):
    name, _ = alice_photo
    signed = media.media_signed_url(name)
    token = signed.rsplit("/", 1)[1]
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert client_for().get(f"/media/signed/{flipped}").status_code == 404
    # A token signed for another purpose, or naming a path of its own choosing, is refused too.
    from django.core import signing

    forged = signing.dumps({"n": name, "e": int(time.time()) + 60}, salt="another.salt")
    assert client_for().get(f"/media/signed/{forged}").status_code == 404
    escape = signing.dumps({"n": "../../settings.py", "e": int(time.time()) + 60}, salt=media.SIGNING_SALT)
    assert client_for().get(f"/media/signed/{escape}").status_code == 404


def test_replacing_a_photo_deletes_the_old_file_after_commit(
    alice, client_for, alice_photo, _media_root, django_capture_on_commit_callbacks
):
    old_name, _ = alice_photo
    upload = SimpleUploadedFile("new.png", _png(), content_type="image/png")
    with django_capture_on_commit_callbacks(execute=True):
        assert_envelope_ok(client_for(alice).post(f"/users/{alice.id}/profile/photo", {"photo": upload}), 201)
    alice.refresh_from_db()
    assert alice.photo != old_name
    assert not (_media_root / old_name).exists()
    assert (_media_root / alice.photo).exists()


def test_the_s3_backend_hands_out_short_lived_presigned_urls(settings):
    pytest.importorskip("boto3")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": "nmc-media",
                "endpoint_url": "http://127.0.0.1:9",
                "region_name": "us-east-1",
                "access_key": "AKIDEXAMPLE",
                "secret_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                "signature_version": "s3v4",
                "querystring_auth": True,
                "querystring_expire": 300,
            },
        },
    }
    name = "profiles/00000000-0000-0000-0000-000000000001/" + "a" * 32 + ".png"
    for url, expires in ((media.media_url(name), "300"), (media.media_signed_url(name, max_age=60), "60")):
        query = parse_qs(urlsplit(url).query)
        assert urlsplit(url).path == f"/nmc-media/{name}"
        assert query["X-Amz-Expires"] == [expires]
        assert query["X-Amz-Signature"]


def test_media_storage_s3_is_selected_by_settings():
    pytest.importorskip("boto3")
    env = {
        **os.environ,
        "MEDIA_STORAGE": "s3",
        "MEDIA_S3_BUCKET": "nmc-media",
        "MEDIA_S3_ENDPOINT_URL": "http://127.0.0.1:9",
        "MEDIA_SIGNED_URL_MAX_AGE_SECONDS": "120",
        "DJANGO_SETTINGS_MODULE": "nevermisscall.settings",
    }
    code = (
        "from django.conf import settings; "
        "o = settings.STORAGES['default']; "
        "print(o['BACKEND'], o['OPTIONS']['bucket_name'], o['OPTIONS']['querystring_auth'], "
        "o['OPTIONS']['querystring_expire'])"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["storages.backends.s3.S3Storage", "nmc-media", "True", "120"]
    env["MEDIA_STORAGE"] = "public-bucket"
    failed = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert failed.returncode != 0
    assert "MEDIA_STORAGE must be local or s3" in failed.stderr
