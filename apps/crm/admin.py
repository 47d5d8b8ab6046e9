from django.contrib import admin

from apps.crm.models import Appointment, Customer
from nevermisscall.admin import TenantModelAdmin


@admin.register(Customer)
class CustomerAdmin(TenantModelAdmin):
    list_display = ["name", "phone", "email", "language", "created_at"]
    list_filter = ["language", "created_at"]
    search_fields = ["name", "phone", "email", "address"]


@admin.register(Appointment)
class AppointmentAdmin(TenantModelAdmin):
    list_display = ["start", "end", "customer", "job_type", "status", "is_emergency", "estimated_value", "source"]
    list_filter = ["status", "is_emergency", "trade", "source", "start"]
    search_fields = ["customer__name", "customer__phone", "job_type", "address", "notes"]
    list_select_related = ["customer"]
    date_hierarchy = "start"
