from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from apps.accounts.models import User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "business", "role", "status", "is_active", "is_staff", "last_login"]
    list_filter = ["role", "status", "is_active", "is_staff", "business"]
    search_fields = ["email", "first_name", "last_name", "phone", "business__name"]
    list_select_related = ["business"]
    readonly_fields = ["date_joined", "last_login", "updated_at"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Person", {"fields": ["first_name", "last_name", "phone", "timezone", "language", "photo"]}),
        ("Business", {"fields": ["business", "role", "status", "status_message", "preferences"]}),
        ("Platform", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["date_joined", "last_login", "updated_at"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2", "business", "role"]})]
