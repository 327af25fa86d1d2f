from django.urls import path

from amocrm import views, webhook_views

app_name = "amocrm"

urlpatterns = [
    path("authorize", views.authorize, name="authorize"),
    path("callback", views.callback, name="callback"),
    path("test", views.test, name="test"),
    path("leads", views.leads, name="leads"),
    path("disconnect", views.disconnect, name="disconnect"),
    path("webhook/<str:secret>", webhook_views.receive, name="webhook"),
]
