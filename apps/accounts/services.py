"""Writes on users: creation, authentication, profile, password, preferences, status, photo."""

import uuid

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from apps.accounts.models import DIGEST_ROLES, DigestChannel, User
from nevermisscall import after_commit
from nevermisscall.errors import Conflict, ValidationFailed
from nevermisscall.media import media_owner_dir, media_storage
from nevermisscall.phone import InvalidPhoneNumber, to_e164

PHOTO_FORMATS = {"JPEG": "jpg", "PNG": "png", "GIF": "gif"}


def _check_password(password: str, user: User | None = None, field: str = "password") -> None:
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise ValidationFailed(details={field: list(exc.messages)}) from exc


def split_name(full_name: str) -> tuple[str, str]:
    first, _, last = (full_name or "").strip().partition(" ")
    return first[:100], last.strip()[:100]


def user_create(
    *,
    email: str,
    password: str,
    business=None,
    role: str = "",
    first_name: str = "",
    last_name: str = "",
    phone: str = "",
    timezone_name: str = "",
    language: str = "en",
    hash_password: bool = True,
) -> User:
    """Check the password (Django's validators) and the e-mail's uniqueness, then create the user.

    ``hash_password=False`` stores an unusable password for the caller to replace with
    ``make_password(password)`` in the same transaction (sign-up hashes it while the schema is cloned)."""
    email = email.strip().lower()
    candidate = User(email=email, first_name=first_name, last_name=last_name)
    _check_password(password, candidate)
    if User.objects.filter(email__iexact=email).exists():
        raise Conflict(f"A user with email {email} already exists.")
    try:
        with transaction.atomic():
            return User.objects.create_user(
                email=email,
                password=password if hash_password else None,
                business=business,
                role=role,
                first_name=first_name,
                last_name=last_name,
                phone=phone,
                timezone=timezone_name,
                language=language,
            )
    except IntegrityError as exc:  # A concurrent registration with the same email won the race.
        raise Conflict(f"A user with email {email} already exists.") from exc


def user_authenticate(*, request, email: str, password: str) -> User | None:
    user = authenticate(request, username=email.strip().lower(), password=password)
    if user is not None:
        User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    return user


PROFILE_FIELDS = ("first_name", "last_name", "phone", "timezone", "language")


def user_update_profile(*, user: User, data: dict) -> User:
    changed = [name for name in PROFILE_FIELDS if name in data]
    for name in changed:
        setattr(user, name, data[name])
    if changed:
        user.save(update_fields=[*changed, "updated_at"])
    return user


def user_change_password(*, user: User, current_password: str, new_password: str) -> User:
    if not user.check_password(current_password):
        raise ValidationFailed(details={"current_password": ["The current password is not correct."]})
    if current_password == new_password:
        raise ValidationFailed(details={"new_password": ["The new password must differ from the current one."]})
    _check_password(new_password, user, field="new_password")
    user.set_password(new_password)
    user.save(update_fields=["password", "updated_at"])
    return user


def _deep_merge(base: dict, changes: dict) -> dict:
    merged = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


DIGEST_KEYS = ("channel", "hour")


def _digest_fields(user: User, digest, *, phone: str | None = None) -> dict:
    """The columns a digest choice (``{"channel", "hour"}``, either may be left out) sets, or
    ``ValidationFailed`` (400) naming what cannot be stored: an unknown channel or key, an hour
    outside 0-23, a digest for someone who is not an owner or a manager, a text to nobody's phone."""
    if not isinstance(digest, dict) or not digest or set(digest) - set(DIGEST_KEYS):
        raise ValidationFailed(details={"digest": [_('Give {"channel": "off" | "sms" | "email", "hour": 0-23}.')]})
    channel = digest.get("channel", user.digest_channel)
    hour = digest.get("hour", user.digest_hour)
    errors = {}
    if channel not in DigestChannel.values:
        errors["digest.channel"] = [_("Choose off, sms or email.")]
    if isinstance(hour, bool) or not isinstance(hour, int) or not 0 <= hour <= 23:
        errors["digest.hour"] = [_("Give a whole hour from 0 to 23 (the business's time zone).")]
    fields = {"digest_channel": channel, "digest_hour": hour}
    if phone is not None and phone.strip():
        try:
            fields["phone"] = to_e164(phone)
        except InvalidPhoneNumber:
            errors["phone"] = [_("Not a valid phone number; use E.164, e.g. +15551234567.")]
    if channel != DigestChannel.OFF and user.role not in DIGEST_ROLES:
        errors["digest.channel"] = [_("The daily digest is for owners and managers.")]
    if channel == DigestChannel.SMS and not fields.get("phone", user.phone):
        errors["digest.channel"] = [_("Add your mobile number first: the digest is texted to your own phone.")]
    if errors:
        raise ValidationFailed(details=errors)
    return fields


def user_set_digest(*, user: User, digest: dict, phone: str | None = None) -> User:
    """Store this person's daily digest choice (and the phone it is texted to, when given), or
    refuse it whole (``ValidationFailed``, nothing stored)."""
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        fields = _digest_fields(locked, digest, phone=phone)
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.save(update_fields=[*fields, "updated_at"])
    for name, value in fields.items():
        setattr(user, name, value)
    return user


def user_preferences(user: User) -> dict:
    """The person's preferences as the API shows them: the stored ones and their digest choice."""
    return {**(user.preferences or {}), "digest": {"channel": user.digest_channel, "hour": user.digest_hour}}


def user_update_preferences(*, user: User, changes: dict) -> User:
    """Merge ``changes`` into the stored preferences; a ``digest`` key is the digest choice
    (``user_set_digest``'s rules), stored in its columns in the same transaction. A digest that
    cannot be stored refuses the whole change."""
    changes = dict(changes)
    has_digest = "digest" in changes
    digest = changes.pop("digest", None)
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        fields = _digest_fields(locked, digest) if has_digest else {}
        for name, value in fields.items():
            setattr(locked, name, value)
        if changes:
            locked.preferences = _deep_merge(locked.preferences or {}, changes)
        locked.save(update_fields=[*fields, *(["preferences"] if changes else []), "updated_at"])
    user.preferences = locked.preferences
    for name, value in fields.items():
        setattr(user, name, value)
    return user


def user_update_status(*, user: User, status: str, message: str | None = None) -> User:
    user.status = status
    if message is not None:
        user.status_message = message
    user.status_updated_at = timezone.now()
    user.save(update_fields=["status", "status_message", "status_updated_at", "updated_at"])
    return user


def _photo_format(upload) -> str:
    """The image's real format, read from its content (never from its name or declared type)."""
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            image_format = image.format
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ValidationFailed(details={"photo": ["The file is not a JPEG, PNG or GIF image."]}) from exc
    if image_format not in PHOTO_FORMATS:
        raise ValidationFailed(details={"photo": ["The file is not a JPEG, PNG or GIF image."]})
    return image_format


def user_set_photo(*, user: User, upload) -> User:
    if upload.size > settings.PROFILE_PHOTO_MAX_BYTES:
        raise ValidationFailed(details={"photo": ["The photo is larger than 5 MB."]})
    extension = PHOTO_FORMATS[_photo_format(upload)]
    storage = media_storage()
    name = f"profiles/{media_owner_dir(user.business_id)}/{uuid.uuid4().hex}.{extension}"
    upload.seek(0)
    name = storage.save(name, upload)
    previous = user.photo
    user.photo = name
    user.save(update_fields=["photo", "updated_at"])
    if previous:
        after_commit.call(lambda: storage.delete(previous))  # A rollback keeps the old file.
    return user
