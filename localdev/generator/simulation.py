"""The shop played forward: sessions, orders and their status changes, stock movements, and
the timeline of when each valid event arrives (on time, late, or re-sent).

The field builders (``new_order``, ``activity_fields``, ...) are shared with the defects, which
break events built the same way.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from decimal import Decimal

from localdev.generator.render import Renderer, encode
from localdev.generator.sample import GeneratorConfig, SampleMessage
from localdev.generator.world import ORDER_WEIGHT, Address, Customer, Product, World

# A product x warehouse below this level may be restocked at the daily check.
LOW_STOCK = 15


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


# --- valid events ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """A valid event, encoded, with its own time (UTC)."""

    stream: str
    time: datetime
    data: bytes


def random_seconds(rng: random.Random, low: float, high: float) -> timedelta:
    """A whole number of seconds from ``low`` to ``high``, both included."""
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
            moment += random_seconds(rng, 30, 600)
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
            return path + [("cancelled", placed + random_seconds(rng, 300, 8 * hour))]
        processing = placed + random_seconds(rng, 600, 6 * hour)
        path.append(("processing", processing))
        if rng.random() < 0.05:
            return path + [("cancelled", processing + random_seconds(rng, hour, 24 * hour))]
        shipped = processing + random_seconds(rng, 2 * hour, 36 * hour)
        return path + [
            ("shipped", shipped),
            ("delivered", shipped + random_seconds(rng, 12 * hour, 72 * hour)),
        ]


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
                self._add("initial", begin + random_seconds(rng, 0, 3600), product, warehouse, opening)
                for day in range(1, self.sim.config.days):
                    check = begin + timedelta(days=day) + random_seconds(rng, 4 * 3600, 8 * 3600)
                    self._add("check", check, product, warehouse, rng.randint(40, 100))

    def _plan_orders(self) -> None:
        """A sale shortly after each shipment; now and then a return after delivery."""
        rng = self.rng
        for order in self.sim.orders:
            when = dict(order.path)
            if "shipped" in when:
                for product, quantity, _ in order.items:
                    sale_at = when["shipped"] + random_seconds(rng, 60, 1200)
                    key = (order.order_id, product.product_id)
                    self._add("sale", sale_at, product, order.warehouse, min(quantity, 100), key)
            if "delivered" in when and rng.random() < 0.06:
                product, quantity, _ = rng.choice(order.items)
                return_at = when["delivered"] + random_seconds(rng, 6 * 3600, 48 * 3600)
                key = (order.order_id, product.product_id)
                self._add("return", return_at, product, None, rng.randint(1, quantity), key)

    def _plan_damage(self) -> None:
        begin, rng = self.sim.config.begin, self.rng
        for day in range(self.sim.config.days):
            for _ in range(rng.randint(0, 3)):
                at = begin + timedelta(days=day) + random_seconds(rng, 0, 86_399)
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
            rush = max(self.sim.config.begin, move.time - random_seconds(self.rng, 300, 1800))
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


# --- the arrival timeline ----------------------------------------------------------------------


def _late_arrival(event: Event, config: GeneratorConfig, rng: random.Random) -> datetime | None:
    """An arrival on a later day, 2 h to 2 days after the event, inside the range; None if impossible."""
    next_midnight = datetime.combine(event.time.date() + timedelta(days=1), time(), timezone.utc)
    earliest = max(event.time + timedelta(hours=2), next_midnight)
    latest = min(event.time + timedelta(hours=48), config.end - timedelta(seconds=1))
    if earliest > latest:
        return None
    return earliest + random_seconds(rng, 0, (latest - earliest).total_seconds())


def arrivals(events: list[Event], config: GeneratorConfig, rng: random.Random) -> list[SampleMessage]:
    """Valid events arrive when they happen, except a late few that arrive on a later day."""
    wanted = round(config.late_fraction * len(events))
    late: dict[int, datetime] = {}
    for index in rng.sample(range(len(events)), len(events)):
        if len(late) >= wanted:
            break
        arrival = _late_arrival(events[index], config, rng)
        if arrival:
            late[index] = arrival
    return [
        SampleMessage(e.data, late.get(i, e.time), e.stream, late=i in late) for i, e in enumerate(events)
    ]


def duplicates(
    valid: list[SampleMessage], config: GeneratorConfig, rng: random.Random
) -> list[SampleMessage]:
    """Byte-identical re-sends of some valid messages, seconds to hours after the original."""
    count = min(len(valid), round(config.duplicate_fraction * len(valid)))
    resent = []
    for index in sorted(rng.sample(range(len(valid)), count)):
        original = valid[index]
        last = max(original.arrival, config.end - timedelta(seconds=1))
        arrival = min(original.arrival + random_seconds(rng, 1, 6 * 3600), last)
        resent.append(SampleMessage(original.data, arrival, original.stream, duplicate=True))
    return resent
