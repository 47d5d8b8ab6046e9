from django.contrib import admin

from apps.crm.models import Appointment, ConversationReview, Customer, CustomerPhone, Reschedule
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


@admin.register(CustomerPhone)
class CustomerPhoneAdmin(TenantModelAdmin):
    list_display = ["phone", "customer", "merged_from", "created_at"]
    search_fields = ["phone", "customer__name", "customer__phone"]
    list_select_related = ["customer"]


@admin.register(ConversationReview)
class ConversationReviewAdmin(TenantModelAdmin):
    list_display = ["conversation_id", "outcome", "updated_at"]
    list_filter = ["outcome"]


@admin.register(Reschedule)
class RescheduleAdmin(TenantModelAdmin):
    list_display = ["created_at", "appointment", "status", "moved_by", "from_start", "to_start", "moved_at"]
    list_filter = ["status", "moved_by", "created_at"]
    list_select_related = ["appointment"]
    date_hierarchy = "created_at"
