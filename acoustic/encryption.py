"""Encrypted fields at rest (django-fernet-fields): every one the project has, the stored values no key in FERNET_KEYS
opens, and re-encrypting them all under the first key (`manage.py rotate_encryption_keys`).

Values are read and written here as the raw tokens in the database, so one unreadable value never hides the others,
and nothing depends on the keys a field cached when it first encrypted.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.db import connections, models, router
from fernet_fields import EncryptedField
from fernet_fields import EncryptedTextField as FernetTextField
from fernet_fields.hkdf import derive_fernet_key

HOW_TO_FIX = (
    "Put the old key back in FERNET_KEYS and run `python manage.py rotate_encryption_keys`, "
    "or run it with --clear-unreadable and enter those secrets again."
)


class UnreadableSecret(InvalidToken):
    """A stored value that no key in FERNET_KEYS opens; the message names it and says what to do."""


class EncryptedTextField(FernetTextField):
    """django-fernet-fields' text field; a value no key opens raises UnreadableSecret naming the field."""

    def from_db_value(self, value, expression, connection, *args):
        try:
            return super().from_db_value(value, expression, connection, *args)
        except InvalidToken as error:
            what = f"{self.model._meta.label}.{self.name}"
            raise UnreadableSecret(f"no key in FERNET_KEYS opens {what}. {HOW_TO_FIX}") from error


@dataclass(frozen=True)
class UnreadableRow:
    model: str  # app_label.Model
    pk: object
    fields: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.model} pk {self.pk} ({', '.join(self.fields)})"


@dataclass
class FieldCounts:
    label: str  # app_label.Model.field
    reencrypted: int = 0
    current: int = 0
    changed: int = 0  # rewritten by the site between our read and our write: the next run takes it


@dataclass
class Rotation:
    fields: list[FieldCounts] = field(default_factory=list)
    unreadable: list[UnreadableRow] = field(default_factory=list)


def list_rows(rows: list[UnreadableRow]) -> str:
    """The rows and fields (never their values), e.g. "amocrm.Settings pk 1 (client_secret, access_token)"."""
    return "; ".join(map(str, rows)) or "a stored secret"


def describe(rows: list[UnreadableRow]) -> str:
    return f"no key in FERNET_KEYS opens {list_rows(rows)}"


def explain(rows: list[UnreadableRow]) -> str:
    return f"stored secrets cannot be decrypted: {describe(rows)}. {HOW_TO_FIX}"


def encrypted_fields() -> Iterator[tuple[type[models.Model], EncryptedField]]:
    """Every encrypted field of every installed model, each once (a parent's fields under the parent)."""
    for model in apps.get_models():
        for model_field in model._meta.local_concrete_fields:
            if isinstance(model_field, EncryptedField) and not model._meta.proxy:
                yield model, model_field


def unreadable_rows() -> list[UnreadableRow]:
    every = _fernet(tuple(settings.FERNET_KEYS), _uses_hkdf())
    found: dict[tuple[str, object], list[str]] = {}
    for model, model_field in encrypted_fields():
        for pk, token in _raw_tokens(model, model_field):
            if not _opens(every, token):
                found.setdefault((model._meta.label, pk), []).append(model_field.name)
    return [UnreadableRow(label, pk, tuple(names)) for (label, pk), names in found.items()]


def rotate(clear_unreadable: bool = False) -> Rotation:
    """Re-encrypt every stored value under the first key; what no key opens is listed (or emptied, if asked)."""
    keys, rotation = tuple(settings.FERNET_KEYS), Rotation()
    first, every = _fernet(keys[:1], _uses_hkdf()), _fernet(keys, _uses_hkdf())
    unreadable: dict[tuple[str, object], list[str]] = {}
    for model, model_field in encrypted_fields():
        counts = FieldCounts(f"{model._meta.label}.{model_field.name}")
        for pk, token in _raw_tokens(model, model_field):
            try:
                outcome = _rotate_one(model, model_field, pk, token, first, every)
            except InvalidToken:
                unreadable.setdefault((model._meta.label, pk), []).append(model_field.name)
                if clear_unreadable:
                    _replace(model, model_field, pk, token, None if model_field.null else every.encrypt(b""))
                continue
            setattr(counts, outcome, getattr(counts, outcome) + 1)
        rotation.fields.append(counts)
    rotation.unreadable = [UnreadableRow(label, pk, tuple(names)) for (label, pk), names in unreadable.items()]
    return rotation


def forget_cached_keys(setting: str, **kwargs) -> None:
    """setting_changed receiver: fields cache their keys on first use; a test that changes the keys clears them."""
    if setting in ("FERNET_KEYS", "FERNET_USE_HKDF", "SECRET_KEY"):
        for _model, model_field in encrypted_fields():
            for cached in ("keys", "fernet_keys", "fernet"):
                model_field.__dict__.pop(cached, None)


def _rotate_one(model, model_field, pk, token: bytes, first: MultiFernet, every: MultiFernet) -> str:
    """Which count this value goes to; raises InvalidToken when no key opens it."""
    if _opens(first, token):
        return "current"
    rotated = every.rotate(token)  # keeps the original timestamp
    return "reencrypted" if _replace(model, model_field, pk, token, rotated) else "changed"


def _opens(fernet: MultiFernet, token: bytes) -> bool:
    try:
        fernet.decrypt(token)
    except InvalidToken:
        return False
    return True


def _uses_hkdf() -> bool:
    # django-fernet-fields derives each Fernet key from the configured string unless told not to.
    return getattr(settings, "FERNET_USE_HKDF", True)


@lru_cache(maxsize=8)
def _fernet(keys: tuple[str, ...], use_hkdf: bool) -> MultiFernet:
    return MultiFernet([Fernet(derive_fernet_key(key) if use_hkdf else key) for key in keys])


def _raw_tokens(model: type[models.Model], model_field: EncryptedField) -> list[tuple[object, bytes]]:
    connection = connections[router.db_for_read(model)]
    table, pk, column = _names(connection, model, model_field)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {pk}, {column} FROM {table} WHERE {column} IS NOT NULL ORDER BY {pk}")
        return [(row_pk, bytes(token)) for row_pk, token in cursor.fetchall()]


def _replace(model: type[models.Model], model_field: EncryptedField, pk, old: bytes, new: bytes | None) -> bool:
    """Write `new` only if the row still holds `old`: a token refresh meanwhile must not be undone."""
    connection = connections[router.db_for_write(model)]
    table, pk_column, column = _names(connection, model, model_field)
    binary = connection.Database.Binary
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {column} = %s WHERE {pk_column} = %s AND {column} = %s",
            [None if new is None else binary(new), pk, binary(old)],
        )
        return cursor.rowcount == 1


def _names(connection, model: type[models.Model], model_field: EncryptedField) -> tuple[str, str, str]:
    quote = connection.ops.quote_name
    return quote(model._meta.db_table), quote(model._meta.pk.column), quote(model_field.column)
