from django.contrib import admin

from apps.telephony.registry.models import NumberRoute


@admin.register(NumberRoute)
class NumberRouteAdmin(admin.ModelAdmin):
    list_display = ["phone_number", "business", "phone_number_id", "created_at"]
    list_filter = ["created_at", "business"]
    search_fields = ["phone_number", "business__name", "business__slug"]
    raw_id_fields = ["business"]
