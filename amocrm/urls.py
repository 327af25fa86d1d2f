from django.urls import path

from amocrm.views import connect, staff_api, webhooks

app_name = "amocrm"

urlpatterns = [
    path("authorize", connect.authorize, name="authorize"),
    path("callback", connect.callback, name="callback"),
    path("test", staff_api.test, name="test"),
    path("leads", staff_api.leads, name="leads"),
    path("disconnect", webhooks.disconnect, name="disconnect"),
    path("webhook/<str:secret>", webhooks.receive, name="webhook"),
]
