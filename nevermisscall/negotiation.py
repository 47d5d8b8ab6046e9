"""Content negotiation for answers that are files (audio, CSV), not JSON."""

from rest_framework.negotiation import BaseContentNegotiation


class AnyAcceptNegotiation(BaseContentNegotiation):
    """The view's first renderer whatever the client accepts: an ``Accept: audio/*`` or
    ``text/csv`` must not turn into a 406."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None
