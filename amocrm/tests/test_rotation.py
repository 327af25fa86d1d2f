"""Rotation pools: leads given out in turn by weight, deactivated managers skipped, repeat requests keeping their
manager without taking a turn, and one fair sequence across worker processes sharing the database."""

import multiprocessing
from collections import Counter

import pytest
from django.db import connection, connections

from amocrm.delivery import routing
from amocrm.models import Delivery, RotationMember, RotationPool, RoutingRule, Settings
from amocrm.sandbox.catalog import DEACTIVATED_USER_ID, MANAGER_IDS
from leads.models import Lead

A, B, C = MANAGER_IDS


def pool_of(*members: tuple[int, int]) -> RotationPool:
    """A pool of (user id, weight) members, in order, taking every lead (a rule without conditions)."""
    pool = RotationPool.objects.create(name="Sales team")
    for position, (user_id, weight) in enumerate(members):
        RotationMember.objects.create(pool=pool, position=position, user_id=user_id, weight=weight)
    RoutingRule.objects.create(name="Everyone", rotation_pool=pool)
    return pool


def deliveries(count: int) -> list[Delivery]:
    leads = Lead.objects.bulk_create(
        [Lead(name=f"Lead {i}", phone="+998901234567", phone_raw="x") for i in range(count)]
    )
    Delivery.objects.bulk_create([Delivery(lead=lead) for lead in leads])
    return list(Delivery.objects.select_related("lead").order_by("id"))


def given_to(batch: list[Delivery]) -> list[int]:
    return list(Delivery.objects.filter(id__in=[d.id for d in batch]).order_by("id").values_list(
        "responsible_user_id", flat=True
    ))  # fmt: skip


@pytest.mark.django_db
def test_it_gives_leads_out_in_turn(db):
    pool_of((A, 1), (B, 1), (C, 1))
    batch = deliveries(4)

    routing.assign(Settings.load(), batch)

    assert given_to(batch) == [A, B, C, A]


@pytest.mark.django_db
def test_a_weight_of_two_gets_twice_the_leads_spread_out(db):
    pool_of((A, 2), (B, 1))
    batch = deliveries(6)

    routing.assign(Settings.load(), batch)

    assert given_to(batch) == [A, B, A, A, B, A]


@pytest.mark.django_db
def test_it_skips_a_manager_amocrm_deactivated(sandbox_conn):
    pool_of((A, 1), (DEACTIVATED_USER_ID, 1), (B, 1))
    batch = deliveries(4)

    routing.assign(sandbox_conn, batch)

    assert given_to(batch) == [A, B, A, B]


@pytest.mark.django_db
def test_a_pool_of_deactivated_managers_falls_through_to_the_default(sandbox_conn):
    sandbox_conn.responsible_user_id = C
    pool_of((DEACTIVATED_USER_ID, 1))
    batch = deliveries(1)

    routing.assign(sandbox_conn, batch)

    assert given_to(batch) == [C]


@pytest.mark.django_db
def test_a_repeat_request_keeps_its_manager_and_takes_no_turn(db):
    pool = pool_of((A, 1), (B, 1))
    repeat, new = deliveries(2)

    routing.assign(Settings.load(), [repeat, new], owners={repeat.id: C})

    assert given_to([repeat, new]) == [C, A]
    pool.refresh_from_db()
    assert pool.turn == 1


@pytest.mark.django_db
def test_a_routed_lead_never_takes_a_second_turn(db):
    pool = pool_of((A, 1), (B, 1))
    batch = deliveries(1)
    routing.assign(Settings.load(), batch)

    routing.assign(Settings.load(), batch)

    pool.refresh_from_db()
    assert pool.turn == 1


# Two worker processes sharing the database


@pytest.mark.django_db(transaction=True)
def test_two_processes_share_one_fair_rotation(db):
    if connection.vendor != "postgresql":
        pytest.skip("needs DATABASE_URL=postgres://…: the SQLite test database lives in memory, out of other processes")
    pool_of((A, 1), (B, 1), (C, 1))
    ids = [d.id for d in deliveries(1000)]
    connections.close_all()  # each forked worker opens its own connection, as Celery's processes do

    _assign_in_processes([ids[0::2], ids[1::2]])

    counts = Counter(Delivery.objects.values_list("responsible_user_id", flat=True))
    assert sum(counts.values()) == 1000
    assert max(counts.values()) - min(counts.values()) <= 1
    assert set(counts) == {A, B, C}


def _assign_in_processes(shares: list[list[int]]) -> None:
    ctx = multiprocessing.get_context("fork")  # the children see the test database the parent set up
    barrier = ctx.Barrier(len(shares))
    workers = [ctx.Process(target=_assign_share, args=(barrier, share)) for share in shares]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [worker.exitcode for worker in workers] == [0] * len(shares)


def _assign_share(barrier, ids: list[int]) -> None:
    """Runs in a child: routes its share in batches of 50, as a worker does, while the other child routes its own."""
    barrier.wait(timeout=60)
    conn = Settings.load()
    for start in range(0, len(ids), 50):
        batch = list(Delivery.objects.select_related("lead").filter(id__in=ids[start : start + 50]).order_by("id"))
        routing.assign(conn, batch)
    connections.close_all()
