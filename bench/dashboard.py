"""Time the admin dashboard (the admin's home page) over 200,000 leads in PostgreSQL (goal: under 0.5 s a render).

How to run (an empty database of the bench's own; it is migrated and filled, then left for --reuse):
    createdb -h 127.0.0.1 -U postgres acoustic_bench_dashboard
    .venv/bin/python bench/dashboard.py --database-url postgres://postgres@127.0.0.1:5432/acoustic_bench_dashboard
    # again on the same rows, without seeding
    .venv/bin/python bench/dashboard.py --database-url postgres://… --reuse
    dropdb -h 127.0.0.1 -U postgres acoustic_bench_dashboard

It seeds --leads leads spread over the last year (8 sources, 20 campaigns): 90% delivered to amoCRM, 80% of those
with a deal stage (a third won, a fifth lost, the rest in progress) answered 2 minutes to 6 hours after the form,
the rest unanswered; then it renders GET /admin/ through Django's test client as a logged-in superuser, --runs times
for each view (the default 30 days, a whole year, one source over a year) and prints the median and slowest render
and the number of queries. Figures only; nothing is asserted.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SOURCES = ("contact_form", "product_page", "callback", "google_ads", "instagram", "telegram", "facebook", "referral")
BATCH = 5000
GOAL_SECONDS = 0.5


def main() -> None:
    args = parse_args()
    setup_django(args.database_url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if not args.reuse:
        seed(args.leads)
    report(args.runs)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True, help="an empty PostgreSQL database of the bench's own")
    parser.add_argument("--leads", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=7, help="renders per view")
    parser.add_argument("--reuse", action="store_true", help="time the rows already there instead of seeding")
    return parser.parse_args()


def setup_django(database_url: str) -> None:
    if not database_url.startswith("postgres"):
        sys.exit("--database-url must be a PostgreSQL database (postgres://…)")
    os.environ.update(DATABASE_URL=database_url, DEBUG="1", DJANGO_SETTINGS_MODULE="acoustic.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def seed(count: int) -> None:
    from django.db import connection

    from leads.models import Lead

    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE leads_lead RESTART IDENTITY CASCADE")
    created_at = Lead._meta.get_field("created_at")
    created_at.auto_now_add = False  # the bench spreads leads over a year; the field would stamp them all "now"
    try:
        for first in range(0, count, BATCH):
            seed_batch(first, min(BATCH, count - first))
    finally:
        created_at.auto_now_add = True
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # index-only scans need the visibility map
    print(f"seeded {count} leads in {time.monotonic() - started:.1f} s")


def seed_batch(first: int, size: int) -> None:
    from django.db import transaction
    from django.utils import timezone

    from amocrm.models import DealStage, Delivery, DeliveryState
    from leads.models import Lead

    now = timezone.now()
    with transaction.atomic():
        leads = Lead.objects.bulk_create([new_lead(first + n, now) for n in range(size)])
        delivered = [lead for lead in leads if lead.pk % 10 != 0]
        deliveries = Delivery.objects.bulk_create([
            Delivery(lead=lead, state=DeliveryState.DELIVERED, amocrm_lead_id=lead.pk, attempts=1)
            for lead in delivered
        ])  # fmt: skip
        stages = [new_stage(delivery) for delivery in deliveries if delivery.lead_id % 5 != 0]
        DealStage.objects.bulk_create(stages)
        Delivery.objects.bulk_create([
            Delivery(lead=lead, state=DeliveryState.RETRYING if lead.pk % 20 else DeliveryState.NEEDS_ATTENTION)
            for lead in leads if lead.pk % 10 == 0
        ])  # fmt: skip


def new_lead(n: int, now):
    from leads.models import Lead

    created = now - timedelta(seconds=(n * 7919) % (365 * 86400))
    return Lead(
        name=f"Bench lead {n}", phone=f"+99890{n % 10_000_000:07d}", phone_raw="bench", source=SOURCES[n % 8],
        utm_source="google", utm_campaign=f"campaign_{n % 20}", created_at=created,
    )  # fmt: skip


def new_stage(delivery):
    from amocrm.models import DealStage

    n = delivery.lead_id
    moved = delivery.lead.created_at + timedelta(minutes=2 + (n * 31) % 360)
    status = 142 if n % 3 == 0 else 143 if n % 5 == 1 else 77_000_013
    return DealStage(delivery=delivery, pipeline_id=7_700_001, status_id=status, status_name="Talks",
                     changed_at=moved, first_changed_at=moved, reported_at=moved)  # fmt: skip


def report(runs: int) -> None:
    from django.contrib.auth.models import User
    from django.test import Client
    from django.utils import timezone

    from leads.models import Lead

    user = User.objects.filter(is_superuser=True).first() or User.objects.create_superuser("bench", "", "bench")
    client = Client()
    client.force_login(user)
    today = timezone.localdate()
    year = {"date_from": str(today - timedelta(days=364)), "date_to": str(today)}
    print(f"{Lead.objects.count()} leads; {runs} renders of GET /admin/ each (goal: under {GOAL_SECONDS} s)")
    for label, query in (
        ("last 30 days (default)", {}),
        ("a whole year", year),
        ("one source, a whole year", {**year, "source": SOURCES[3]}),
    ):
        times, queries = time_renders(client, query, runs)
        print(f"  {label:26} median {statistics.median(times):.3f} s, slowest {max(times):.3f} s, {queries} queries")


def time_renders(client, query: dict, runs: int) -> tuple[list[float], int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get("/admin/", query)  # warm: templates compiled, connection open
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/admin/", query)
        times.append(time.perf_counter() - started)
        if response.status_code != 200:
            sys.exit(f"GET /admin/ answered {response.status_code}")
    return times, len(captured.captured_queries)


if __name__ == "__main__":
    main()
