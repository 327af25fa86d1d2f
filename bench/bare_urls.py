"""The project's URLs plus /bench/bare: the baseline view bench/intake.py compares POST /api/leads with."""

from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

from leads.models import Lead


@csrf_exempt
def bare(request: HttpRequest) -> JsonResponse:
    """Only what any intake must do: insert one row and answer 201, through the same middleware."""
    lead = Lead.objects.create(name="Bench", phone="+998901234567", phone_raw="90 123 45 67")
    return JsonResponse({"id": lead.id}, status=201)


# Last, so the baseline pays for walking the project's patterns first (never cheaper than /api/leads for that).
urlpatterns = [path("", include("acoustic.urls")), path("bench/bare", bare)]
