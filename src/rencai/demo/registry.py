"""The registry of demo generators and the run that calls them."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils.module_loading import autodiscover_modules
from faker import Faker

from rencai.core import audit
from rencai.core.models import AuditEntry
from rencai.core.models.audit import AuditAction

DEMO_OBJECT_TYPE = "demo"
DEFAULT_SEED = 2026


class DemoAlreadyLoaded(Exception):
    """The database already holds demo data (or data of its own that demo data would mix with)."""


@dataclass
class DemoContext:
    """What a generator gets: the run's parameters, its own seeded generators, and a tally."""

    seed: int
    size: int
    password: str
    faker: Faker
    random: random.Random
    counts: dict[str, int] = field(default_factory=dict)
    accounts: list[tuple[str, str]] = field(default_factory=list)  # (username, description)

    @cached_property
    def password_hash(self) -> str:
        """The hash of the shared demo password, made once: the demo accounts share the password,
        so sharing its (slow, Argon2) hash reveals nothing more and saves a second per run."""
        return make_password(self.password)

    def count(self, label: str, n: int) -> None:
        self.counts[label] = self.counts.get(label, 0) + n


@dataclass(frozen=True)
class Generator:
    name: str
    order: int
    func: Callable[[DemoContext], None]
    has_data: Callable[[], bool] | None


_GENERATORS: dict[str, Generator] = {}


def register(name: str, *, order: int, has_data: Callable[[], bool] | None = None):
    """Register ``func(context)`` as the demo generator ``name``; lower ``order`` runs first.

    ``has_data`` answers whether the database already holds rows this generator would make
    (``--if-empty`` then loads nothing).
    """

    def decorator(func: Callable[[DemoContext], None]) -> Callable[[DemoContext], None]:
        _GENERATORS[name] = Generator(name, order, func, has_data)
        return func

    return decorator


def generators() -> list[Generator]:
    autodiscover_modules("demo")
    return sorted(_GENERATORS.values(), key=lambda g: (g.order, g.name))


def _sub_seed(seed: int, name: str) -> int:
    digest = hashlib.sha256(f"{seed}:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def demo_loaded() -> bool:
    """Whether a demo run was recorded (the audit log is append-only, so the record stays)."""
    return AuditEntry.objects.filter(object_type=DEMO_OBJECT_TYPE).exists()


def has_own_data() -> bool:
    return any(g.has_data is not None and g.has_data() for g in generators())


@transaction.atomic
def run_demo(*, seed: int = DEFAULT_SEED, size: int = 1, password: str) -> DemoContext:
    """Run every registered generator with ``seed``; all or nothing.

    Raises ``DemoAlreadyLoaded`` when a demo run was recorded before.
    """
    if size < 1:
        raise ValueError("size must be at least 1")
    if demo_loaded():
        raise DemoAlreadyLoaded("demo data was loaded before")
    context = DemoContext(seed, size, password, Faker("zh_CN"), random.Random(seed))
    for generator in generators():
        # Each generator draws from its own streams, so adding one leaves the others' data alone.
        sub_seed = _sub_seed(seed, generator.name)
        context.faker = Faker("zh_CN")
        context.faker.seed_instance(sub_seed)
        context.random = random.Random(sub_seed)
        generator.func(context)
    audit.record(
        AuditAction.CREATE,
        object_type=DEMO_OBJECT_TYPE,
        object_repr="演示数据",
        changes={"seed": seed, "size": size, "counts": context.counts},
        message=f"rencai demo --seed {seed} --size {size}",
    )
    return context
