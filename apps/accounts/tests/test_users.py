"""TS-User-Service: profiles, preferences, status, team list, photo uploads checked by content."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from nevermisscall.testing import assert_envelope_error, assert_envelope_ok

pytestmark = pytest.mark.django_db


def _png_bytes(size=(8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_photo_upload_accepts_a_real_image_and_serves_it_to_the_business(
    alice, charlie, client_for, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    upload = SimpleUploadedFile("me.png", _png_bytes(), content_type="image/png")
    data = assert_envelope_ok(client_for(alice).post(f"/users/{alice.id}/profile/photo", {"photo": upload}), 201)
    assert data["photo_url"].startswith(f"/media/profiles/{alice.business_id}/")
    served = client_for(alice).get(data["photo_url"])
    assert served.status_code == 200
    assert b"".join(served.streaming_content).startswith(b"\x89PNG")
    assert client_for().get(data["photo_url"]).status_code == 404
    assert client_for(charlie).get(data["photo_url"]).status_code == 404


def test_photo_upload_rejects_a_six_megabyte_file(alice, client_for):
    big = SimpleUploadedFile("big.jpg", b"\xff\xd8\xff" + b"0" * (6 * 1024 * 1024), content_type="image/jpeg")
    error = assert_envelope_error(client_for(alice).post(f"/users/{alice.id}/profile/photo", {"photo": big}), 400)
    assert error["details"]["field"] == "photo"
    alice.refresh_from_db()
    assert alice.photo == ""


def test_photo_upload_rejects_an_executable_renamed_to_png(alice, client_for):
    elf = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 2048
    fake = SimpleUploadedFile("avatar.png", elf, content_type="image/png")
    assert_envelope_error(client_for(alice).post(f"/users/{alice.id}/profile/photo", {"photo": fake}), 400)
    script = SimpleUploadedFile("avatar.gif", b"#!/bin/sh\nrm -rf /\n", content_type="image/gif")
    assert_envelope_error(client_for(alice).post(f"/users/{alice.id}/profile/photo", {"photo": script}), 400)
    alice.refresh_from_db()
    assert alice.photo == ""


def test_staff_cannot_change_the_owners_profile_but_owner_can_change_staff(alice, bob, client_for):
    assert_envelope_error(client_for(bob).put(f"/users/{alice.id}/profile", {"first_name": "X"}, format="json"), 403)
    data = assert_envelope_ok(
        client_for(alice).put(f"/users/{bob.id}/profile", {"phone": "+1 312 555 0142"}, format="json")
    )
    assert data["phone"] == "+13125550142"


def test_preferences_merge_and_are_personal(alice, bob, client_for):
    data = assert_envelope_ok(
        client_for(bob).put(f"/users/{bob.id}/preferences", {"dashboard": {"theme": "dark"}}, format="json")
    )
    assert data["preferences"]["dashboard"] == {"theme": "dark", "sound": True, "default_view": "overview"}
    assert data["preferences"]["notifications"]["sms"] is True
    assert_envelope_error(
        client_for(alice).put(f"/users/{bob.id}/preferences", {"dashboard": {"theme": "x"}}, format="json"), 403
    )


def test_status_is_set_by_its_owner_and_visible_to_the_team(alice, bob, client_for):
    assert_envelope_ok(
        client_for(bob).put(f"/users/{bob.id}/status", {"status": "busy", "message": "On a job"}, format="json")
    )
    seen = assert_envelope_ok(client_for(alice).get(f"/users/{bob.id}/status"))
    assert seen["status"] == "busy" and seen["message"] == "On a job" and seen["is_online"] is True


def test_users_by_tenant_is_paginated_in_the_envelope(alice, alpha, client_for):
    response = client_for(alice).get(f"/users/by-tenant/{alpha.id}?limit=1&page=2")
    data = assert_envelope_ok(response)
    metadata = response.json()["metadata"]
    assert metadata["total_count"] == 2 and metadata["page"] == 2 and metadata["limit"] == 1
    assert len(data) == 1
    owners = assert_envelope_ok(client_for(alice).get(f"/users/by-tenant/{alpha.id}?role=owner"))
    assert [user["email"] for user in owners] == [alice.email]


def test_owner_creates_a_team_member_who_can_log_in(alice, client_for):
    member = assert_envelope_ok(
        client_for(alice).post(
            "/users/profiles",
            {"email": "tina@alpha.test", "password": "torque-wrench-88", "role": "technician", "first_name": "Tina"},
            format="json",
        ),
        201,
    )
    assert member["role"] == "technician"
    login = client_for().post(
        "/auth/login", {"email": "tina@alpha.test", "password": "torque-wrench-88"}, format="json"
    )
    assert assert_envelope_ok(login)["user"]["permissions"] == ["appointments:read", "jobs:write"]


def test_photo_upload_without_a_file_is_400(alice, client_for):
    assert_envelope_error(client_for(alice).post(f"/users/{alice.id}/profile/photo", {"note": "no file"}), 400)
