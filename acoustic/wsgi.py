import os

from django.core.wsgi import get_wsgi_application

from acoustic.request_charset import guard_charset

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "acoustic.settings")

# The guard keeps a bogus Content-Type charset from failing requests before Django's own error handling starts.
application = guard_charset(get_wsgi_application())
