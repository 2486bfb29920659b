"""The world the events are about: customers (who are also the users), products, warehouses.

Built once per sample from its own random stream; the planned changes (customers moving house,
products changing price) give the SCD2 and cumulative models something to show.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from localdev.generator.sample import GeneratorConfig

CENT = Decimal("0.01")

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
