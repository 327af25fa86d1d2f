from django.urls import path  # noqa: F401

app_name = "amocrm"

# The OAuth views, the test/leads endpoints and the incoming webhooks are added here.
urlpatterns: list = []
