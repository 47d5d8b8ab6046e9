"""Reads of users, always within one business."""

from django.db.models import Q, QuerySet

from apps.accounts.models import User
from nevermisscall.ids import parse_uuid
from nevermisscall.media import media_url


def user_list(*, business, role: str | None = None, status: str | None = None, search: str | None = None) -> QuerySet:
    queryset = User.objects.filter(business=business)
    if role:
        queryset = queryset.filter(role=role)
    if status:
        queryset = queryset.filter(status=status)
    if search:
        queryset = queryset.filter(
            Q(email__icontains=search) | Q(first_name__icontains=search) | Q(last_name__icontains=search)
        )
    return queryset.order_by("date_joined", "email")


def user_get_in_business(*, business, user_id) -> User | None:
    """A user of ``business``; None for users of other businesses, whatever the id."""
    pk = parse_uuid(user_id)
    if pk is None:
        return None
    return User.objects.filter(business=business, pk=pk).first()


def photo_url(user: User) -> str | None:
    if not user.photo:
        return None
    return media_url(user.photo)
