"""The minimal signed-in landing page; the full dashboard arrives with its own issue."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def home(request):
    return render(request, "home.html", {"business": request.user.business})
