"""Deterministic sample data for EventHarbor: orders, inventory and user activity.

``python -m localdev.generate --out DIR`` writes one JSON Lines file per arrival day
(``DIR/events-YYYY-MM-DD.jsonl``: the three streams mixed, in arrival order) plus
``DIR/manifest.json`` with the ground truth the pipeline's results can be checked
against. ``--pubsub-project`` publishes the same messages to Pub/Sub. The same flags
always give byte-identical output: every choice comes from ``random.Random`` seeded
with ``--seed``; the wall clock is read only for the default ``--start``.

The events tell one coherent story: customers browse in sessions, add to cart and
order; orders move pending -> processing -> shipped -> delivered (or get cancelled);
shipping an order moves stock out of a warehouse, which is restocked now and then.
A few customers move house, a few product prices change, some customers stop
buying: the SCD2, cumulative and balance models have something to show. Mixed in
are duplicate re-sends, late arrivals and malformed messages with exactly one
defect each, one per dead-letter error code and cycling through all of them.

Other code calls :func:`generate` (then :func:`write_files` or :func:`publish`).
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import sys
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from localdev.stack import MIXED, STREAMS
from transforms.errors import (
    AMOUNT_MISMATCH,
    BAD_TIMESTAMP,
    ERROR_CODES,
    FUTURE_TIMESTAMP,
    INVALID_ENCODING,
    INVALID_JSON,
    INVALID_VALUE,
    LOAD_REJECTED,
    MISSING_FIELD,
    NOT_AN_OBJECT,
    PAYLOAD_TOO_LARGE,
    UNKNOWN_EVENT_TYPE,
    WRONG_TYPE,
)

MIB = 1024 * 1024
SOURCE = "eventharbor-generate"
EVENT_TYPES = {"orders": "order", "inventory": "inventory", "user_activity": "user_activity"}
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
CENT = Decimal("0.01")

# The defects cycle in this order, so a small sample still gets every code once. load_rejected
# comes from BigQuery, never from a payload.
BAD_CODES = (PAYLOAD_TOO_LARGE, *(c for c in ERROR_CODES if c not in (PAYLOAD_TOO_LARGE, LOAD_REJECTED)))
# The pipeline cannot tell which stream these belong to; they go to the mixed topic.
UNROUTABLE = frozenset({INVALID_ENCODING, INVALID_JSON, NOT_AN_OBJECT, UNKNOWN_EVENT_TYPE})

OMIT_EVENT_ID_RATE = 1 / 3
EXTRA_FIELD_RATE = 0.01
OFFSETS = tuple(
    timedelta(hours=h, minutes=m) for h, m in ((0, 0), (1, 0), (2, 0), (-5, 0), (-8, 0), (5, 30), (9, 0))
)

# country -> (cities, streets, house number first?)
COUNTRIES: dict[str, tuple[tuple[str, ...], tuple[str, ...], bool]] = {
    "US": (("New York", "Austin", "Seattle", "Chicago"), ("Main St", "Oak Avenue", "Pine Street"), True),
    "GB": (("London", "Manchester", "Edinburgh"), ("High Street", "Station Road", "Church Lane"), True),
    "DE": (("Berlin", "München", "Hamburg", "Köln"), ("Hauptstraße", "Bahnhofstraße", "Gartenweg"), False),
    "FR": (("Paris", "Lyon", "Marseille"), ("rue de la Paix", "avenue Victor Hugo"), True),
    "NO": (("Oslo", "Bergen", "Tromsø"), ("Storgata", "Kirkeveien", "Strandgata"), False),
    "SE": (("Stockholm", "Göteborg", "Malmö"), ("Drottninggatan", "Storgatan"), False),
    "JP": (("Tokyo", "Osaka", "Kyoto"), ("Chuo-dori", "Meiji-dori", "Omotesando"), False),
    "BR": (("São Paulo", "Rio de Janeiro"), ("Avenida Paulista", "Rua Augusta"), False),
}

CATALOGUE = (
    ("USB-C Cable 2m", "9.99"),
    ("Wireless Mouse", "24.99"),
    ("Mechanical Keyboard", "89.00"),
    ('27" 4K Monitor', "329.00"),
    ("Noise-Cancelling Headphones", "249.99"),
    ("Laptop Pro 14", "1499.00"),
    ("Espresso Machine", "399.00"),
    ("Café Latte Mug", "12.50"),
    ("Yoga Mat", "29.95"),
    ("Trail Running Shoes", "119.90"),
    ("Smørbrød Cutting Board", "34.00"),
    ("Stainless Water Bottle", "19.99"),
    ("Backpack 30L", "79.00"),
    ("Desk Lamp", "45.00"),
    ("Phone Case", "15.99"),
    ("Power Bank 20000mAh", "39.99"),
    ("Bluetooth Speaker", "59.90"),
    ("Office Chair", "279.00"),
    ("Standing Desk", "549.00"),
    ("Tablet 11", "649.00"),
    ("Smartwatch", "299.00"),
    ("Notebook A5 (3-pack)", "8.49"),
    ("Fountain Pen", "64.00"),
    ("Tea Sampler — 12 Blends", "22.00"),
    ("Cast-Iron Skillet", "49.50"),
    ("Wool Socks", "14.00"),
    ("Camera Tripod", "89.99"),
    ("Gaming Console", "499.99"),
    ("E-Reader", "139.99"),
    ("Kaffeemühle", "89.00"),
)

USER_AGENTS = {
    "web": (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0.0.0 Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.5 Safari/605.1.15",
        "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
    ),
    "mobile": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.5 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0.0.0 Mobile Safari/537.36",
        "EventHarborShop/5.2.1 (iOS 17.5; iPhone15,2)",
    ),
    "tablet": (
        "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.5 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0.0.0 Safari/537.36",
    ),
}

# Relative chance that an order of the day goes to a customer of this segment.
ORDER_WEIGHT = {"whale": 3.0, "regular": 1.0, "occasional": 0.3, "churner": 1.0, "browser": 0.0}
LOW_STOCK = 15


def default_start() -> date:
    """Seven days before today (UTC), so the default sample ends yesterday."""
    return datetime.now(timezone.utc).date() - timedelta(days=7)


@dataclass(frozen=True)
class GeneratorConfig:
    """Everything that shapes a sample; equal configs give byte-identical samples."""

    seed: int = 42
    start: date = field(default_factory=default_start)
    days: int = 7
    customers: int = 60
    products: int = 25
    warehouses: int = 3
    orders_per_day: int = 40
    sessions_per_day: int = 40
    bad_fraction: float = 0.03
    duplicate_fraction: float = 0.02
    late_fraction: float = 0.02
    max_oversized: int = 1

    @property
    def begin(self) -> datetime:
        return datetime.combine(self.start, time(), timezone.utc)

    @property
    def end(self) -> datetime:
        """First instant after the range; no event time reaches it."""
        return self.begin + timedelta(days=self.days)


@dataclass(frozen=True)
class Message:
    """One line of output / one Pub/Sub message."""

    data: bytes
    arrival: datetime
    stream: str | None  # table name; None when the pipeline cannot tell the stream
    error_code: str | None = None  # the dead-letter code it must get; None when valid
    duplicate: bool = False
    late: bool = False


@dataclass(frozen=True)
class Sample:
    """The generated messages in arrival order, and the manifest describing them."""

    messages: list[Message]
    manifest: dict

    def lines(self) -> list[bytes]:
        return [m.data for m in self.messages]

    def by_day(self) -> dict[date, list[bytes]]:
        """Message data grouped by arrival day (UTC), each day in arrival order."""
        days: dict[date, list[bytes]] = {}
        for message in self.messages:
            days.setdefault(message.arrival.date(), []).append(message.data)
        return days


# --- encoding -------------------------------------------------------------------------------


def to_json(value: object) -> str:
    """Compact JSON, UTF-8 text as is; a Decimal becomes a JSON number written exactly."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{to_json(str(k))}:{to_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(to_json(v) for v in value) + "]"
    if isinstance(value, Decimal):
        return format(value, "f")
    return json.dumps(value, ensure_ascii=False)


def encode(payload: dict) -> bytes:
    return to_json(payload).encode()


def rfc3339(when: datetime, offset: timedelta | None = None) -> str:
    """``when`` in RFC 3339 with "Z" (offset None) or the given zone offset."""
    local = when.astimezone(timezone(offset or timedelta()))
    text = local.isoformat(timespec="milliseconds" if local.microsecond else "seconds")
    return text.replace("+00:00", "Z") if offset is None else text


def epoch_millis(when: datetime) -> int:
    return (when - EPOCH) // timedelta(milliseconds=1)


class Renderer:
    """Turns field values into a payload the way varied producers would write it."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def payload(self, stream: str, fields: dict) -> dict:
        """The event object: event_type, usually an event_id, the fields, rarely an extra field."""
        payload: dict = {"event_type": EVENT_TYPES[stream]}
        if self.rng.random() >= OMIT_EVENT_ID_RATE:
            payload["event_id"] = self.uuid()
        money_as_text = self.rng.random() < 0.5
        payload.update({key: self._value(value, money_as_text) for key, value in fields.items()})
        if self.rng.random() < EXTRA_FIELD_RATE:
            payload["client_version"] = f"{self.rng.randint(3, 6)}.{self.rng.randint(0, 12)}.0"
        return payload

    def timestamp(self, when: datetime) -> str | int:
        """RFC 3339 with "Z" or another offset, or epoch milliseconds."""
        style = self.rng.random()
        if style < 0.15:
            return epoch_millis(when)
        if style < 0.55:
            return rfc3339(when)
        return rfc3339(when, self.rng.choice(OFFSETS))

    def _value(self, value: object, money_as_text: bool) -> object:
        if isinstance(value, datetime):
            return self.timestamp(value)
        if isinstance(value, Decimal):
            return f"{value:.2f}" if money_as_text else value
        if isinstance(value, dict):
            return {key: self._value(item, money_as_text) for key, item in value.items()}
        if isinstance(value, list):
            return [self._value(item, money_as_text) for item in value]
        return value


# --- the world: customers, products, warehouses ------------------------------------------------


@dataclass(frozen=True)
class Address:
    """A shipping address; country is ISO 3166-1 alpha-2."""

    street: str
    city: str
    country: str

    def fields(self) -> dict:
        return {"street": self.street, "city": self.city, "country": self.country}


@dataclass
class Customer:
    """A customer, who is also a user of the shop's web and mobile apps."""

    customer_id: str
    segment: str
    address: Address
    user_agents: dict[str, str]
    ipv4: tuple[str, str]
    ipv6: str | None
    first_day: int = 0
    stop_day: int | None = None  # churners neither shop nor browse from this day on
    moves_at: datetime | None = None
    new_address: Address | None = None

    def active_on(self, day: int) -> bool:
        return self.first_day <= day and (self.stop_day is None or day < self.stop_day)

    def address_at(self, when: datetime) -> Address:
        if self.moves_at and self.new_address and when >= self.moves_at:
            return self.new_address
        return self.address


@dataclass
class Product:
    """A catalogue product whose price may change at planned moments."""

    product_id: str
    name: str
    price: Decimal
    price_changes: list[tuple[datetime, Decimal]] = field(default_factory=list)

    def price_at(self, when: datetime) -> Decimal:
        price = self.price
        for changed_at, new_price in self.price_changes:
            if when >= changed_at:
                price = new_price
        return price


@dataclass
class World:
    """Everyone and everything the events are about, plus id counters."""

    customers: list[Customer]
    products: list[Product]
    warehouses: list[str]
    popularity: list[float]
    counters: Counter = field(default_factory=Counter)

    def next_id(self, prefix: str, width: int) -> str:
        self.counters[prefix] += 1
        return f"{prefix}-{self.counters[prefix]:0{width}d}"

    def buyers(self) -> list[Customer]:
        return [c for c in self.customers if ORDER_WEIGHT[c.segment] > 0]


def _address(rng: random.Random, country: str | None = None) -> Address:
    country = country or rng.choice(sorted(COUNTRIES))
    cities, streets, number_first = COUNTRIES[country]
    number, street = rng.randint(1, 240), rng.choice(streets)
    return Address(
        f"{number} {street}" if number_first else f"{street} {number}", rng.choice(cities), country
    )


def _ipv4(rng: random.Random) -> str:
    first = rng.choice([n for n in range(11, 224) if n != 127])
    return f"{first}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def _ipv6(rng: random.Random) -> str:
    prefix = rng.choice(("2a02:8108", "2001:db8", "2600:1700", "2405:6580"))
    groups = ":".join(f"{rng.getrandbits(16):x}" for _ in range(4))
    return f"{prefix}:{rng.getrandbits(16):x}::{groups}"


def _segments(count: int, rng: random.Random) -> list[str]:
    """A shuffled segment per customer: a few big spenders, churners and window shoppers."""
    whales = max(1, round(count * 0.05))
    churners, browsers = round(count * 0.1), round(count * 0.1)
    occasional = round(count * 0.2)
    regular = max(0, count - whales - churners - browsers - occasional)
    segments = ["whale"] * whales + ["churner"] * churners + ["browser"] * browsers
    segments += ["occasional"] * occasional + ["regular"] * regular
    segments = segments[:count]
    rng.shuffle(segments)
    return segments


def _customer(number: int, segment: str, config: GeneratorConfig, rng: random.Random) -> Customer:
    platforms = rng.sample(sorted(USER_AGENTS), rng.randint(1, 2))
    customer = Customer(
        customer_id=f"cust-{number:04d}",
        segment=segment,
        address=_address(rng),
        user_agents={p: rng.choice(USER_AGENTS[p]) for p in platforms},
        ipv4=(_ipv4(rng), _ipv4(rng)),
        ipv6=_ipv6(rng) if rng.random() < 0.3 else None,
    )
    if segment == "churner":
        customer.stop_day = rng.randint(1, max(1, config.days // 2))
    elif segment in ("regular", "occasional", "browser") and config.days > 1 and rng.random() < 0.2:
        customer.first_day = rng.randint(1, config.days - 1)
    return customer


def _plan_moves(customers: list[Customer], config: GeneratorConfig, rng: random.Random) -> None:
    """A few steady customers change address (a new city, sometimes a new country) mid-range."""
    steady = [c for c in customers if c.segment in ("whale", "regular") and c.first_day == 0]
    if config.days < 2 or not steady:
        return
    for customer in rng.sample(steady, min(len(steady), max(1, round(len(customers) * 0.05)))):
        day = rng.randint(1, config.days - 1)
        customer.moves_at = config.begin + timedelta(days=day, seconds=rng.randint(0, 12 * 3600))
        country = customer.address.country if rng.random() < 0.7 else None
        new_address = _address(rng, country)
        while new_address.city == customer.address.city:
            new_address = _address(rng, country)
        customer.new_address = new_address


def _products(config: GeneratorConfig, rng: random.Random) -> list[Product]:
    order = rng.sample(range(len(CATALOGUE)), len(CATALOGUE))
    products = []
    for i in range(config.products):
        name, price = CATALOGUE[order[i % len(CATALOGUE)]]
        edition = i // len(CATALOGUE)
        products.append(
            Product(f"prod-{i + 1:04d}", f"{name} Series {edition + 1}" if edition else name, Decimal(price))
        )
    return products


def _plan_price_changes(products: list[Product], config: GeneratorConfig, rng: random.Random) -> None:
    """Some products get a new price from some moment of some day on (SCD2 material)."""
    if config.days < 2:
        return
    for product in rng.sample(products, max(1, len(products) // 8)):
        changed_at = config.begin + timedelta(days=rng.randint(1, config.days - 1), hours=rng.randint(0, 12))
        factor = Decimal(rng.choice(("0.80", "0.85", "0.90", "1.10", "1.15", "1.25")))
        product.price_changes.append((changed_at, max(CENT, (product.price * factor).quantize(CENT))))


def build_world(config: GeneratorConfig, rng: random.Random) -> World:
    """Customers, products and warehouses, with the moves and price changes planned."""
    customers = [
        _customer(i + 1, segment, config, rng) for i, segment in enumerate(_segments(config.customers, rng))
    ]
    _plan_moves(customers, config, rng)
    products = _products(config, rng)
    _plan_price_changes(products, config, rng)
    popularity = [1 / (rank + 1) ** 0.7 for rank in range(len(products))]
    warehouses = [f"wh-{i + 1:02d}" for i in range(config.warehouses)]
    return World(customers, products, warehouses, popularity)


# --- field builders shared by valid events and defect templates ---------------------------------


@dataclass
class Order:
    """An order's fixed content and the statuses it goes through."""

    order_id: str
    customer_id: str
    items: list[tuple[Product, int, Decimal]]
    address: Address
    warehouse: str
    path: list[tuple[str, datetime]] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((quantity * price for _, quantity, price in self.items), Decimal("0.00"))

    def fields(self, status: str, when: datetime) -> dict:
        return {
            "order_id": self.order_id,
            "customer_id": self.customer_id,
            "order_date": when,
            "status": status,
            "items": [
                {"product_id": p.product_id, "product_name": p.name, "quantity": q, "price": price}
                for p, q, price in self.items
            ],
            "shipping_address": self.address.fields(),
            "total_amount": self.total,
        }


@dataclass(frozen=True)
class Session:
    """One visit of a user on one device."""

    session_id: str
    platform: str
    ip_address: str
    user_agent: str


def new_session(customer: Customer, rng: random.Random) -> Session:
    platform = rng.choice(sorted(customer.user_agents))
    ip = customer.ipv6 if customer.ipv6 and rng.random() < 0.5 else rng.choice(customer.ipv4)
    return Session(f"sess-{rng.getrandbits(64):016x}", platform, ip, customer.user_agents[platform])


def activity_fields(customer: Customer, session: Session, activity: str, when: datetime) -> dict:
    return {
        "user_id": customer.customer_id,
        "activity_type": activity,
        "ip_address": session.ip_address,
        "user_agent": session.user_agent,
        "timestamp": when,
        "metadata": {"session_id": session.session_id, "platform": session.platform},
    }


def inventory_fields(
    world: World, product: Product, warehouse: str, change: int, reason: str, when: datetime
) -> dict:
    return {
        "inventory_id": world.next_id("inv", 7),
        "product_id": product.product_id,
        "warehouse_id": warehouse,
        "quantity_change": change,
        "reason": reason,
        "timestamp": when,
    }


def pick_items(world: World, customer: Customer, rng: random.Random) -> list[tuple[Product, int]]:
    """1-3 distinct products, popular ones more often; big spenders buy the expensive ones."""
    candidates, weights = world.products, world.popularity
    if customer.segment == "whale":
        pricey = [i for i, p in enumerate(world.products) if p.price >= 100] or list(range(len(candidates)))
        candidates, weights = [world.products[i] for i in pricey], [1.0] * len(pricey)
    picked: list[Product] = []
    for _ in range(min(len(candidates), rng.choices((1, 2, 3), (50, 35, 15))[0])):
        product = rng.choices(candidates, weights)[0]
        if product not in picked:
            picked.append(product)
    quantities = (1, 2, 3) if customer.segment == "whale" else (1, 2, 3, 4, 5, 8)
    return [(p, rng.choices(quantities, (55, 22, 10, 6, 4, 3)[: len(quantities)])[0]) for p in picked]


def new_order(
    world: World, customer: Customer, picks: list[tuple[Product, int]], when: datetime, rng: random.Random
) -> Order:
    items = [(product, quantity, product.price_at(when)) for product, quantity in picks]
    address = customer.address_at(when)
    return Order(world.next_id("ord", 6), customer.customer_id, items, address, rng.choice(world.warehouses))


# --- the simulation of valid events -------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """A valid event, encoded, with its own time (UTC)."""

    stream: str
    time: datetime
    data: bytes


def _seconds(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(seconds=rng.randint(int(low), int(high)))


class Simulation:
    """Plays the shop forward day by day and records the valid events of the three streams."""

    def __init__(self, config: GeneratorConfig, world: World, rng: random.Random):
        self.config, self.world, self.rng = config, world, rng
        self.render = Renderer(rng)
        self.events: list[Event] = []
        self.orders: list[Order] = []

    def run(self) -> list[Event]:
        for day in range(self.config.days):
            self._shopping_day(day)
            self._browsing_day(day)
        self._movers_shop()
        Stock(self).run()
        return self.events

    def emit(self, stream: str, when: datetime, fields: dict) -> bool:
        """Record an event unless it happens after the range ends."""
        if when >= self.config.end:
            return False
        self.events.append(Event(stream, when, encode(self.render.payload(stream, fields))))
        return True

    def _volume(self, per_day: int) -> int:
        return round(per_day * self.rng.uniform(0.8, 1.2))

    def _time_of_day(self, day: int) -> datetime:
        """A session start on ``day``, busiest in the afternoon (UTC)."""
        second = int(self.rng.triangular(0, 86_399, 14 * 3600))
        return self.config.begin + timedelta(days=day, seconds=second)

    def _shopping_day(self, day: int) -> None:
        buyers = [c for c in self.world.buyers() if c.active_on(day)]
        if not buyers:
            return
        weights = [ORDER_WEIGHT[c.segment] for c in buyers]
        for _ in range(self._volume(self.config.orders_per_day)):
            customer = self.rng.choices(buyers, weights)[0]
            self._session(customer, self._time_of_day(day), buying=True)

    def _browsing_day(self, day: int) -> None:
        visitors = [c for c in self.world.customers if c.active_on(day)]
        for _ in range(self._volume(self.config.sessions_per_day) if visitors else 0):
            self._session(self.rng.choice(visitors), self._time_of_day(day), buying=False)

    def _movers_shop(self) -> None:
        """Movers order once the day before and once after their move, so the change shows."""
        for customer in self.world.customers:
            if customer.moves_at:
                before = customer.moves_at - timedelta(hours=self.rng.randint(20, 30))
                after = customer.moves_at + timedelta(hours=self.rng.randint(1, 6))
                self._session(customer, max(self.config.begin, before), buying=True)
                self._session(customer, after, buying=True)

    def _session(self, customer: Customer, start: datetime, buying: bool) -> None:
        """login, product views, cart changes, maybe an order, usually a logout."""
        session, rng = new_session(customer, self.rng), self.rng
        # Browsing sessions sometimes fill a cart too, and abandon it.
        picks = pick_items(self.world, customer, rng) if buying or rng.random() < 0.3 else []
        steps = ["login"] + ["view_product"] * (len(picks) + rng.randint(0, 3)) + ["add_to_cart"] * len(picks)
        if rng.random() < 0.15:
            steps += ["add_to_cart", "remove_from_cart"]
        moment = start
        for activity in steps:
            moment += timedelta(milliseconds=rng.randint(3_000, 180_000))
            self.emit("user_activity", moment, activity_fields(customer, session, activity, moment))
        if buying:
            moment += _seconds(rng, 30, 600)
            self._order(customer, picks, moment)
        if rng.random() < 0.9:
            moment += timedelta(milliseconds=rng.randint(5_000, 300_000))
            self.emit("user_activity", moment, activity_fields(customer, session, "logout", moment))

    def _order(self, customer: Customer, picks: list[tuple[Product, int]], placed: datetime) -> None:
        order = new_order(self.world, customer, picks, placed, self.rng)
        order.path = self._status_path(placed)
        self.orders.append(order)
        for status, when in order.path:
            self.emit("orders", when, order.fields(status, when))

    def _status_path(self, placed: datetime) -> list[tuple[str, datetime]]:
        """pending -> processing -> shipped -> delivered, or cancelled from pending / processing."""
        rng, hour = self.rng, 3600
        path = [("pending", placed)]
        if rng.random() < 0.07:
            return path + [("cancelled", placed + _seconds(rng, 300, 8 * hour))]
        processing = placed + _seconds(rng, 600, 6 * hour)
        path.append(("processing", processing))
        if rng.random() < 0.05:
            return path + [("cancelled", processing + _seconds(rng, hour, 24 * hour))]
        shipped = processing + _seconds(rng, 2 * hour, 36 * hour)
        return path + [("shipped", shipped), ("delivered", shipped + _seconds(rng, 12 * hour, 72 * hour))]


@dataclass(order=True)
class Movement:
    """A planned stock movement; sales and low-stock restocks are decided when it comes due."""

    time: datetime
    seq: int
    kind: str = field(compare=False)
    product: Product = field(compare=False)
    warehouse: str | None = field(compare=False)
    quantity: int = field(compare=False)
    order_key: tuple[str, str] | None = field(compare=False, default=None)


class Stock:
    """Inventory movements played in time order, so stock never goes below zero."""

    def __init__(self, sim: Simulation):
        self.sim, self.rng, self.world = sim, sim.rng, sim.world
        self.level = {(p.product_id, w): 0 for p in self.world.products for w in self.world.warehouses}
        self.shipped_from: dict[tuple[str, str], str] = {}
        self.plan: list[Movement] = []

    def run(self) -> None:
        self._plan_restocks()
        self._plan_orders()
        self._plan_damage()
        handlers = {
            "initial": self._initial,
            "check": self._check,
            "sale": self._sale,
            "return": self._return,
            "damage": self._damage,
        }
        for move in sorted(m for m in self.plan if m.time < self.sim.config.end):
            handlers[move.kind](move)

    def _add(
        self, kind: str, when: datetime, product: Product, warehouse: str | None, quantity: int, key=None
    ):
        self.plan.append(Movement(when, len(self.plan), kind, product, warehouse, quantity, key))

    def _plan_restocks(self) -> None:
        """Opening stock on the first morning (some of it thin), then a daily low-stock check."""
        begin, rng = self.sim.config.begin, self.rng
        for product in self.world.products:
            for warehouse in self.world.warehouses:
                opening = rng.randint(5, 20) if rng.random() < 0.25 else rng.randint(60, 100)
                self._add("initial", begin + _seconds(rng, 0, 3600), product, warehouse, opening)
                for day in range(1, self.sim.config.days):
                    check = begin + timedelta(days=day) + _seconds(rng, 4 * 3600, 8 * 3600)
                    self._add("check", check, product, warehouse, rng.randint(40, 100))

    def _plan_orders(self) -> None:
        """A sale shortly after each shipment; now and then a return after delivery."""
        rng = self.rng
        for order in self.sim.orders:
            when = dict(order.path)
            if "shipped" in when:
                for product, quantity, _ in order.items:
                    sale_at = when["shipped"] + _seconds(rng, 60, 1200)
                    key = (order.order_id, product.product_id)
                    self._add("sale", sale_at, product, order.warehouse, min(quantity, 100), key)
            if "delivered" in when and rng.random() < 0.06:
                product, quantity, _ = rng.choice(order.items)
                return_at = when["delivered"] + _seconds(rng, 6 * 3600, 48 * 3600)
                key = (order.order_id, product.product_id)
                self._add("return", return_at, product, None, rng.randint(1, quantity), key)

    def _plan_damage(self) -> None:
        begin, rng = self.sim.config.begin, self.rng
        for day in range(self.sim.config.days):
            for _ in range(rng.randint(0, 3)):
                at = begin + timedelta(days=day) + _seconds(rng, 0, 86_399)
                self._add("damage", at, rng.choice(self.world.products), rng.choice(self.world.warehouses), 0)

    def _move(self, when: datetime, product: Product, warehouse: str, change: int, reason: str) -> None:
        fields = inventory_fields(self.world, product, warehouse, change, reason, when)
        if self.sim.emit("inventory", when, fields):
            self.level[product.product_id, warehouse] += change

    def _initial(self, move: Movement) -> None:
        self._move(move.time, move.product, move.warehouse, move.quantity, "restock")

    def _check(self, move: Movement) -> None:
        # Restocking is deliberately unreliable so some product x warehouse stays below 10 for a while.
        if self.level[move.product.product_id, move.warehouse] < LOW_STOCK and self.rng.random() < 0.6:
            self._move(move.time, move.product, move.warehouse, move.quantity, "restock")

    def _sale(self, move: Movement) -> None:
        product, need = move.product, move.quantity
        stocked = [w for w in self.world.warehouses if self.level[product.product_id, w] >= need]
        if move.warehouse in stocked:
            warehouse = move.warehouse
        elif stocked:
            warehouse = max(stocked, key=lambda w: self.level[product.product_id, w])
        else:
            warehouse = move.warehouse
            rush = max(self.sim.config.begin, move.time - _seconds(self.rng, 300, 1800))
            self._move(rush, product, warehouse, self.rng.randint(max(need, 30), 100), "restock")
        self._move(move.time, product, warehouse, -need, "sale")
        self.shipped_from[move.order_key] = warehouse

    def _return(self, move: Movement) -> None:
        warehouse = self.shipped_from.get(move.order_key)
        if warehouse:
            self._move(move.time, move.product, warehouse, move.quantity, "return")

    def _damage(self, move: Movement) -> None:
        level = self.level[move.product.product_id, move.warehouse]
        if level >= 1:
            self._move(move.time, move.product, move.warehouse, -self.rng.randint(1, min(5, level)), "damage")


# --- malformed messages, one defect each --------------------------------------------------------

Defect = Callable[[dict, datetime], dict | bytes]


def _node(payload: dict, path: str) -> tuple[dict | list, str | int]:
    """The container holding the last element of a dotted path like "items.0.price"."""
    *parents, last = path.split(".")
    node: dict | list = payload
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node, int(last) if isinstance(node, list) else last


def dropped(path: str) -> Defect:
    def apply(payload: dict, _: datetime) -> dict:
        node, key = _node(payload, path)
        del node[key]
        return payload

    return apply


def replaced(path: str, value: object) -> Defect:
    def apply(payload: dict, _: datetime) -> dict:
        node, key = _node(payload, path)
        node[key] = value(node[key]) if callable(value) else value
        return payload

    return apply


def _like(old: object, amount: Decimal) -> str | Decimal:
    """``amount`` written the way ``old`` was (JSON string or number)."""
    return f"{amount:.2f}" if isinstance(old, str) else amount


def _retotalled(payload: dict) -> dict:
    total = sum((Decimal(str(i["price"])) * i["quantity"] for i in payload["items"]), Decimal("0.00"))
    payload["total_amount"] = _like(payload["total_amount"], total)
    return payload


def _quantity_zero(payload: dict, _: datetime) -> dict:
    payload["items"][0]["quantity"] = 0
    return _retotalled(payload)


def _amount_off(sign: int) -> Defect:
    def apply(payload: dict, _: datetime) -> dict:
        total = Decimal(str(payload["total_amount"]))
        delta = Decimal("5.00") if sign > 0 or total < 5 else Decimal("-5.00")
        payload["total_amount"] = _like(payload["total_amount"], total + delta)
        return payload

    return apply


def _inventory_as(reason: str, change: Callable[[int], int]) -> Defect:
    def apply(payload: dict, _: datetime) -> dict:
        payload["reason"] = reason
        payload["quantity_change"] = change(abs(payload["quantity_change"]))
        return payload

    return apply


def _with_raw(key: str, raw: bytes) -> Defect:
    """Bytes that are not UTF-8 at the start of a string field's value."""

    def apply(payload: dict, _: datetime) -> bytes:
        marker = f'"{key}":"'.encode()
        return encode(payload).replace(marker, marker + raw, 1)

    return apply


def _text(transform: Callable[[str], str]) -> Defect:
    return lambda payload, _: transform(to_json(payload)).encode()


def _timestamp(path: str, render: Callable[[datetime], object]) -> Defect:
    def apply(payload: dict, when: datetime) -> dict:
        payload[path] = render(when)
        return payload

    return apply


def _in_2099(when: datetime) -> datetime:
    return when.replace(year=2099, day=min(when.day, 28))


DEFECTS: dict[str, list[tuple[str, Defect]]] = {
    PAYLOAD_TOO_LARGE: [("orders", lambda p, _: {**p, "padding": "x" * MIB})],
    INVALID_ENCODING: [
        ("user_activity", _with_raw("user_agent", b"\xff\xfe")),
        ("orders", _with_raw("order_id", b"\xc3\x28")),
    ],
    INVALID_JSON: [
        ("orders", _text(lambda s: s[: len(s) // 2])),
        ("inventory", _text(lambda s: s[:-1] + ",}")),
        ("user_activity", _text(lambda s: s[: len(s) - 3])),
        ("orders", _text(lambda s: s.replace('"', "'"))),
    ],
    NOT_AN_OBJECT: [
        ("orders", _text(lambda s: f"[{s}]")),
        ("inventory", lambda p, when: str(epoch_millis(when)).encode()),
        ("user_activity", _text(to_json)),  # JSON-encoded twice: a JSON string
        ("orders", lambda p, _: to_json(p["items"]).encode()),
    ],
    UNKNOWN_EVENT_TYPE: [
        ("orders", replaced("event_type", "refund")),
        ("user_activity", replaced("event_type", "page_view")),
    ],
    MISSING_FIELD: [
        ("orders", dropped("customer_id")),
        ("orders", dropped("shipping_address.city")),
        ("user_activity", dropped("metadata.platform")),
        ("inventory", dropped("reason")),
        ("orders", dropped("items.0.price")),
        ("user_activity", dropped("timestamp")),
        ("orders", dropped("total_amount")),
        ("inventory", dropped("warehouse_id")),
    ],
    WRONG_TYPE: [
        ("orders", replaced("items.0.quantity", "three")),
        ("orders", replaced("items", lambda items: items[0])),
        ("orders", replaced("customer_id", lambda cid: int(cid.split("-")[1]))),
        ("inventory", replaced("quantity_change", "ten")),
        ("user_activity", replaced("metadata", lambda meta: meta["platform"])),
        ("orders", replaced("shipping_address", lambda a: f"{a['street']}, {a['city']}, {a['country']}")),
    ],
    INVALID_VALUE: [
        ("orders", replaced("status", "returned")),
        ("orders", _quantity_zero),
        ("inventory", _inventory_as("sale", lambda q: q)),
        ("inventory", _inventory_as("restock", lambda _: 150)),
        ("user_activity", replaced("metadata.platform", "desktop")),
        ("user_activity", replaced("ip_address", "999.1.1.1")),
        ("orders", replaced("shipping_address.country", "XX")),
        ("user_activity", replaced("activity_type", "purchase")),
        ("inventory", _inventory_as("theft", lambda q: -q)),
        ("inventory", _inventory_as("restock", lambda _: 0)),
    ],
    BAD_TIMESTAMP: [
        ("orders", _timestamp("order_date", lambda t: f"{t.year}-13-45T00:00:00Z")),
        ("inventory", _timestamp("timestamp", lambda t: t.strftime("%Y-%m-%dT%H:%M:%S"))),
        ("user_activity", _timestamp("timestamp", lambda t: "yesterday")),
        ("orders", _timestamp("order_date", lambda t: f"{t.year}-02-30T10:00:00+01:00")),
    ],
    # Far in the future, so they are rejected whenever the sample is processed.
    FUTURE_TIMESTAMP: [
        ("orders", _timestamp("order_date", lambda t: rfc3339(_in_2099(t)))),
        ("inventory", _timestamp("timestamp", lambda t: epoch_millis(_in_2099(t)))),
        ("user_activity", _timestamp("timestamp", lambda t: rfc3339(_in_2099(t), timedelta(hours=2)))),
    ],
    AMOUNT_MISMATCH: [("orders", _amount_off(+1)), ("orders", _amount_off(-1))],
}


class Defects:
    """Malformed messages built from fresh valid-looking events, cycling through the codes."""

    def __init__(self, config: GeneratorConfig, world: World, rng: random.Random):
        self.config, self.world, self.rng = config, world, rng
        self.render = Renderer(rng)

    def codes(self, count: int) -> list[str]:
        """``count`` codes in cycle order; payload_too_large at most ``max_oversized`` times."""
        codes: list[str] = []
        cycle, oversized_left = itertools.cycle(BAD_CODES), self.config.max_oversized
        while len(codes) < count:
            code = next(cycle)
            if code == PAYLOAD_TOO_LARGE:
                if not oversized_left:
                    continue
                oversized_left -= 1
            codes.append(code)
        return codes

    def messages(self, count: int) -> list[Message]:
        """``count`` malformed messages; each code walks through its variants in turn."""
        seen: Counter = Counter()
        made = []
        for code in self.codes(count):
            variants = DEFECTS[code]
            stream, defect = variants[seen[code] % len(variants)]
            seen[code] += 1
            made.append(self._message(code, stream, defect))
        return made

    def _message(self, code: str, stream: str, defect: Defect) -> Message:
        when = self.config.begin + _seconds(self.rng, 0, self.config.days * 86_400 - 1)
        broken = defect(self._template(stream, when), when)
        data = broken if isinstance(broken, bytes) else encode(broken)
        return Message(data, when, None if code in UNROUTABLE else stream, error_code=code)

    def _template(self, stream: str, when: datetime) -> dict:
        """A valid event of ``stream`` at ``when``, to be broken."""
        rng, world = self.rng, self.world
        customer = rng.choice(world.buyers() or world.customers)
        if stream == "orders":
            order = new_order(world, customer, pick_items(world, customer, rng), when, rng)
            status = rng.choice(("pending", "processing", "shipped", "delivered", "cancelled"))
            return self.render.payload(stream, order.fields(status, when))
        if stream == "inventory":
            reason = rng.choice(("restock", "sale", "return", "damage"))
            change = rng.randint(1, 40) * (1 if reason in ("restock", "return") else -1)
            product, warehouse = rng.choice(world.products), rng.choice(world.warehouses)
            return self.render.payload(
                stream, inventory_fields(world, product, warehouse, change, reason, when)
            )
        activity = rng.choice(("login", "view_product", "add_to_cart", "remove_from_cart", "logout"))
        fields = activity_fields(customer, new_session(customer, rng), activity, when)
        return self.render.payload(stream, fields)


# --- assembling the sample ----------------------------------------------------------------------


def _late_arrival(event: Event, config: GeneratorConfig, rng: random.Random) -> datetime | None:
    """An arrival on a later day, 2 h to 2 days after the event, inside the range; None if impossible."""
    next_midnight = datetime.combine(event.time.date() + timedelta(days=1), time(), timezone.utc)
    earliest = max(event.time + timedelta(hours=2), next_midnight)
    latest = min(event.time + timedelta(hours=48), config.end - timedelta(seconds=1))
    if earliest > latest:
        return None
    return earliest + _seconds(rng, 0, (latest - earliest).total_seconds())


def _arrivals(events: list[Event], config: GeneratorConfig, rng: random.Random) -> list[Message]:
    """Valid events arrive when they happen, except a late few that arrive on a later day."""
    wanted = round(config.late_fraction * len(events))
    late: dict[int, datetime] = {}
    for index in rng.sample(range(len(events)), len(events)):
        if len(late) >= wanted:
            break
        arrival = _late_arrival(events[index], config, rng)
        if arrival:
            late[index] = arrival
    return [Message(e.data, late.get(i, e.time), e.stream, late=i in late) for i, e in enumerate(events)]


def _duplicates(valid: list[Message], config: GeneratorConfig, rng: random.Random) -> list[Message]:
    """Byte-identical re-sends of some valid messages, seconds to hours after the original."""
    count = min(len(valid), round(config.duplicate_fraction * len(valid)))
    resent = []
    for index in sorted(rng.sample(range(len(valid)), count)):
        original = valid[index]
        last = max(original.arrival, config.end - timedelta(seconds=1))
        arrival = min(original.arrival + _seconds(rng, 1, 6 * 3600), last)
        resent.append(Message(original.data, arrival, original.stream, duplicate=True))
    return resent


def _manifest(config: GeneratorConfig, events: list[Event], messages: list[Message]) -> dict:
    per_stream = Counter(e.stream for e in events)
    rejected = Counter(m.error_code for m in messages if m.error_code)
    return {
        "seed": config.seed,
        "start": config.start.isoformat(),
        "days": config.days,
        "messages": len(messages),
        "valid_unique": {stream: per_stream[stream] for stream in STREAMS},
        "duplicates": sum(m.duplicate for m in messages),
        "late": sum(m.late for m in messages),
        "rejected": {code: rejected[code] for code in BAD_CODES if rejected[code]},
        "dates": sorted({e.time.date().isoformat() for e in events}),
    }


def generate(config: GeneratorConfig | None = None) -> Sample:
    """The whole sample for ``config``: messages in arrival order and the manifest."""
    config = config or GeneratorConfig()
    world = build_world(config, random.Random(f"{config.seed}:world"))
    events = Simulation(config, world, random.Random(f"{config.seed}:events")).run()
    valid = _arrivals(events, config, random.Random(f"{config.seed}:late"))
    duplicates = _duplicates(valid, config, random.Random(f"{config.seed}:duplicates"))
    bad_count = (
        max(len(BAD_CODES), round(config.bad_fraction * len(events))) if config.bad_fraction > 0 else 0
    )
    bad = Defects(config, world, random.Random(f"{config.seed}:bad")).messages(bad_count)
    unordered = valid + duplicates + bad
    # Ties keep creation order, which also puts every duplicate after its original.
    order = sorted(range(len(unordered)), key=lambda i: (unordered[i].arrival, i))
    messages = [unordered[i] for i in order]
    return Sample(messages, _manifest(config, events, messages))


# --- output -------------------------------------------------------------------------------------


def write_files(sample: Sample, out_dir: Path) -> list[Path]:
    """``events-YYYY-MM-DD.jsonl`` per arrival day (binary, one message a line) and manifest.json.

    Earlier ``events-*.jsonl`` files in ``out_dir`` are removed first, so the directory holds
    exactly this sample.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.glob("events-*.jsonl"):
        stale.unlink()
    written = []
    for day, lines in sorted(sample.by_day().items()):
        path = out_dir / f"events-{day.isoformat()}.jsonl"
        with path.open("wb") as handle:
            handle.writelines(line + b"\n" for line in lines)
        written.append(path)
    (out_dir / "manifest.json").write_text(json.dumps(sample.manifest, indent=2) + "\n")
    return written


def publish(messages: Iterable[Message], project: str, topic: str = MIXED, per_stream: bool = False) -> int:
    """Publish in order to ``topic``, or per stream to orders / inventory / user_activity.

    With ``per_stream``, messages whose stream cannot be told still go to ``topic``.
    Every message carries the attribute ``source=eventharbor-generate``. Returns the count.
    """
    from google.cloud import pubsub_v1

    publisher = pubsub_v1.PublisherClient()
    futures = []
    for message in messages:
        name = message.stream if per_stream and message.stream else topic
        futures.append(publisher.publish(publisher.topic_path(project, name), message.data, source=SOURCE))
    for future in futures:
        future.result(timeout=120)
    return len(futures)


# --- command line -------------------------------------------------------------------------------


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {text!r}") from exc


def _count(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


def _fraction(text: str) -> float:
    value = float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {value}")
    return value


def parser() -> argparse.ArgumentParser:
    d = GeneratorConfig()
    p = argparse.ArgumentParser(
        prog="python -m localdev.generate",
        description="Generate a deterministic, coherent sample of order, inventory and user-activity "
        "events (with duplicates, late arrivals and malformed messages) as JSON Lines files and/or "
        "Pub/Sub messages. Prints a one-line summary to stderr.",
    )
    add = p.add_argument
    add(
        "--seed",
        type=int,
        default=d.seed,
        help="random seed; the same flags give byte-identical output (default: %(default)s)",
    )
    add(
        "--start", type=_day, metavar="YYYY-MM-DD", help="first event day (default: 7 days before today, UTC)"
    )
    add("--days", type=_count(1), default=d.days, metavar="N", help="event days (default: %(default)s)")
    add(
        "--customers",
        type=_count(1),
        default=d.customers,
        metavar="N",
        help="customers, who are also the users (default: %(default)s)",
    )
    add("--products", type=_count(1), default=d.products, metavar="N", help="products (default: %(default)s)")
    add(
        "--warehouses",
        type=_count(1),
        default=d.warehouses,
        metavar="N",
        help="warehouses holding stock (default: %(default)s)",
    )
    add(
        "--orders-per-day",
        type=_count(0),
        default=d.orders_per_day,
        metavar="N",
        help="new orders a day, ±20%% (default: %(default)s)",
    )
    add(
        "--sessions-per-day",
        type=_count(0),
        default=d.sessions_per_day,
        metavar="N",
        help="browsing sessions a day besides the one before each order, ±20%% (default: %(default)s)",
    )
    add(
        "--bad-fraction",
        type=_fraction,
        default=d.bad_fraction,
        metavar="F",
        help="malformed messages as a fraction of valid events; when > 0, at least one per error code "
        "(default: %(default)s)",
    )
    add(
        "--duplicate-fraction",
        type=_fraction,
        default=d.duplicate_fraction,
        metavar="F",
        help="byte-identical re-sends as a fraction of valid events (default: %(default)s)",
    )
    add(
        "--late-fraction",
        type=_fraction,
        default=d.late_fraction,
        metavar="F",
        help="fraction of valid events that arrive 2 h to 2 days late, on a later day (default: %(default)s)",
    )
    add(
        "--max-oversized",
        type=_count(0),
        default=d.max_oversized,
        metavar="N",
        help="at most N payload_too_large messages, each > 1 MiB (default: %(default)s)",
    )
    add(
        "--out",
        type=Path,
        metavar="DIR",
        help="write DIR/events-YYYY-MM-DD.jsonl per arrival day and DIR/manifest.json",
    )
    add(
        "--pubsub-project",
        metavar="PROJECT",
        help="publish the messages in order to Pub/Sub in PROJECT (honours PUBSUB_EMULATOR_HOST)",
    )
    add(
        "--topic",
        default=MIXED,
        help="topic for every message, or with --per-stream-topics for those "
        "whose stream cannot be told (default: %(default)s)",
    )
    add(
        "--per-stream-topics",
        action="store_true",
        help="publish to the topics orders / inventory / user_activity by stream",
    )
    return p


def config_from(args: argparse.Namespace) -> GeneratorConfig:
    return GeneratorConfig(
        seed=args.seed,
        start=args.start or default_start(),
        days=args.days,
        customers=args.customers,
        products=args.products,
        warehouses=args.warehouses,
        orders_per_day=args.orders_per_day,
        sessions_per_day=args.sessions_per_day,
        bad_fraction=args.bad_fraction,
        duplicate_fraction=args.duplicate_fraction,
        late_fraction=args.late_fraction,
        max_oversized=args.max_oversized,
    )


def summary(sample: Sample) -> str:
    m = sample.manifest
    valid = ", ".join(f"{n} {stream}" for stream, n in m["valid_unique"].items())
    last = date.fromisoformat(m["start"]) + timedelta(days=m["days"] - 1)
    return (
        f"generated {m['messages']} messages for {m['start']}..{last.isoformat()}: {valid} valid; "
        f"{m['duplicates']} duplicates, {m['late']} late, {sum(m['rejected'].values())} malformed"
    )


def main(argv: list[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    if args.out is None and args.pubsub_project is None:
        p.error("give --out DIR and/or --pubsub-project PROJECT")
    config = config_from(args)
    if config.end > datetime.now(timezone.utc) + timedelta(days=1):
        print(
            "warning: events more than 1 day ahead of now will be rejected as future_timestamp",
            file=sys.stderr,
        )
    sample = generate(config)
    if args.out is not None:
        write_files(sample, args.out)
    if args.pubsub_project:
        publish(sample.messages, args.pubsub_project, args.topic, args.per_stream_topics)
    print(summary(sample), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
