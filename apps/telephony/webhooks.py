"""Twilio's callbacks: verify the signature, parse the form, call one service, answer TwiML fast.

The tenant was resolved before the view from ``?business_id=`` or the called number (``To``). A
request whose signature does not verify gets 403 and changes nothing; a number no business owns
gets a polite spoken answer, a log line, and nothing stored anywhere.
"""

import functools
import json
import logging

from django.conf import settings
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseForbidden, QueryDict
from django.http.request import RawPostDataException
from django.utils.translation import gettext as _
from django.utils.translation import override
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import Dial, VoiceResponse

from apps.conversations import services as conversation_services
from apps.telephony import services
from apps.telephony.models import CallStatusEvent
from apps.tenants.config.selectors import call_routing_get
from nevermisscall.ids import parse_uuid
from nevermisscall.phone import InvalidPhoneNumber, to_e164

logger = logging.getLogger(__name__)

VOICE_LANGUAGES = {"en": "en-US", "es": "es-US"}


def public_url(path: str) -> str:
    return settings.PUBLIC_BASE_URL + path


def signature_valid(request) -> bool:
    """``X-Twilio-Signature`` over the URL Twilio requested (``PUBLIC_BASE_URL`` + path + query)."""
    if not settings.TWILIO_VALIDATE_SIGNATURES:  # Settings allow this in development only.
        return True
    if not settings.TWILIO_AUTH_TOKEN:
        return False
    signature = request.headers.get("X-Twilio-Signature", "")
    url = public_url(request.get_full_path())
    validator = RequestValidator(settings.TWILIO_AUTH_TOKEN)
    if "bodySHA256" in request.GET:
        # A JSON webhook: the signature covers the URL (bodySHA256 included) with no params, and
        # bodySHA256 must be the hex SHA-256 of the raw body. The SDK checks the hash only when it
        # is given the body as a string; given the parsed (empty) form it would pass any body.
        try:
            body = request.body.decode("utf-8")
        except (UnicodeDecodeError, RawPostDataException):  # not text, or a multipart stream already read
            return False
        return validator.validate(url, body, signature)
    return validator.validate(url, request.POST, signature)


def _json_params(request) -> QueryDict | None:
    """A JSON webhook's top-level fields as the form the views read (``request.POST``); None when
    the body is not a JSON object."""
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    params = QueryDict(mutable=True)
    for key, value in data.items():
        if isinstance(value, bool):
            value = "true" if value else "false"
        if isinstance(value, str | int | float):
            params[str(key)] = str(value)
    params._mutable = False
    return params


def twiml(response) -> HttpResponse:
    return HttpResponse(str(response), content_type="application/xml")


def twilio_webhook(view):
    """POST only, CSRF-exempt (Twilio cannot send a token), 403 without a valid signature."""

    @csrf_exempt
    @require_POST
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not signature_valid(request):
            logger.warning("Twilio webhook %s refused: bad signature", request.path)
            return HttpResponseForbidden("invalid signature")
        if "bodySHA256" in request.GET:
            params = _json_params(request)
            if params is None:
                return HttpResponseBadRequest("a JSON object is required")
            request.POST = params  # The views read one form, whichever way Twilio encoded it.
        return view(request, *args, **kwargs)

    return wrapper


def _number(raw: str) -> str:
    """E.164 when it parses; Twilio also sends ``anonymous`` or short codes, kept as given."""
    try:
        return to_e164(raw)
    except InvalidPhoneNumber:
        return (raw or "")[:20]


def _duration(raw) -> int | None:
    try:
        return max(0, int(raw))
    except (TypeError, ValueError):
        return None


def _unknown_number_voice(request) -> HttpResponse:
    logger.warning("Twilio call to %s: no business owns this number", request.POST.get("To", ""))
    response = VoiceResponse()
    response.say(_("Sorry, this number is not in service. Please check the number and try again. Goodbye."))
    response.hangup()
    return twiml(response)


def _voice_language(code: str) -> str:
    return VOICE_LANGUAGES.get(code, "en-US")


@twilio_webhook
def incoming_call(request):
    """``/webhooks/twilio/call``: forward to the owner with the ring timeout and a status action."""
    tenant = request.tenant
    if tenant is None:
        return _unknown_number_voice(request)
    data = request.POST
    call_sid = data.get("CallSid", "")
    if not call_sid:
        return HttpResponseBadRequest("CallSid is required")
    routing = call_routing_get()
    if routing.voice_enabled:
        from apps.telephony.voice import assistant_answers  # voice builds on this module's helpers

        return twiml(assistant_answers(request, call_sid=call_sid))
    forwarding = routing.forwarding_number
    call, _created = services.call_receive(
        call_sid=call_sid,
        from_number=_number(data.get("From", "")),
        to_number=_number(data.get("To", "")),
        twilio_status=data.get("CallStatus", "ringing"),
        forwarded_to=forwarding,
        screening=bool(forwarding and routing.call_screening),
        caller_name=data.get("CallerName", ""),
        caller_city=data.get("FromCity", ""),
        caller_state=data.get("FromState", ""),
    )
    response = VoiceResponse()
    with override(routing.language):
        if not forwarding:
            services.call_mark_unforwarded(call_sid=call_sid)
            response.say(
                _("Sorry, we can't take your call right now. We'll text you in a moment."),
                language=_voice_language(routing.language),
            )
            response.hangup()
            return twiml(response)
    dial = Dial(
        timeout=routing.ring_timeout,
        action=public_url(f"/webhooks/twilio/call/status/{call_sid}"),
        method="POST",
    )
    if call.screening:
        dial.number(
            forwarding,
            url=public_url(f"/webhooks/twilio/call/screen/{call_sid}?business_id={tenant.id}"),
            method="POST",
        )
    else:
        dial.number(forwarding)
    response.append(dial)
    return twiml(response)


@twilio_webhook
def screen_call(request, call_sid):
    """The whisper on the owner's leg (``<Number url>``): press 1 to accept. Nobody pressing — the
    owner's voicemail answering, typically — hangs this leg up and the caller's call counts as missed."""
    tenant = request.tenant
    if tenant is None:
        return _unknown_number_voice(request)
    language = call_routing_get().language
    response = VoiceResponse()
    gather = response.gather(
        num_digits=1,
        timeout=6,
        action=public_url(f"/webhooks/twilio/call/screen/{call_sid}/result?business_id={tenant.id}"),
        method="POST",
    )
    with override(language):
        gather.say(
            _("Call for %(business)s. Press 1 to accept.") % {"business": tenant.name},
            language=_voice_language(language),
        )
    response.hangup()
    return twiml(response)


@twilio_webhook
def screen_result(request, call_sid):
    if request.tenant is None:
        return _unknown_number_voice(request)
    response = VoiceResponse()
    if request.POST.get("Digits") == "1":
        services.call_screen_accept(call_sid=call_sid)
        return twiml(response)  # An empty answer ends the whisper and bridges the caller.
    response.hangup()
    return twiml(response)


@twilio_webhook
def dial_status(request, call_sid):
    """``/webhooks/twilio/call/status/{CallSid}``: the ``<Dial action>`` — answered, or missed → text.

    Records the result (one statement) and answers; a task settles the call and queues the text."""
    if request.tenant is None:
        return _unknown_number_voice(request)
    data = request.POST
    if data.get("CallSid") and data["CallSid"] != call_sid:
        return HttpResponseBadRequest("CallSid does not match the URL")
    dial_status = data.get("DialCallStatus", "")
    dial_call_sid = data.get("DialCallSid", "")
    outcome = services.call_status_event_record(
        call_sid=call_sid,
        kind=CallStatusEvent.Kind.DIAL,
        status=dial_status,
        data={
            "from_number": _number(data.get("From", "")),
            "to_number": _number(data.get("To", "")),
            "dial_status": dial_status,
            "dial_call_sid": dial_call_sid,
            "dial_duration": _duration(data.get("DialCallDuration")),
            "twilio_status": data.get("CallStatus", ""),
        },
    )
    response = VoiceResponse()
    if data.get("CallStatus") == "in-progress" and services.dial_result_is_missed(
        outcome, dial_status=dial_status, dial_call_sid=dial_call_sid
    ):
        with override(outcome.language):
            response.say(
                _("Sorry we missed you. We'll text you right away."),
                language=_voice_language(outcome.language),
            )
        response.hangup()
    return twiml(response)


@twilio_webhook
def call_status(request):
    """``/api/callbot/call-status`` (seed 003): the call's own status callback."""
    if request.tenant is None:
        logger.warning("Twilio call status for unknown number %s", request.POST.get("To", ""))
        return twiml(VoiceResponse())
    data = request.POST
    call_sid = data.get("CallSid", "")
    if not call_sid or not data.get("CallStatus"):
        return HttpResponseBadRequest("CallSid and CallStatus are required")
    services.call_status_event_record(
        call_sid=call_sid,
        kind=CallStatusEvent.Kind.STATUS,
        status=data["CallStatus"],
        data={
            "from_number": _number(data.get("From", "")),
            "to_number": _number(data.get("To", "")),
            "twilio_status": data["CallStatus"],
            "duration": _duration(data.get("CallDuration", data.get("Duration"))),
        },
    )
    return twiml(VoiceResponse())


def _media(data) -> list:
    count = _duration(data.get("NumMedia")) or 0
    return [
        {"url": data.get(f"MediaUrl{index}", ""), "content_type": data.get(f"MediaContentType{index}", "")}
        for index in range(min(count, 10))
    ]


@twilio_webhook
def incoming_sms(request):
    """``/webhooks/twilio/sms`` and ``/twilio/sms``: store, apply keywords, hand to the engine.

    Every reply (HELP, START, the assistant's answer) goes out through the outbox, so each one is
    stored, retried, tracked by its status callback and checked against opt-outs; the TwiML answer
    itself stays empty.
    """
    if request.tenant is None:
        logger.warning("Twilio SMS to %s: no business owns this number", request.POST.get("To", ""))
        return twiml(MessagingResponse())
    data = request.POST
    message_sid = data.get("MessageSid") or data.get("SmsSid")
    if not message_sid:
        return HttpResponseBadRequest("MessageSid is required")
    conversation_services.message_receive(
        message_sid=message_sid,
        from_number=_number(data.get("From", "")),
        to_number=_number(data.get("To", "")),
        body=data.get("Body", ""),
        media=_media(data),
    )
    return twiml(MessagingResponse())


@twilio_webhook
def sms_status(request):
    """``/webhooks/twilio/sms/status``: queued → sent → delivered / undelivered / failed."""
    if request.tenant is None:
        logger.warning("SMS status callback without a known business (%s)", request.get_full_path())
        return HttpResponse(status=204)
    data = request.POST
    conversation_services.message_status_callback_receive(
        delivery_id=parse_uuid(request.GET.get("delivery_id")),
        message_sid=data.get("MessageSid") or data.get("SmsSid") or "",
        status=data.get("MessageStatus") or data.get("SmsStatus") or "",
        error_code=data.get("ErrorCode", ""),
        payload=data,
    )
    return HttpResponse(status=204)
