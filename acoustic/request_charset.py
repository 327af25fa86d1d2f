"""A WSGI guard: a Content-Type charset Django cannot decode with is dropped before Django reads the request.

Django takes any charset `codecs.lookup` knows ("rot13", "zlib", "punycode") and decodes the query string
with it while it builds the request, before any middleware runs: "GET /?a=1" with "Content-Type: text/plain;
charset=rot13" is a 500 on every URL. Without the parameter the request is read as UTF-8, like most clients send.
"""

import codecs
from collections.abc import Callable, Iterable
from typing import Any

from django.utils.http import parse_header_parameters

# Text codecs whose decode raises UnicodeError itself rather than UnicodeDecodeError, which Django does not catch.
_UNRELIABLE = frozenset({"punycode", "undefined"})


def is_readable_charset(charset: str) -> bool:
    try:
        name = codecs.lookup(charset).name
        b"a".decode(name)  # LookupError for bytes-to-bytes codecs (rot13, base64, zlib); empty bytes skip the check
    except UnicodeDecodeError:
        pass  # a real text encoding that cannot read "a" on its own (utf-16)
    except (LookupError, UnicodeError):
        return False
    return name not in _UNRELIABLE


def readable_content_type(content_type: str) -> str:
    """`content_type` as is, or without its charset (or all parameters, if they do not parse)."""
    if ";" not in content_type:
        return content_type
    try:
        media_type, params = parse_header_parameters(content_type)
    except ValueError:  # e.g. an RFC 2231 parameter naming an unknown charset
        return content_type.split(";", 1)[0]
    if "charset" not in params or is_readable_charset(params["charset"]):
        return content_type
    kept = [f'{name}="{_quoted(value)}"' for name, value in params.items() if name != "charset"]
    return "; ".join([media_type, *kept])


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def guard_charset(app: Callable) -> Callable:
    """Wrap a WSGI application (acoustic/wsgi.py)."""

    def guarded(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        content_type = environ.get("CONTENT_TYPE", "")
        if content_type:
            environ["CONTENT_TYPE"] = readable_content_type(content_type)
        return app(environ, start_response)

    return guarded
