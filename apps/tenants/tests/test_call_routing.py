"""The incoming-call webhook's read of the settings: the business's own values, the defaults when
its settings row does not exist yet, and never another business's."""

import pytest
from django_tenants.utils import tenant_context

from apps.tenants.config.models import BusinessConfig
from apps.tenants.config.selectors import CallRouting, call_routing_get
from apps.tenants.config.services import config_get

pytestmark = pytest.mark.django_db


def test_routing_is_the_businesss_own(alpha, beta):
    with tenant_context(alpha):
        BusinessConfig.objects.filter(pk=1).update(
            forwarding_number="+13125550142", ring_timeout=27, call_screening=False, language="es"
        )
        config = config_get()
        config.ai_settings = {**config.ai_settings, "voice_enabled": True}
        config.save()
        alpha_routing = call_routing_get()
        assert alpha_routing == CallRouting("+13125550142", 27, False, "es", True)
    with tenant_context(beta):
        beta_routing = call_routing_get()
        assert beta_routing == CallRouting.of(config_get())
        assert beta_routing != alpha_routing


def test_routing_without_a_settings_row_creates_the_defaults(alpha):
    with tenant_context(alpha):
        BusinessConfig.objects.all().delete()
        routing = call_routing_get()
        assert BusinessConfig.objects.count() == 1
        assert routing == CallRouting("", 20, True, "en", False)
