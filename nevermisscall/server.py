"""``python -m nevermisscall.server``: daphne's command line, serving request bodies untouched.

Twisted's HTTP request parses a POSTed form body (multipart or urlencoded) itself before daphne
sees the request, and answers a multipart body it cannot parse with a bare 400 — no headers, no
body, no log line — so the request never reaches Django, its middleware or the API's error
handler. daphne hands the raw body to the application and never reads what Twisted parsed, so
the parsing is switched off: Django's parsers decide, and the client gets the documented 400.
"""

from daphne import http_protocol
from daphne.cli import CommandLineInterface


class RawBodyRequest(http_protocol.WebRequest):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, parsePOSTFormSubmission=False, **kwargs)


def main() -> None:
    http_protocol.WebRequest = RawBodyRequest  # What daphne's HTTPFactory builds requests from.
    CommandLineInterface.entrypoint()


if __name__ == "__main__":
    main()
