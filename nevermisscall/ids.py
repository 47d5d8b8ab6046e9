import uuid


def parse_uuid(value) -> uuid.UUID | None:
    """``value`` as a UUID, or None when it is not one (ids arrive from URLs and JSON bodies)."""
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return None
