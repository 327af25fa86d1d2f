"""Every word staff see is in Uzbek and Russian: each catalog we ship is complete, none of its entries fuzzy, its
compiled .mo says the same, and every model the admin shows has both names in both languages."""

import ast
import gettext
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib import admin
from django.utils import translation

CATALOGS = sorted((Path(settings.BASE_DIR) / "locale").rglob("*.po"))
LANGUAGES = ("uz", "ru")


def entries(po_file: Path) -> list[dict]:
    """The catalog's entries (header and obsolete ones aside): msgid, msgstr values, flags."""
    found = []
    for block in po_file.read_text(encoding="utf-8").split("\n\n"):
        lines = [line for line in block.strip().splitlines() if not line.startswith("#~")]
        entry = {"flags": "", "msgid": "", "msgctxt": None, "msgstr": []}
        field = None
        for line in lines:
            if line.startswith("#,"):
                entry["flags"] += line
            elif line.startswith(("msgctxt ", "msgid ", "msgid_plural ", "msgstr")):
                field, _space, text = line.partition(" ")
                if field.startswith("msgstr"):
                    entry["msgstr"].append(ast.literal_eval(text))
                elif field in ("msgid", "msgctxt"):
                    entry[field] = ast.literal_eval(text)
            elif line.startswith('"') and field:
                if field.startswith("msgstr"):
                    entry["msgstr"][-1] += ast.literal_eval(line)
                elif field in ("msgid", "msgctxt"):
                    entry[field] += ast.literal_eval(line)
        if entry["msgid"]:
            found.append(entry)
    return found


def test_there_are_catalogs_in_both_languages():
    languages = {po_file.parent.parent.name for po_file in CATALOGS}

    assert languages == set(LANGUAGES)


@pytest.mark.parametrize("po_file", CATALOGS, ids=lambda path: str(path.relative_to(settings.BASE_DIR)))
def test_no_entry_is_left_untranslated(po_file):
    untranslated = [entry["msgid"] for entry in entries(po_file) if not all(entry["msgstr"])]

    assert untranslated == []


@pytest.mark.parametrize("po_file", CATALOGS, ids=lambda path: str(path.relative_to(settings.BASE_DIR)))
def test_no_entry_is_fuzzy(po_file):
    fuzzy = [entry["msgid"] for entry in entries(po_file) if "fuzzy" in entry["flags"]]

    assert fuzzy == []


@pytest.mark.parametrize("po_file", CATALOGS, ids=lambda path: str(path.relative_to(settings.BASE_DIR)))
def test_the_compiled_catalog_is_up_to_date(po_file):
    with po_file.with_suffix(".mo").open("rb") as mo_file:
        compiled = gettext.GNUTranslations(mo_file)
    singular = [entry for entry in entries(po_file) if len(entry["msgstr"]) == 1]

    stale = [e["msgid"] for e in singular if _compiled(compiled, e) != e["msgstr"][0]]

    assert stale == []


def _compiled(compiled: gettext.GNUTranslations, entry: dict) -> str:
    if entry["msgctxt"] is None:
        return compiled.gettext(entry["msgid"])
    return compiled.pgettext(entry["msgctxt"], entry["msgid"])


def model_names() -> list[tuple[str, str]]:
    return [
        (model._meta.label, attribute)
        for model in admin.site._registry
        for attribute in ("verbose_name", "verbose_name_plural")
    ]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(("model", "attribute"), model_names())
def test_every_model_in_the_admin_has_its_names_translated(model, attribute, language):
    options = next(m._meta for m in admin.site._registry if m._meta.label == model)
    with translation.override("en"):
        english = str(getattr(options, attribute))

    with translation.override(language):
        translated = str(getattr(options, attribute))

    assert translated != english
