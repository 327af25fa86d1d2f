"""The site script (static/leads/acoustic-leads.js) as served: its texts filled in, minified, named by its content.

No build step: the source file is what is edited and committed. Each process reads it once (again when the file
changes), puts in the few texts it shows visitors in every language of the site (from the project's catalogs, so
they are translated like everything else), minifies it with rjsmin and names it by a hash of the result. The hash
is the version in the URL, so the content at a URL never changes and browsers may keep it for a year.
"""

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import rjsmin
from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

SOURCE = Path(__file__).resolve().parent / "static" / "leads" / "acoustic-leads.js"
# How long a browser keeps the redirect from the unversioned URL (or an old version) to the current one.
REDIRECT_MAX_AGE = 300
_TEXTS_MARK = "__TEXTS__"
# What the script itself says; the field errors come from the API, in the language the script asks for.
_TEXTS = {
    "sent": _("Thank you! We have received your request and will call you soon."),
    "failed": _("The request could not be sent. Check your connection and try again."),
    "refused": _("The request could not be sent. Please check the form and try again."),
}


@dataclass(frozen=True)
class Script:
    content: bytes
    version: str

    @property
    def url(self) -> str:
        return reverse("lead_script", kwargs={"version": self.version})


def current() -> Script:
    return _build(SOURCE.stat().st_mtime_ns)


def url() -> str:
    return current().url


@cache
def _build(mtime_ns: int) -> Script:
    source = SOURCE.read_text(encoding="utf-8").replace(_TEXTS_MARK, json.dumps(_texts(), ensure_ascii=False))
    content = rjsmin.jsmin(source).encode("utf-8")
    return Script(content=content, version=hashlib.sha256(content).hexdigest()[:12])


def _texts() -> dict[str, dict[str, str]]:
    texts = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            texts[code] = {key: str(text) for key, text in _TEXTS.items()}
    return texts
