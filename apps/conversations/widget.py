"""The web-chat page that ``static/widget/embed.js`` shows in an iframe on a business's own site.

The page holds no secret: it talks to ``/v1/widget/session/*`` with the public widget token from
its URL. It is the one page here that other sites may frame.
"""

from django.conf import settings
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_GET


@xframe_options_exempt
@require_GET
def chat_page(request):
    token = request.GET.get("token", "")[:100]
    context = {"token": token, "title": request.GET.get("title", "")[:80]}
    language = request.GET.get("lang")
    if language not in dict(settings.LANGUAGES):
        return render(request, "widget/chat.html", context)
    with translation.override(language):
        context["LANGUAGE_CODE"] = language
        return render(request, "widget/chat.html", context)
