from django.urls import path, re_path

from leads import views

urlpatterns = [
    path("", views.lead_form, name="lead_form"),
    re_path(r"^api/leads/?$", views.api_leads, name="api_leads"),
    # The site script: the unversioned URL (and any old version) redirects to the current one.
    path("js/acoustic-leads.js", views.script, name="lead_script_latest"),
    re_path(r"^js/acoustic-leads\.(?P<version>[0-9a-f]{1,64})\.js$", views.script, name="lead_script"),
]
