"""The channels a delivery can go out on, and the error taxonomy every transport speaks.

A transport's ``send(delivery) -> SendResult`` raises:

- ``TransientError``: worth trying again (HTTP 429 and 5xx, refused connections, connect
  timeouts): the dispatcher backs off with jitter, and dead-letters the row after its last attempt;
- ``UncertainError``: the provider may have accepted it (no answer within the read timeout) and
  sending again could deliver it twice: the row stays claimed until its status callback settles
  it, or until the claim goes stale; then, before sending again, the transport's
  ``find_accepted(delivery, since=…) -> SendResult | None`` asks the provider whether it has the
  message (a transport that raises this must have it);
- ``PermanentError``: never worth repeating (a refused recipient, an unsubscribed number): the
  row fails now.
"""

from dataclasses import dataclass


class ChannelError(Exception):
    def __init__(self, message: str, *, provider_status: str = "", provider_answer: str = ""):
        super().__init__(message)
        self.provider_status, self.provider_answer = provider_status, provider_answer


class TransientError(ChannelError):
    pass


class UncertainError(ChannelError):
    pass


class PermanentError(ChannelError):
    def __init__(self, code: str, message: str, *, provider_status: str = "", provider_answer: str = ""):
        super().__init__(message, provider_status=provider_status or code, provider_answer=provider_answer)
        self.code = code


# The push service says the browser's subscription is gone: the delivery fails and it is forgotten.
PUSH_GONE = "subscription_gone"


@dataclass(frozen=True)
class SendResult:
    provider_ref: str = ""
    delivered: bool = False  # The channel confirms delivery itself (a webhook's 2xx).
    provider_status: str = ""
    provider_answer: str = ""


def transport_for(channel: str):
    from apps.outbox.channels import email, push, sms, webhook

    return {"sms": sms, "email": email, "webhook": webhook, "push": push}[channel]
