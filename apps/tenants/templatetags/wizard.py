"""Template helpers of the settings forms: the errors of one field, by the field's name."""

from django import template

register = template.Library()


@register.filter
def field_errors(errors, name) -> list[str]:
    if not isinstance(errors, dict):
        return []
    return errors.get(str(name), [])


@register.filter
def price(value) -> str:
    """A stored price as typed (120, 99.5); anything else, such as refused input, as it was."""
    if value is None or value == "":
        return ""
    if isinstance(value, int | float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


@register.filter
def estimate_key(number) -> str:
    return f"estimate-{number}"
