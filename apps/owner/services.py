"""Writes of the Owner API: the audio file of a briefing (synthesised once per text and voice)."""

import hashlib
from dataclasses import dataclass

from django.core.files.base import ContentFile

from apps.owner.speech import speech_provider
from nevermisscall.media import media_storage

AUDIO_EXTENSIONS = {"openai": "mp3", "espeak-ng": "wav"}


@dataclass(frozen=True)
class AudioFile:
    name: str  # a private media name: owner-audio/<business id>/<sha256>.<ext>
    provider: str
    created: bool


def owner_audio_render(*, business, text: str, language: str) -> AudioFile:
    """The stored audio of ``text`` in the business's private media, synthesising it only when no
    file of the same words, language and voice exists. Slow I/O: call with no transaction open.

    Raises ``SpeechUnavailable`` when the provider cannot speak.
    """
    provider = speech_provider()
    digest = hashlib.sha256(f"{provider.fingerprint}\n{language}\n{text}".encode()).hexdigest()
    name = f"owner-audio/{business.id}/{digest}.{AUDIO_EXTENSIONS[provider.name]}"
    storage = media_storage()
    if storage.exists(name):
        return AudioFile(name=name, provider=provider.name, created=False)
    speech = provider.synthesize(text=text, language=language)
    stored = storage.save(name, ContentFile(speech.audio))
    if stored != name:  # A concurrent request saved the same words first: keep that file.
        storage.delete(stored)
    return AudioFile(name=name, provider=provider.name, created=True)
