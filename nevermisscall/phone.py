"""Phone numbers in E.164, parsed by the phonenumbers library."""

import phonenumbers


class InvalidPhoneNumber(ValueError):
    pass


def to_e164(raw: str, region: str = "US") -> str:
    """Return ``raw`` in E.164 (``+15551234567``) or raise InvalidPhoneNumber."""
    try:
        parsed = phonenumbers.parse(str(raw), region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber(f"{raw!r} is not a phone number") from exc
    if not phonenumbers.is_possible_number(parsed) or not phonenumbers.is_valid_number(parsed):
        raise InvalidPhoneNumber(f"{raw!r} is not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
