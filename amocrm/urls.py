from django.urls import path

from amocrm import views

app_name = "amocrm"

urlpatterns = [
    path("authorize", views.authorize, name="authorize"),
    path("callback", views.callback, name="callback"),
    path("test", views.test, name="test"),
    path("leads", views.leads, name="leads"),
    path("disconnect", views.disconnect, name="disconnect"),
]
