from django.contrib import admin

from apps.tenants.models import ApiCredential, Business, Domain


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


@admin.register(Business)
class BusinessAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "schema_name", "trade", "status", "onboarding_step", "is_demo", "created_at"]
    list_filter = ["status", "trade", "is_demo", "created_at"]
    search_fields = ["name", "slug", "schema_name", "email", "phone"]
    readonly_fields = ["schema_name", "created_at", "updated_at"]
    inlines = [DomainInline]


@admin.register(Domain)
class DomainAdmin(admin.ModelAdmin):
    list_display = ["domain", "tenant", "is_primary"]
    list_filter = ["is_primary"]
    search_fields = ["domain", "tenant__name"]


@admin.register(ApiCredential)
class ApiCredentialAdmin(admin.ModelAdmin):
    list_display = ["name", "business", "kind", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["kind", "revoked_at", "created_at"]
    search_fields = ["name", "prefix", "business__name"]
    readonly_fields = ["secret_hash", "prefix", "created_at", "last_used_at"]
