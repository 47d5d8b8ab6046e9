"""E-mail through Django's e-mail backend (console by default, SMTP with ``EMAIL_URL``): a text and
an HTML part rendered from ``<template>_subject.txt``, ``<template>.txt`` and ``<template>.html``
in the recipient's language, at send time.

SMTP's own taxonomy: a 5xx answer or refused recipients are permanent, a 4xx answer, a dropped or
refused connection and timeouts are transient (mail servers discard duplicates poorly, but an
SMTP transaction that failed before DATA completed was not delivered)."""

import smtplib

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string
from django.utils import translation

from apps.outbox.channels import PermanentError, SendResult, TransientError


def render(delivery) -> EmailMultiAlternatives:
    template, context = delivery.payload["template"], delivery.payload.get("context", {})
    with translation.override(delivery.language or settings.LANGUAGE_CODE):
        subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
        text = render_to_string(f"{template}.txt", context)
        html = render_to_string(f"{template}.html", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=delivery.sender or settings.DEFAULT_FROM_EMAIL,
        to=[delivery.recipient],
        headers={"X-NeverMissCall-Delivery": str(delivery.id)},
        connection=get_connection(timeout=settings.EMAIL_TIMEOUT),
    )
    message.attach_alternative(html, "text/html")
    return message


def send(delivery) -> SendResult:
    if settings.EMAIL_DISABLED:
        raise PermanentError("email_disabled", "E-mail is disabled on this deployment (EMAIL_DISABLED).")
    message = render(delivery)
    try:
        sent = message.send(fail_silently=False)
    except smtplib.SMTPRecipientsRefused as exc:
        raise PermanentError(
            "recipient_refused",
            f"The mail server refused {delivery.recipient}.",
            provider_answer=str(exc.recipients)[:500],
        ) from exc
    except smtplib.SMTPResponseException as exc:
        answer = f"{exc.smtp_code} {exc.smtp_error!r}"
        if 500 <= exc.smtp_code < 600:
            raise PermanentError(
                str(exc.smtp_code), "The mail server refused the message.", provider_answer=answer
            ) from exc
        raise TransientError(
            f"The mail server answered {exc.smtp_code}.", provider_status=str(exc.smtp_code), provider_answer=answer
        ) from exc
    except (TimeoutError, smtplib.SMTPException, OSError) as exc:
        raise TransientError(f"The mail server is unreachable: {exc.__class__.__name__}") from exc
    if not sent:
        raise TransientError("The e-mail backend sent nothing.")
    return SendResult(provider_status="250")
