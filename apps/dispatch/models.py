"""Every AI call the assistant makes (or would have made), per business, for analytics and cost work."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AiUsage(models.Model):
    class Engine(models.TextChoices):
        OPENAI = "openai", _("OpenAI")
        RULES = "rules", _("Rule-based engine")

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    purpose = models.CharField(max_length=40, default="dispatch_extraction")
    engine = models.CharField(max_length=10, choices=Engine.choices, help_text=_("Who produced the answer"))
    model = models.CharField(max_length=100, blank=True)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    latency_ms = models.PositiveIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    fallback_used = models.BooleanField(default=False, help_text=_("OpenAI was tried and failed"))
    error = models.CharField(max_length=200, blank=True)
    intent = models.CharField(max_length=20, blank=True)
    conversation_ref = models.CharField(max_length=64, blank=True, help_text=_("Conversation id or caller phone"))

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.engine} {self.model} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens
