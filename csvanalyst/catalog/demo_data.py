"""Row generators for the demo datasets: realistic shapes with a few realistic flaws.

Deterministic: every table is drawn from `random.Random(seed)` in a fixed order, so the same seed
writes byte-identical files on every machine. The flaws are deliberate and listed in datasets/README.md.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Sequence

Table = tuple[list[str], Sequence[Sequence[object]]]

REGIONS = ["North", "South", "East", "West", "Central"]
REGION_TYPOS = {"North": ["north ", "NORTH"], "South": ["south"], "East": ["EAST", " east"], "West": ["west "]}
FIRST = [
    "Ana",
    "Ben",
    "Chloé",
    "Dev",
    "Eva",
    "Finn",
    "Gita",
    "Hugo",
    "Ines",
    "Jon",
    "Kemal",
    "Lea",
    "Mia",
    "Noah",
    "Olga",
    "Pablo",
    "Quinn",
    "Rosa",
    "Sami",
    "Tara",
    "Uma",
    "Vik",
    "Wen",
    "Yara",
    "Zoe",
]
LAST = [
    "Smith",
    "Müller",
    "Garcia",
    "Okafor",
    "Tanaka",
    "Rossi",
    "Novak",
    "Kowalski",
    "Silva",
    "Dubois",
    "Jensen",
    "Ivanova",
    "Khan",
    "O'Brien",
    "Nguyen",
    "Larsen",
]
CATEGORIES = {
    "Electronics": ["Headphones", "Charger", "Speaker", "Webcam", "Keyboard", "Monitor", "Mouse"],
    "Home": ["Lamp", "Kettle", "Blanket", "Vase", "Clock", "Toaster"],
    "Garden": ["Hose", "Shovel", "Planter", "Seeds Pack", "Gloves"],
    "Toys": ["Puzzle", "Robot Kit", "Board Game", "Plush Bear"],
    "Books": ["Cookbook", "Novel", "Atlas", "Comic"],
    "Sports": ["Yoga Mat", "Dumbbell", "Water Bottle", "Tennis Racket", "Running Cap"],
}
STATUSES = ["delivered"] * 14 + ["shipped"] * 3 + ["cancelled", "returned", "pending"]
ORPHAN_CUSTOMER = "C9999"  # one order points at a customer that does not exist (a broken foreign key)


def _day(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randrange((end - start).days + 1))


def _region(rng: random.Random, region: str) -> str:
    """About 4% of region values are spelled like a person typed them."""
    typos = REGION_TYPOS.get(region)
    return rng.choice(typos) if typos and rng.random() < 0.04 else region


def retail(rng: random.Random, orders: int = 3000, customers: int = 400) -> dict[str, Table]:
    """customers, products, orders: joinable on customer_id and product_id."""
    cust_rows, cust_region = [], {}
    for i in range(1, customers + 1):
        cid, region = f"C{i:04d}", rng.choice(REGIONS)
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        email = None if rng.random() < 0.05 else f"{name.split()[0].lower()}.{i}@example.com"
        since = _day(rng, dt.date(2021, 1, 1), dt.date(2024, 12, 31))
        segment = rng.choice(["Consumer", "Consumer", "Small Business", "Enterprise"])
        cust_rows.append([cid, name, email, _region(rng, region), segment, since.isoformat()])
        cust_region[cid] = region
    prod_rows: list[list[object]] = []
    prices: dict[str, float] = {}
    for category, items in CATEGORIES.items():
        for item in items:
            pid = f"P{len(prod_rows) + 1:03d}"
            price = round(rng.uniform(4, 60) * (6 if category == "Electronics" else 1), 2)
            prod_rows.append([pid, item, category, f"{price:.2f}"])
            prices[pid] = price
    order_rows = []
    for i in range(1, orders + 1):
        cid = rng.choice(list(cust_region))
        pid = rng.choice(list(prices))
        day = _day(rng, dt.date(2023, 1, 1), dt.date(2025, 12, 31))
        discount = None if rng.random() < 0.35 else rng.choice(["0.00", "0.05", "0.10", "0.15", "0.20"])
        quantity = rng.choices([1, 2, 3, 4, 5, 10], weights=[50, 25, 10, 6, 6, 3])[0]
        order_rows.append(
            [
                i,
                day.isoformat(),
                cid,
                pid,
                quantity,
                f"{prices[pid]:.2f}",
                discount,
                rng.choice(STATUSES),
                _region(rng, cust_region[cid]),
            ]
        )
    order_rows[len(order_rows) // 2][2] = ORPHAN_CUSTOMER
    return {
        "customers": (["customer_id", "name", "email", "region", "segment", "signup_date"], cust_rows),
        "products": (["product_id", "product_name", "category", "unit_price"], prod_rows),
        "orders": (
            [
                "order_id",
                "order_date",
                "customer_id",
                "product_id",
                "quantity",
                "unit_price",
                "discount",
                "status",
                "region",
            ],
            order_rows,
        ),
    }


def support(rng: random.Random, tickets: int = 1500) -> dict[str, Table]:
    """One table of support tickets with open tickets (no resolved_at) and sparse satisfaction scores."""
    agents = ["Alice", "Bruno", "Chen", "Dalia", "Emeka", "Farah", "Goran", "Hana"]
    priorities = {"Low": 0.3, "Medium": 0.4, "High": 0.22, "Urgent": 0.08}
    hours = {"Low": 72, "Medium": 36, "High": 12, "Urgent": 4}
    rows = []
    start = dt.datetime(2024, 1, 1, 8, 0)
    for i in range(1, tickets + 1):
        created = start + dt.timedelta(minutes=rng.randrange(0, 540 * 24 * 60))
        priority = rng.choices(list(priorities), weights=list(priorities.values()))[0]
        shown = (
            priority.lower() if rng.random() < 0.03 else (priority.upper() + " " if rng.random() < 0.02 else priority)
        )
        open_ticket = rng.random() < 0.08
        resolved = None if open_ticket else created + dt.timedelta(hours=rng.expovariate(1 / hours[priority]))
        score = None if open_ticket or rng.random() < 0.4 else rng.choices([1, 2, 3, 4, 5], [5, 8, 17, 35, 35])[0]
        rows.append(
            [
                f"T-{i:05d}",
                created.isoformat(sep=" "),
                resolved and resolved.isoformat(sep=" ", timespec="seconds"),
                shown,
                rng.choice(["email", "phone", "chat", "web"]),
                rng.choice(agents),
                rng.choice(["billing", "login", "bug", "feature request", "shipping"]),
                round(rng.lognormvariate(3, 1)),
                score,
            ]
        )
    header = [
        "ticket_id",
        "created_at",
        "resolved_at",
        "priority",
        "channel",
        "agent",
        "category",
        "first_response_minutes",
        "satisfaction",
    ]
    return {"tickets": (header, rows)}


def sensors(rng: random.Random, days: int = 20, devices: int = 12) -> dict[str, Table]:
    """Devices and their two-hourly readings, with gaps, missing humidity and one absurd outlier."""
    sites = {"Warehouse A": 14.0, "Warehouse B": 16.0, "Office": 21.5}
    dev_rows, readings = [], []
    for d in range(1, devices + 1):
        site = list(sites)[d % len(sites)]
        dev_rows.append(
            [
                f"dev-{d:02d}",
                site,
                rng.choice(["TH-100", "TH-200"]),
                _day(rng, dt.date(2023, 1, 1), dt.date(2024, 6, 30)).isoformat(),
            ]
        )
    start = dt.datetime(2025, 3, 1)
    for d in range(1, devices + 1):
        device, site = f"dev-{d:02d}", dev_rows[d - 1][1]
        battery = rng.uniform(70, 100)
        for step in range(days * 12):
            if rng.random() < 0.02:
                continue  # a missed reading: the gap is the flaw
            at = start + dt.timedelta(hours=2 * step)
            temp = sites[site] + 4 * math.sin((at.hour - 9) / 24 * 2 * math.pi) + rng.gauss(0, 0.6)
            humidity = None if rng.random() < 0.03 else round(rng.uniform(35, 65), 1)
            battery = max(3.0, battery - rng.uniform(0, 0.25))
            readings.append([device, at.isoformat(sep=" "), f"{temp:.2f}", humidity, f"{battery:.1f}"])
    readings[len(readings) // 3][2] = "85.00"  # one sensor glitch: an impossible temperature
    return {
        "devices": (["device_id", "site", "model", "installed_on"], dev_rows),
        "readings": (["device_id", "reading_at", "temperature_c", "humidity_pct", "battery_pct"], readings),
    }
