"""The AI voice assistant over Twilio: ``<Say>`` the assistant's words, ``<Gather input="speech">``
the caller's, turn after turn through the same engine as SMS, until the appointment is booked or
the caller is handed to the owner (``<Dial>``) or to voicemail (``<Record>``).

``/twilio/voice`` answers a call (or, with ``SpeechResult``, takes a turn, as in seed 002);
``/twilio/voice/collect`` is the ``<Gather action>`` (``/twilio/owner-voice``, the owner's briefing,
is apps/owner/voice.py). The session lives in the database (``AssistantSession``, keyed
by CallSid), so any web process can serve the next turn.
"""

import logging

from django.utils.translation import gettext as _
from django.utils.translation import override
from twilio.twiml.voice_response import VoiceResponse

from apps.conversations import sessions
from apps.conversations.models import AssistantSession
from apps.telephony import services
from apps.telephony.webhooks import _number, _unknown_number_voice, public_url, twilio_webhook, twiml
from apps.tenants.config.services import config_get
from nevermisscall.errors import BusinessRuleViolation

logger = logging.getLogger(__name__)

VOICE_LANGUAGES = {"en": "en-US", "es": "es-US"}
# Amazon Polly voices through Twilio, one per language (Twilio's basic voices speak no es-US).
VOICES = {"en-US": "Polly.Joanna", "es-US": "Polly.Lupe"}
MAX_SILENCES = 2


def _language(code: str) -> str:
    return VOICE_LANGUAGES.get(code, "en-US")


def _say(node, text: str, language: str) -> None:
    """``<Say>`` in the caller's language (``language`` is ours: en / es)."""
    spoken = _language(language)
    node.say(text, language=spoken, voice=VOICES[spoken])


def _gather(response: VoiceResponse, *, tenant, text: str, language: str) -> VoiceResponse:
    gather = response.gather(
        input="speech",
        action=public_url(f"/twilio/voice/collect?business_id={tenant.id}"),
        method="POST",
        language=_language(language),
        speech_timeout="auto",
        timeout=6,
    )
    _say(gather, text, language)
    # No speech at all: Twilio falls through to here; collect counts the silence.
    response.redirect(public_url(f"/twilio/voice/collect?business_id={tenant.id}&silence=1"), method="POST")
    return response


def _voicemail(response: VoiceResponse, *, language: str) -> VoiceResponse:
    with override(language):
        _say(
            response,
            _("Please leave your name, address and what you need after the tone, and we'll call you back."),
            language,
        )
    response.record(max_length=120, play_beep=True, timeout=5)
    response.hangup()
    return response


def _hand_to_owner(response: VoiceResponse, *, tenant, text: str, language: str) -> VoiceResponse:
    """Ring the owner; if nobody answers, the ``<Dial action>`` leads to voicemail."""
    config = config_get()
    _say(response, text, language)
    if not config.forwarding_number:
        return _voicemail(response, language=language)
    with override(language):
        _say(response, _("Connecting you now."), language)
    response.dial(
        config.forwarding_number,
        timeout=config.ring_timeout,
        action=public_url(f"/twilio/voice/collect?business_id={tenant.id}&dialed=1"),
        method="POST",
    )
    return response


def assistant_answers(request, *, call_sid: str) -> VoiceResponse:
    """Answer an incoming call with the assistant (the business has ``ai_settings.voice_enabled``)."""
    data = request.POST
    services.call_receive(
        call_sid=call_sid,
        from_number=_number(data.get("From", "")),
        to_number=_number(data.get("To", "")),
        twilio_status=data.get("CallStatus", "ringing"),
        caller_name=data.get("CallerName", ""),
        caller_city=data.get("FromCity", ""),
        caller_state=data.get("FromState", ""),
    )
    response = VoiceResponse()
    try:
        session, greeting = sessions.assistant_session_start(
            channel=AssistantSession.Channel.VOICE,
            caller_phone=_number(data.get("From", "")),
            called_number=_number(data.get("To", "")),
            call_sid=call_sid,
        )
    except BusinessRuleViolation:  # The assistant is off: voicemail rather than silence.
        return _voicemail(response, language=config_get().language)
    services.call_answer_by_assistant(call_sid=call_sid)
    return _gather(response, tenant=request.tenant, text=greeting, language=session.language)


def _turn(request, session: AssistantSession) -> VoiceResponse:
    data = request.POST
    response = VoiceResponse()
    speech = (data.get("SpeechResult") or "").strip()
    if not speech:
        silences = int(session.metadata.get("silences", 0)) + 1
        AssistantSession.objects.filter(pk=session.pk).update(metadata={**session.metadata, "silences": silences})
        if silences >= MAX_SILENCES:
            sessions.assistant_session_end(session=session)
            return _voicemail(response, language=session.language)
        with override(session.language):
            prompt = _("Sorry, I didn't catch that. How can we help you today?")
        return _gather(response, tenant=request.tenant, text=prompt, language=session.language)
    session, reply, turn = sessions.assistant_session_input(session=session, text=speech)
    if session.status == AssistantSession.Status.BOOKED:
        _say(response, reply, session.language)
        with override(session.language):
            _say(response, _("We'll text you the details. Goodbye!"), session.language)
        response.hangup()
        return response
    if session.status == AssistantSession.Status.TRANSFERRED:
        return _hand_to_owner(response, tenant=request.tenant, text=reply, language=session.language)
    return _gather(response, tenant=request.tenant, text=reply, language=session.language)


@twilio_webhook
def voice(request):
    """``/twilio/voice``: a new call is answered by the assistant; with ``SpeechResult`` (seed 002's
    ``<Gather action="/twilio/voice">``) it is the caller's next turn."""
    if request.tenant is None:
        return _unknown_number_voice(request)
    call_sid = request.POST.get("CallSid", "")
    if not call_sid:
        return twiml(VoiceResponse())
    session = AssistantSession.objects.filter(call_sid=call_sid).first()
    if session is not None and "SpeechResult" in request.POST:
        return twiml(_session_turn(request, session))
    return twiml(assistant_answers(request, call_sid=call_sid))


def _session_turn(request, session: AssistantSession) -> VoiceResponse:
    if session.status != AssistantSession.Status.ACTIVE:
        response = VoiceResponse()
        response.hangup()
        return response
    return _turn(request, session)


@twilio_webhook
def voice_collect(request):
    """``/twilio/voice/collect``: the ``<Gather>`` result (or its silence) for the caller's session."""
    if request.tenant is None:
        return _unknown_number_voice(request)
    session = AssistantSession.objects.filter(call_sid=request.POST.get("CallSid", "")).first()
    if session is None:
        return twiml(assistant_answers(request, call_sid=request.POST.get("CallSid", "")))
    if request.GET.get("dialed"):  # Back from ringing the owner.
        response = VoiceResponse()
        if request.POST.get("DialCallStatus") == "completed":
            response.hangup()
            return twiml(response)
        return twiml(_voicemail(response, language=session.language))
    return twiml(_session_turn(request, session))
