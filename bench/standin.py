"""The Twilio stand-in as its own process for the benchmark: ``python -m bench.standin <port-file>``."""

import signal
import sys
import threading
from pathlib import Path

from apps.telephony.testing import TwilioStandIn


def main(port_file: str) -> None:
    server = TwilioStandIn().start()
    Path(port_file).write_text(server.base_url)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    server.stop()


if __name__ == "__main__":
    main(sys.argv[1])
