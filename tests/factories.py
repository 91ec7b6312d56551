"""Factories for test data, built per test (fixtures/ holds real reference data only)."""
from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point

from infra.works.choices import Category, Stage
from infra.works.models import Work

# Inside xã Phong Thổ (current commune 03549), near its People's Committee.
PHONG_THO_POINT = (103.36, 22.53)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")


class WorkFactory(factory.django.DjangoModelFactory):
    """A work written straight to the table (bypassing services) to probe the database's own guards."""

    class Meta:
        model = Work

    code = factory.Sequence(lambda n: f"T-{n:04d}")
    name = factory.Sequence(lambda n: f"Công trình thử {n}")
    category = Category.HEALTH
    geometry = factory.LazyFunction(lambda: Point(*PHONG_THO_POINT, srid=4326))
    approved_year = 2022
    stage = Stage.PROPOSED


def user_with_role(role: str, *, username: str | None = None, communes=(), **fields):
    """Return a user with a profile of the given role, bound to these communes."""
    from infra.accounts.models import Profile

    user = UserFactory(username=username or f"{role}-{UserFactory._meta.model.objects.count() + 1}", **fields)
    profile = Profile.objects.create(user=user, role=role)
    profile.communes.set(communes)
    return user
