"""The figures of a chaos run, and one PASS/FAIL line per requirement."""

import time
from collections import Counter

import chaos_support as cs

AMOCRM_LIMIT = 7  # requests in any one second (https://www.amocrm.ru/developers/content/api/recommendations)
HANG_POST_P99_LIMIT = 1.0  # seconds: a lead POST answers within this while Redis hangs


def report(bench, state: dict, drained_at: float | None) -> bool:
    """Print the figures and one PASS/FAIL line per requirement; True if anything failed."""
    from amocrm.models import Delivery, DeliveryState
    from leads.models import Lead

    phones = {cs.phone_of(number): number for number in bench.posts}
    leads = dict(Lead.objects.filter(phone__in=phones).values_list("id", "phone"))
    deliveries = list(
        Delivery.objects.filter(lead_id__in=leads).values(
            "lead_id", "state", "attempts", "amocrm_lead_id", "delivered_at"
        )
    )
    delivered = [d for d in deliveries if d["state"] == DeliveryState.DELIVERED]
    not_stored = len(set(phones) - set(leads.values()))
    not_delivered = len(leads) - len(delivered)
    deals = {deal["id"]: deal for deal in state["leads"]}
    per_lead = cs.deals_by_lead(list(deals.values()))
    duplicates = sum(count - 1 for lead_id, count in per_lead.items() if lead_id is not None and count > 1)
    wrong_deal = sum(cs.marker_lead_id(deals.get(d["amocrm_lead_id"], {})) != d["lead_id"] for d in delivered)
    api = bench.log.api
    busiest, busiest_at = cs.busiest_second(api)
    statuses = Counter(r["status"] for r in api)
    forced = bench.armed_429 - bench.sandbox.settings()["faults"]["force_429_next"]
    limiter_429 = statuses[429] - forced
    posts = Counter(status for status, _ in bench.posts.values())
    end = drained_at or time.time()

    print("\n=== chaos bench ===")
    print(f"submitted {len(bench.posts)} (answers {dict(posts)}), stored {len(leads)}, delivered {len(delivered)}")
    print(
        f"deals in the sandbox {len(deals)}, duplicate deals {duplicates}, deals without a marker {per_lead[None]}, "
        f"delivered leads whose recorded deal is missing or not theirs {wrong_deal}"
    )
    print(
        f"lost: {not_stored} submitted but not stored, {not_delivered} stored but not delivered "
        f"(states {dict(Counter(d['state'] for d in deliveries))})"
    )
    print(
        f"API requests {len(api)}: by status {dict(sorted(statuses.items()))}, dropped answers "
        f"{sum(r['dropped'] for r in api)}"
    )
    print(
        f"429: {statuses[429]} ({forced} injected, {limiter_429} from the sandbox's own 7/s limit); "
        f"403 (blocked) {statuses[403]}; 401 (expired token) {statuses[401]}"
    )
    print(
        f"max requests in any 1 s window {busiest} (at +{busiest_at - bench.started:.1f} s); "
        f"closest two requests {_closest(api) * 1000:.0f} ms"
    )
    print(f"attempts per lead: {dict(sorted(Counter(d['attempts'] for d in deliveries).items()))}")
    hang_posts = _posts_during(bench.post_times, bench.hang)
    print(f"lead stored -> delivered: {_latencies(delivered, leads)}")
    print(f"POST /api/leads: {_spread([s for _, s in bench.post_times])}; while Redis hung: {_spread(hang_posts)}")
    parked = sum(d["state"] == DeliveryState.NEEDS_ATTENTION for d in deliveries)
    print(f"402 phase: {_pause_story(bench)}; leads needing attention at the end {parked}")
    if not_delivered:
        print(f"not delivered: {_waiting(leads)}")
    notes, duplicate_contacts = _print_notes_and_contacts(state, deals)
    delivered_deals = {d["amocrm_lead_id"] for d in delivered}
    notes_wrong = sum(notes.get(deal_id, 0) != 1 for deal_id in delivered_deals) + len(set(notes) - delivered_deals)
    print(
        f"run time: submitting {bench.submit_ended - bench.submit_started:.0f} s, first post to last delivery "
        f"{end - bench.submit_started:.0f} s, whole bench {time.time() - bench.started:.0f} s"
    )
    checks = [
        (f"stored = submitted ({len(leads)} = {len(bench.posts)})", len(leads) == len(bench.posts)),
        (f"delivered = submitted ({len(delivered)} = {len(bench.posts)})", len(delivered) == len(bench.posts)),
        (f"every post answered 201 ({posts[201]} of {len(bench.posts)})", posts[201] == len(bench.posts)),
        (f"0 duplicate deals ({duplicates})", duplicates == 0 and per_lead[None] == 0),
        (f"every delivered lead's deal exists and carries its marker ({wrong_deal} wrong)", wrong_deal == 0),
        (f"0 lost ({not_stored + not_delivered})", not_stored + not_delivered == 0),
        (
            f"every delivered deal has its note exactly once ({notes_wrong} deals without or with more)",
            notes_wrong == 0,
        ),
        (f"0 duplicate contacts ({duplicate_contacts})", duplicate_contacts == 0),
        (
            f"never more than {AMOCRM_LIMIT} requests in a second ({busiest}; {limiter_429} limit 429s, "
            f"{statuses[403]} 403s)",
            busiest <= AMOCRM_LIMIT and limiter_429 == 0 and statuses[403] == 0,
        ),
        (f"drained within {bench.args.timeout:.0f} s", drained_at is not None),
        (
            f"POST p99 while Redis hung under {HANG_POST_P99_LIMIT:.0f} s ({_p99(hang_posts):.2f} s, "
            f"{len(hang_posts)} posts)",
            bool(hang_posts) and _p99(hang_posts) < HANG_POST_P99_LIMIT,
        ),
        (
            f"the 402 paused sending and it resumed by itself ({_pause_story(bench)})",
            bench.paused_at is not None and bench.resumed_at is not None,
        ),
        (f"0 leads parked by the 402 ({parked} need attention)", parked == 0),
    ]
    for label, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'} {label}")
    return not all(ok for _, ok in checks)


def _posts_during(post_times: list[tuple[float, float]], window: tuple[float, float] | None) -> list[float]:
    if window is None:
        return []
    return [seconds for sent, seconds in post_times if window[0] <= sent <= window[1]]


def _p99(seconds: list[float]) -> float:
    return sorted(seconds)[min(len(seconds) - 1, int(0.99 * len(seconds)))] if seconds else float("nan")


def _pause_story(bench) -> str:
    if bench.paused_at is None:
        return "sending was never paused"
    resumed = f"resumed {bench.resumed_at - bench.paid_at:.0f} s after amoCRM took deals again" if (
        bench.resumed_at and bench.paid_at) else "never resumed"  # fmt: skip
    return f"paused {bench.paused_at - bench.started:.0f} s into the run, {resumed}"


def _print_notes_and_contacts(state: dict, deals: dict) -> tuple[Counter, int]:
    """What staff would see twice: a deal's note, or a person's contact. Notes per deal, duplicate contacts."""
    notes = Counter(note["entity_id"] for note in state["notes"] if note["entity_type"] == "leads")
    contacts_per_phone = Counter(_phones_of(contact) for contact in state["contacts"])
    duplicate_contacts = sum(c - 1 for c in contacts_per_phone.values() if c > 1)
    print(
        f"notes: {len(notes)} deals with notes, {sum(c - 1 for c in notes.values())} duplicate notes; contacts "
        f"{len(state['contacts'])}, {duplicate_contacts} duplicate contacts"
    )
    twice = [deal_id for deal_id, count in notes.items() if count > 1]
    if twice:
        same = [n for n in state["notes"] if n["entity_id"] == twice[0] and n["entity_type"] == "leads"]
        print(
            f"e.g. deal {twice[0]} (lead #{cs.marker_lead_id(deals.get(twice[0], {}))}) has notes "
            f"{[n['id'] for n in same]}, same text: {len({n['params'].get('text') for n in same}) == 1}"
        )
    return notes, duplicate_contacts


def _phones_of(contact: dict) -> tuple:
    values = [
        v
        for f in contact.get("custom_fields_values") or []
        if f.get("field_code") == "PHONE"
        for v in f.get("values") or []
    ]
    return tuple(sorted(str(v.get("value")) for v in values))


def _closest(api: list[dict]) -> float:
    times = sorted(r["time"] for r in api)
    return min((b - a for a, b in zip(times, times[1:], strict=False)), default=float("nan"))


def _latencies(delivered: list[dict], leads: dict) -> str:
    from leads.models import Lead

    created = dict(Lead.objects.filter(id__in=leads).values_list("id", "created_at"))
    return _spread([(d["delivered_at"] - created[d["lead_id"]]).total_seconds() for d in delivered])


def _spread(seconds: list[float]) -> str:
    seconds = sorted(seconds)
    if not seconds:
        return "-"
    pick = lambda p: seconds[min(len(seconds) - 1, int(p * len(seconds)))]  # noqa: E731
    return f"p50 {pick(0.5):.2f} s, p95 {pick(0.95):.2f} s, max {seconds[-1]:.2f} s"


def _waiting(leads: dict) -> str:
    """Why the undelivered ones still wait: attempts so far, when they are due, the last error."""
    from django.utils import timezone

    from amocrm.models import Delivery, DeliveryState

    rows = Delivery.objects.filter(lead_id__in=leads).exclude(state=DeliveryState.DELIVERED)
    attempts = dict(sorted(Counter(rows.values_list("attempts", flat=True)).items()))
    due = sorted((at - timezone.now()).total_seconds() for at in rows.values_list("next_attempt_at", flat=True))
    if not due:
        return "no delivery rows"
    errors = Counter(error[:70] for error in rows.values_list("last_error", flat=True)).most_common(3)
    return f"attempts {attempts}; next attempt in {due[0]:.0f} to {due[-1]:.0f} s; last errors {errors}"
