"""Text to speech behind one interface: ``speech_provider().synthesize(text=…, language=…)``.

- ``OpenAISpeech`` when ``OPENAI_API_KEY`` is set: OpenAI's ``/v1/audio/speech`` through the
  official SDK (``OPENAI_BASE_URL`` points it elsewhere, e.g. the loopback stand-in in tests), MP3.
- ``EspeakSpeech`` otherwise: Debian's ``espeak-ng`` (``make test`` installs it), offline, WAV.

Both raise ``SpeechUnavailable`` when they cannot speak (no binary, timeout, provider error); the
caller falls back (``<Say>`` on the phone, 503 on the API). Slow I/O: never call inside a
database transaction.
"""

import logging
import shutil
import subprocess
from dataclasses import dataclass

from django.conf import settings

from nevermisscall.demo_guard import current_business_is_demo
from nevermisscall.errors import ExternalServiceUnavailable
from nevermisscall.openai_client import openai_client

logger = logging.getLogger(__name__)

MAX_CHARACTERS = 4000  # OpenAI's input limit is 4096 characters.


class SpeechUnavailable(ExternalServiceUnavailable):
    default_message = "Speech synthesis is not available right now."


@dataclass(frozen=True)
class Speech:
    audio: bytes
    extension: str  # mp3 | wav
    content_type: str


class OpenAISpeech:
    name = "openai"

    def __init__(self):
        self.model = settings.OWNER_TTS_OPENAI_MODEL
        self.voice = settings.OWNER_TTS_OPENAI_VOICE

    @property
    def fingerprint(self) -> str:
        return f"{self.name}:{self.model}:{self.voice}"

    def synthesize(self, *, text: str, language: str) -> Speech:
        import openai  # Lazily: importing the SDK costs over a second (ARCHITECTURE.md).

        try:
            response = openai_client(timeout=settings.OWNER_TTS_TIMEOUT_SECONDS).audio.speech.create(
                model=self.model, voice=self.voice, input=text[:MAX_CHARACTERS], response_format="mp3"
            )
            audio = response.read()
        except openai.OpenAIError as exc:
            logger.warning("OpenAI speech failed: %s", type(exc).__name__)
            raise SpeechUnavailable() from exc
        if not audio:
            raise SpeechUnavailable()
        return Speech(audio=audio, extension="mp3", content_type="audio/mpeg")


ESPEAK_VOICES = {"en": "en-us", "es": "es-419"}


class EspeakSpeech:
    name = "espeak-ng"

    @property
    def fingerprint(self) -> str:
        return self.name

    def synthesize(self, *, text: str, language: str) -> Speech:
        binary = shutil.which("espeak-ng")
        if binary is None:
            raise SpeechUnavailable("espeak-ng is not installed (make test installs it).")
        try:
            completed = subprocess.run(  # noqa: S603 - a fixed binary; the text goes in on stdin
                [binary, "-v", ESPEAK_VOICES.get(language, "en-us"), "-s", "160", "--stdout"],
                input=text[:MAX_CHARACTERS].encode(),
                capture_output=True,
                timeout=settings.OWNER_TTS_TIMEOUT_SECONDS * 4,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SpeechUnavailable() from exc
        if completed.returncode != 0 or not completed.stdout.startswith(b"RIFF"):
            logger.warning("espeak-ng failed (%s): %s", completed.returncode, completed.stderr[:200])
            raise SpeechUnavailable()
        return Speech(audio=completed.stdout, extension="wav", content_type="audio/wav")


def speech_provider():
    return OpenAISpeech() if settings.OPENAI_API_KEY and not current_business_is_demo() else EspeakSpeech()
