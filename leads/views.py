import secrets

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_http_methods, require_safe

from leads import extra_fields, site_script
from leads.forms import TRACKING_FIELDS, LeadForm
from leads.idempotency import IdempotencyKey, InvalidKey, KeyConflict
from leads.intake import LEAD_INPUT_FIELDS, BadPayload, Visitor, parse_api_payload, store_lead
from leads.rate_limit import is_over_limit

# The message that marks the redirect after a stored lead, so that only it shows the thanks alone.
LEAD_SENT = "lead-sent"


@csrf_exempt
def api_leads(request: HttpRequest) -> JsonResponse:
    """POST /api/leads: a lead as JSON or form fields -> 201 {"id": ...} (200 for a repeated idempotency key)."""
    if request.method != "POST":
        response = JsonResponse({"error": "Use POST to send a lead."}, status=405)
        response["Allow"] = "POST"
        return response
    if is_over_limit(request):
        return rate_limited(request)
    if _body_too_large(request):
        return JsonResponse({"error": f"The body is larger than {settings.LEAD_MAX_BODY_BYTES} bytes."}, status=413)
    try:
        data = parse_api_payload(request)
        key = IdempotencyKey.of(request, data)
    except BadPayload as error:
        return JsonResponse({"error": str(error), "errors": error.field_errors}, status=400)
    except InvalidKey as error:
        return JsonResponse({"error": str(error), "errors": {}}, status=400)
    return _take_lead(request, data, key)


def _take_lead(request: HttpRequest, data: dict[str, str], key: IdempotencyKey | None) -> JsonResponse:
    form = LeadForm(data=data)
    if form.is_bot():
        return JsonResponse({"id": None}, status=201)
    extra, extra_errors = extra_fields.extract(data, LEAD_INPUT_FIELDS)
    if not form.is_valid() or extra_errors:
        return JsonResponse({"errors": {**_messages(form), **extra_errors}}, status=400)
    try:
        stored = store_lead(form, Visitor.of(request), extra, key)
    except KeyConflict as error:
        return JsonResponse({"error": str(error)}, status=409)
    return JsonResponse({"id": stored.lead.id}, status=201 if stored.created else 200)


@require_http_methods(["GET", "POST"])
def lead_form(request: HttpRequest) -> HttpResponse:
    """The HTML lead form at /, working without JavaScript; with it, the site script sends it through the API."""
    if request.method == "GET":
        form = LeadForm(initial=_tracking_from_query(request))
        return _form_page(request, form, sent=_just_sent(request))
    if is_over_limit(request):
        return _form_page(request, LeadForm(data=request.POST), limited=True, status=429)
    form = LeadForm(data=request.POST)
    if form.is_bot():
        return redirect(f"{reverse('lead_form')}?sent=1")
    if not form.is_valid():
        return _form_page(request, form, status=400)
    try:
        store_lead(form, Visitor.of(request), key=IdempotencyKey.of(request, request.POST))
    except KeyConflict:
        # The same page sent again after its details were changed (back, edit, send): ask before making a new lead.
        return _form_page(request, form, resent=True, status=409)
    except InvalidKey:  # not a key this page made: the same question, with a fresh key
        return _form_page(request, form, resent=True, status=400)
    # Post/redirect/get: reloading the thank-you page must not send the lead again. Only a redirect from here shows
    # the thanks alone; /?sent=1 opened any other way (a bookmark, a shared link) shows the form.
    messages.success(request, _("Thank you! We have received your request and will call you soon."), LEAD_SENT)
    return redirect(f"{reverse('lead_form')}?sent=1")


@require_safe
@gzip_page
def script(request: HttpRequest, version: str = "") -> HttpResponse:
    """The site script: its content at its versioned URL, cached for a year; any other version redirects there."""
    current = site_script.current()
    if version != current.version:
        response = redirect(current.url)
        # Short: a site whose tag names no version (or an old one) gets a new release within minutes.
        response["Cache-Control"] = f"public, max-age={site_script.REDIRECT_MAX_AGE}"
        return response
    response = HttpResponse(current.content, content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


def rate_limited(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"error": _("Too many requests. Please try again in a minute.")}, status=429)


def _body_too_large(request: HttpRequest) -> bool:
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    return declared > settings.LEAD_MAX_BODY_BYTES


def _form_page(request: HttpRequest, form: LeadForm, status: int = 200, **context) -> HttpResponse:
    context |= {"form": form, "idempotency_key": secrets.token_urlsafe(16), "script_url": site_script.url()}
    return render(request, "leads/form.html", context, status=status)


def _just_sent(request: HttpRequest) -> bool:
    # Reading the messages consumes them: a reload of the thank-you page shows the form.
    return any(LEAD_SENT in message.tags for message in messages.get_messages(request))


def _messages(form: LeadForm) -> dict[str, list[str]]:
    return {field: [error["message"] for error in errors] for field, errors in form.errors.get_json_data().items()}


def _tracking_from_query(request: HttpRequest) -> dict[str, str]:
    initial = {name: request.GET[name] for name in TRACKING_FIELDS if request.GET.get(name)}
    initial.setdefault("page_url", request.build_absolute_uri())
    initial.setdefault("referrer", request.META.get("HTTP_REFERER", ""))
    return initial
