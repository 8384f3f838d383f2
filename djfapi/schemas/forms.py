"""Form bodies and uploads: a ``multipart/form-data`` or ``application/x-www-form-urlencoded``
body of a create or update becomes the object a JSON body would have been, and each file part
is saved through the model field's storage inside the write's transaction.

A form carries one value per field. A list of ids (a many-to-many field) is the field repeated;
a nested object or list of objects is sent as JSON text; ``""`` is null for a field that takes
null but not text. A file field takes a file part (multipart only), or, as in JSON, ``""`` to
clear it and the URL it reads as to keep it. A file is saved under a name the storage makes
safe; one of an ``ImageField`` must be an image Pillow can open; files saved by a write that
rolls back are deleted.
"""

from __future__ import annotations

import contextlib
import contextvars
import errno
import importlib.util
import os
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from django.core.exceptions import SuspiciousFileOperation, ValidationError
from django.core.files.base import File
from django.core.files.storage import Storage
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_image_file_extension
from django.db import models
from django.utils.crypto import get_random_string
from fastapi import HTTPException
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from starlette.datastructures import FormData, UploadFile

from djfapi.exceptions import ImproperlyConfigured
from djfapi.meta import concrete_field
from djfapi.schemas.fields import orm_name
from djfapi.schemas.types import collection_item, nested_model, optional_inner, strip_annotated

__all__ = ["FORM_TYPES", "KEPT", "FormShape", "attach_uploads", "deleted_on_rollback", "form_shape",
           "place_upload", "store_uploads"]

FORM_TYPES = frozenset({"multipart/form-data", "application/x-www-form-urlencoded"})

Kind = Literal["file", "image", "list", "json", "value"]


@dataclass(frozen=True)
class FormField:
    name: str  # the schema field's name (the body key may be its alias)
    kind: Kind
    blank_is_null: bool = False


@dataclass(frozen=True)
class FormShape:
    """How the fields of a write schema are read from a form, by body key."""

    fields: Mapping[str, FormField]

    @property
    def files(self) -> list[str]:
        return [key for key, spec in self.fields.items() if spec.kind in ("file", "image")]

    def read(self, form: FormData) -> tuple[dict[str, Any], dict[str, UploadFile], list[dict[str, Any]]]:
        """The body as JSON would have sent it, the uploaded files by field name, and errors."""
        data: dict[str, Any] = {}
        uploads: dict[str, UploadFile] = {}
        errors: list[dict[str, Any]] = []
        for key in dict.fromkeys(form.keys()):
            sent = form.getlist(key)
            values = [value for value in sent if not _no_file(value)]
            spec = self.fields.get(key)
            if spec is not None and spec.kind in ("file", "image") and sent and not values:
                uploads[spec.name], data[key] = KEPT, "kept"  # a file input left empty: as DRF, kept
                continue
            texts = [value for value in values if isinstance(value, str)]
            loc = ["body", key]
            if spec is None:  # reported as an unknown field by the body's shape
                data[key] = texts[0] if len(texts) == 1 else texts
            elif len(texts) < len(values):
                if spec.kind not in ("file", "image"):
                    errors.append(_error(loc, "not_a_file", f"{key} is not a file field: send it as text."))
                elif len(values) > 1:
                    errors.append(_error(loc, "too_many_files", f"Send one file for {key}."))
                else:  # validated as its name, then written as the file itself
                    uploads[spec.name] = values[0]  # type: ignore[assignment]
                    data[key] = values[0].filename or "upload"  # type: ignore[union-attr]
            elif spec.kind == "list":
                data[key] = texts
            elif len(texts) > 1:
                errors.append(_error(loc, "repeated", f"Send {key} once."))
            elif texts:
                data[key] = _value(spec, texts[0], loc, errors)
        return data, uploads, errors


def _no_file(value: Any) -> bool:
    """A file input left empty: browsers send it as a part with no name and no bytes."""
    return isinstance(value, UploadFile) and not value.filename and not value.size


def _value(spec: FormField, text: str, loc: list[Any], errors: list[dict[str, Any]]) -> Any:
    if spec.kind == "json":
        from djfapi.inputs import parse_json  # djfapi.inputs imports this package

        try:
            return parse_json(text.encode("utf-8", "surrogatepass"))
        except RequestValidationError as exc:  # why, as it would be said of a JSON body
            reason = exc.errors()[0]["msg"] if exc.errors() else "JSON decode error"
            message = f"{loc[-1]} holds objects, sent as JSON text: {reason}"
            errors.append(_error(loc, "json_invalid", message))
            return None
    return None if text == "" and spec.blank_is_null else text


def _error(loc: list[Any], kind: str, msg: str) -> dict[str, Any]:
    return {"loc": loc, "type": kind, "msg": msg}


def form_shape(model: type[models.Model], schema: type[BaseModel], owner: str) -> FormShape:
    """How ``schema``'s fields (written onto ``model``) are read from a form. ImproperlyConfigured
    when it has file fields and python-multipart, or an image field and Pillow, is missing."""
    fields = {}
    for name, info in schema.model_fields.items():
        field = concrete_field(model, orm_name(name, info))
        kind: Kind = "value"
        if isinstance(field, models.ImageField):
            kind = "image"
            _require("PIL", f"{owner}: {schema.__name__}.{name} is an ImageField", "djfapi[images]")
        elif isinstance(field, models.FileField):
            kind = "file"
            _require("multipart", f"{owner}: {schema.__name__}.{name} is a file field", "python-multipart")
        elif nested_model(info.annotation) is not None:
            kind = "json"
        elif collection_item(info.annotation) is not None:
            kind = "list"
        takes_null = type(None) in typing.get_args(strip_annotated(info.annotation))
        blank_is_null = takes_null and optional_inner(info.annotation) is not str
        fields[info.alias or name] = FormField(name, kind, blank_is_null)
    return FormShape(fields)


def _require(module: str, what: str, install: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise ImproperlyConfigured(f"{what}: uploads need {module!r}; pip install {install}.")


def attach_uploads(data: BaseModel, uploads: Mapping[str, UploadFile]) -> None:
    """Put the files of a form onto its validated body, as set fields (the writer saves them);
    a 422 for a file the call's schema (``get_schema()``) does not take."""
    withheld = [_error(["body", name], "withheld_field", "This field cannot be set by you: leave it out.")
                for name in uploads if name not in type(data).model_fields]
    if withheld:
        raise HTTPException(422, detail=withheld)
    for name, upload in uploads.items():
        data.__dict__[name] = upload
        data.__pydantic_fields_set__.add(name)


# -- saving ----------------------------------------------------------------------------------

_saved: contextvars.ContextVar[list[tuple[Storage, str]] | None] = contextvars.ContextVar(
    "djfapi_saved_uploads", default=None)


@contextlib.contextmanager
def deleted_on_rollback() -> Iterator[None]:
    """Files saved inside are deleted again when the block raises (its transaction rolled back)."""
    saved: list[tuple[Storage, str]] = []
    token = _saved.set(saved)
    try:
        yield
    except BaseException:
        for storage, name in saved:
            storage.delete(name)
        raise
    finally:
        _saved.reset(token)


def place_upload(field: models.FileField, instance: models.Model, upload: UploadFile) -> str | None:
    """Put ``upload`` on ``instance``'s ``field``, not yet stored (:func:`store_uploads` stores
    it once the row is complete, so a callable ``upload_to`` sees its parent and fields); a
    message saying why not when it cannot be taken."""
    name = safe_name(upload.filename)
    if isinstance(field, models.ImageField):
        problem = _not_an_image(field, upload, name)
        if problem is not None:
            return problem
    if name in ("", ".", ".."):
        return f"{field.name}: {_unstorable(str(upload.filename))}"
    setattr(instance, field.name, UploadedFile(upload.file, name, upload.content_type, upload.size))
    return None


def store_uploads(instance: models.Model) -> list[tuple[str, str]]:
    """Store the files placed on ``instance`` under names no other file has (even with a
    storage that overwrites), each deleted again if the write rolls back; (field, message)
    for those that cannot be stored."""
    problems = []
    for field in instance._meta.concrete_fields:
        if not isinstance(field, models.FileField):
            continue
        placed = getattr(instance, field.attname)
        if not placed or placed._committed:
            continue
        try:
            name = field.generate_filename(instance, placed.name)
            root, extension = os.path.splitext(name)
            while placed.storage.exists(name):  # not the storage's alternative: it may be the same name
                name = f"{root}_{get_random_string(7)}{extension}"
            stored = placed.storage.save(name, placed.file, max_length=field.max_length)
        except (SuspiciousFileOperation, OSError) as exc:
            if isinstance(exc, OSError) and exc.errno != errno.ENAMETOOLONG:
                raise
            problems.append((field.name, _unstorable(placed.name)))
            continue
        setattr(instance, field.attname, stored)
        if (saved := _saved.get()) is not None:
            saved.append((placed.storage, stored))
    return problems


def _unstorable(name: str) -> str:
    return f"the file name {name[:100]!r} cannot be stored; rename the file."


class _Kept:
    """A file input a form left empty: the stored file stays."""


KEPT: Any = _Kept()


def safe_name(filename: str | None) -> str:
    """The last part of a client's file name (after ``/`` or ``\\``), printable characters only,
    as Django's own multipart parser keeps it, and short enough for any file system (at most
    200 bytes of UTF-8, the extension kept); the storage makes it safer still."""
    name = (filename or "upload").rsplit("/")[-1].rsplit("\\")[-1]
    name = "".join(char for char in name if char.isprintable())
    root, dot, extension = name.rpartition(".") if "." in name.lstrip(".") else (name, "", "")
    tail = f"{dot}{extension}"[:20]
    while len((root + tail).encode()) > MAX_NAME_BYTES:
        root = root[:-1]
    return root + tail


MAX_NAME_BYTES = 200  # file systems take 255 bytes; the storage may add "_" and 7 characters


def _not_an_image(field: models.ImageField, upload: UploadFile, name: str) -> str | None:
    """Why ``upload`` is not taken by an ``ImageField``: not an image Pillow opens, or a name
    without an image extension (a PNG named ``evil.html`` would be served as HTML)."""
    if not _is_image(upload):
        return f"{field.name} must be an image (PNG, JPEG, GIF, WebP, ...): {upload.filename!r} is not one."
    try:
        validate_image_file_extension(File(None, name))
    except ValidationError:
        return (f"{field.name}: {name!r} has no image file extension; name it as what it is "
                f"(.png, .jpg, .gif, .webp, ...).")
    return None


def _is_image(upload: UploadFile) -> bool:
    from PIL import Image  # form_shape() made sure Pillow is installed

    try:
        with Image.open(upload.file) as image:
            image.verify()
    except Exception:  # whatever Pillow cannot read is not an image
        return False
    finally:
        upload.file.seek(0)
    return True
