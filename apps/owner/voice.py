"""``/twilio/owner-voice``: the owner calls their own line and hears today's summary and tomorrow's
schedule, spoken by the text-to-speech provider (``<Play>`` of a short-lived signed link to the
private audio file) — or by Twilio's ``<Say>`` when no speech can be synthesised.

Signed like every Twilio webhook (``twilio_webhook``); only the business's forwarding number (the
owner's phone) hears anything. Synthesis is slow I/O and runs with no transaction open.
"""

import logging

from django.utils.translation import gettext as _
from django.utils.translation import override
from twilio.twiml.voice_response import VoiceResponse

from apps.owner import briefings, services
from apps.owner.speech import SpeechUnavailable
from apps.telephony.voice import _say
from apps.telephony.webhooks import _number, _unknown_number_voice, public_url, twilio_webhook, twiml
from apps.tenants.config.services import config_get
from nevermisscall.media import media_signed_url

logger = logging.getLogger(__name__)


@twilio_webhook
def owner_voice(request):
    tenant = request.tenant
    if tenant is None:
        return _unknown_number_voice(request)
    config = config_get()
    language = config.language
    response = VoiceResponse()
    with override(language):
        if not config.forwarding_number or _number(request.POST.get("From", "")) != config.forwarding_number:
            _say(response, _("Sorry, this line is for the business owner only. Goodbye."), language)
            response.hangup()
            return twiml(response)
        for briefing in (briefings.summary_today, briefings.schedule_tomorrow):
            text = briefing(business=tenant, language=language)["text"]
            try:
                audio = services.owner_audio_render(business=tenant, text=text, language=language)
            except SpeechUnavailable:
                logger.warning("Owner line of %s: no speech synthesis, reading with <Say>", tenant.id)
                _say(response, text, language)
            else:
                url = media_signed_url(audio.name)
                response.play(url if url.startswith("http") else public_url(url))
        _say(response, _("Goodbye!"), language)
    response.hangup()
    return twiml(response)
