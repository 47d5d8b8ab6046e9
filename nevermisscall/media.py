"""Private media: uploaded files reach only the business that owns them.

A stored name says who owns it: ``profiles/<business id>/<hex>.<ext>`` (``platform`` for staff
without a business), ``owner-audio/<business id>/<sha256>.<mp3|wav>``. Nothing serves MEDIA_ROOT or the bucket publicly; there are two ways in:

- ``media_url(name)``: ``/media/<name>``, streamed to an authenticated user of the owning business
  (session, JWT or API key) whose request resolved to that business. Everyone else gets the same
  404 as for a file that does not exist, so a URL does not even confirm that a file exists.
- ``media_signed_url(name)``: a short-lived link for where no session is available (e-mail, the
  widget). Locally ``/media/signed/<token>``, the name and an expiry signed with ``SECRET_KEY``;
  expired or tampered tokens get 404. With ``MEDIA_STORAGE=s3`` both are the object store's
  presigned URLs (the bucket enforces the expiry), since the files never pass through Django.

Both return paths for the local store; prefix ``PUBLIC_BASE_URL`` where an absolute URL is needed.
"""

import re
import time

from django.conf import settings
from django.core import signing
from django.core.files.storage import FileSystemStorage, storages
from django.http import FileResponse, Http404
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from rest_framework import exceptions
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

SIGNING_SALT = "nevermisscall.media"
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
# Profile pictures, and the owner's spoken summaries (apps/owner: named by their text's hash).
NAME_PATTERN = (
    rf"(?:profiles/(?:{_UUID}|platform)/[0-9a-f]{{32}}\.(?:jpg|png|gif)"
    rf"|owner-audio/{_UUID}/[0-9a-f]{{64}}\.(?:mp3|wav))"
)
_NAME = re.compile(rf"^{NAME_PATTERN}$")
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png", "gif": "image/gif", "mp3": "audio/mpeg", "wav": "audio/wav"}
PLATFORM_OWNER = "platform"


def media_storage():
    return storages["default"]


def media_is_local() -> bool:
    return isinstance(media_storage(), FileSystemStorage)


def media_owner(name: str) -> str | None:
    """The owner segment of a valid stored name (a business id or ``platform``), else None."""
    if not isinstance(name, str) or not _NAME.match(name):
        return None
    return name.split("/")[1]


def media_owner_dir(business_id) -> str:
    return str(business_id) if business_id else PLATFORM_OWNER


def media_url(name: str) -> str:
    """The URL members of the owning business use (presigned with an object store)."""
    if not media_is_local():
        return media_storage().url(name)
    return reverse("media", kwargs={"name": name})


def media_signed_url(name: str, *, max_age: int | None = None) -> str:
    """A link that works without a session for ``max_age`` seconds (default the setting)."""
    max_age = max_age or settings.MEDIA_SIGNED_URL_MAX_AGE
    if not media_is_local():
        return media_storage().url(name, expire=max_age)
    token = signing.dumps({"n": name, "e": int(time.time()) + max_age}, salt=SIGNING_SALT)
    return reverse("media-signed", kwargs={"token": token})


def media_name_from_token(token: str) -> str | None:
    """The name a signed token grants, or None when it is tampered with, malformed or expired."""
    try:
        payload = signing.loads(token, salt=SIGNING_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("e"), int) or payload["e"] < time.time():
        return None
    name = payload.get("n")
    return name if media_owner(name) is not None else None


def media_may_read(*, user, tenant, name: str) -> bool:
    owner = media_owner(name)
    if owner is None or user is None or not user.is_authenticated:
        return False
    if owner == PLATFORM_OWNER:
        return bool(user.is_staff and not getattr(user, "business_id", None))
    business_id = getattr(user, "business_id", None)
    return bool(business_id and tenant is not None and tenant.id == business_id and str(business_id) == owner)


def media_response(name: str) -> FileResponse:
    """Stream a stored file, or raise Http404 for any name that is not there."""
    try:
        handle = media_storage().open(name, "rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404 from exc
    response = FileResponse(handle, content_type=CONTENT_TYPES[name.rsplit(".", 1)[1]])
    response["Cache-Control"] = "private, max-age=300"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cross-Origin-Resource-Policy"] = "same-site"
    patch_vary_headers(response, ("Authorization", "Cookie"))
    return response


class _FirstRenderer(BaseContentNegotiation):
    """An image request's ``Accept`` (``image/*``) must not turn a 404 into a 406."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None


class MediaView(APIView):
    """``GET /media/<name>``: the file for members of its business, 404 for everyone else."""

    permission_classes = [AllowAny]
    content_negotiation_class = _FirstRenderer
    schema = None  # Not part of the JSON API.

    def perform_authentication(self, request):
        try:
            request.user  # noqa: B018 - authenticates
        except exceptions.APIException:
            request._not_authenticated()  # A bad credential is "anyone else": 404 below, not 401.

    def get(self, request, name):
        if not media_may_read(user=request.user, tenant=getattr(request, "tenant", None), name=name):
            raise Http404
        return media_response(name)


def media_signed_view(request, token):
    """``GET /media/signed/<token>``: the file while the signed token is valid, else 404."""
    if request.method not in ("GET", "HEAD"):
        raise Http404
    name = media_name_from_token(token)
    if name is None:
        raise Http404
    return media_response(name)
