"""Validate a model instance against its check constraints in one query rather than one per constraint.

Django's `Model.validate_constraints` asks the database once per `CheckConstraint` (a work has
eleven, one of them sending the geometry to the database to test its validity). On the import
path that was most of the time spent per row. `ValidationMixin` asks once for all of them, with
the same SQL expressions and the same messages, and leaves every other kind of constraint (unique
ones) to Django. When one query cannot decide them all (a constraint refers to an excluded field,
or the query fails), it falls back to Django's own per-constraint validation.

`insert_checked` goes one step further for a new row: its INSERT is the check (the database holds
the same constraints), and the query runs only to say what the database refused.
"""
from __future__ import annotations

from contextlib import nullcontext

from django.core.exceptions import FieldError, ValidationError
from django.db import DatabaseError, IntegrityError, connections, router, transaction
from django.db.models import BooleanField, CheckConstraint, Q, Value
from django.db.models.functions import Coalesce
from django.db.models.sql import Query
from django.db.models.sql.constants import SINGLE

__all__ = ["ValidationMixin", "broken_checks", "insert_checked"]


def broken_checks(instance, checks: list[CheckConstraint], *, exclude=None) -> list[CheckConstraint] | None:
    """Return the check constraints the instance's values break, or None when one query cannot tell."""
    if not checks:
        return []
    using = router.db_for_write(type(instance), instance=instance)
    query = Query(None)
    for name, value in instance._get_field_expression_map(meta=instance._meta, exclude=exclude).items():
        query.add_annotation(value if hasattr(value, "resolve_expression") else Value(value), name, select=False)
    try:
        for number, check in enumerate(checks):
            # As Q.check does: a condition that is NULL (unknown) passes, as it would in the database.
            query.add_annotation(Coalesce(Q(check.condition), True, output_field=BooleanField()), f"_check_{number}")
    except FieldError:
        return None  # a condition refers to an excluded field: Django skips just that one
    connection = connections[using]
    try:
        with transaction.atomic(using=using) if connection.in_atomic_block else nullcontext():
            row = query.get_compiler(using=using).execute_sql(SINGLE)
    except DatabaseError:
        return None
    return [check for check, passed in zip(checks, row, strict=True) if not passed]


class ValidationMixin:
    """A model mixin: `validate_constraints` with every check constraint decided in one query."""

    def validate_constraints(self, exclude=None):
        groups = self.get_constraints()
        checks = [c for _model, constraints in groups for c in constraints if isinstance(c, CheckConstraint)]
        broken = broken_checks(self, checks, exclude=exclude)
        if broken is None:
            return super().validate_constraints(exclude=exclude)
        errors: dict = {}
        for check in broken:
            error = ValidationError(check.get_violation_error_message(), code=check.violation_error_code)
            errors = error.update_error_dict(errors)
        using = router.db_for_write(self.__class__, instance=self)
        for model_class, constraints in groups:
            for constraint in constraints:
                if isinstance(constraint, CheckConstraint):
                    continue
                try:
                    constraint.validate(model_class, self, exclude=exclude, using=using)
                except ValidationError as error:
                    # As Django files them: a one-field unique constraint's error under that field.
                    if getattr(error, "code", None) == "unique" and len(getattr(constraint, "fields", ())) == 1:
                        errors.setdefault(constraint.fields[0], []).append(error)
                    else:
                        errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)
        return None


def insert_checked(instance) -> None:
    """Validate and insert a new `instance` as `full_clean()` then `save()` would, with the same errors, but
    leave its check constraints to the INSERT: the database holds them, so a sound row is inserted without
    the query that asks for them first (a work: one of the few statements of each imported row that
    Django compiles anew every time). Only when something is refused is `full_clean()` run, so that
    every message is given at once, in the same words; the refused INSERT is rolled back to its own
    savepoint, so nothing of it stays."""
    try:
        instance.full_clean(validate_constraints=False)
    except ValidationError:
        instance.full_clean()  # every message at once, the check constraints' among them
        raise
    using = router.db_for_write(type(instance), instance=instance)
    try:
        with transaction.atomic(using=using):
            instance.save(force_insert=True)
    except IntegrityError:
        # What the database refused, in full_clean's words; also a code another writer took meanwhile (the
        # INSERT waited for its commit, so full_clean now sees it): the same answer as when it was taken before.
        instance.full_clean()
        raise  # a refusal full_clean cannot name
