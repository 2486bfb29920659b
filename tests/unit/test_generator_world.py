"""The generator's world: customers, products, addresses and the changes planned for them."""

from __future__ import annotations

import ipaddress
import random
from collections import Counter
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from localdev.generator.world import CATALOGUE, COUNTRIES, USER_AGENTS, build_world
from tests.generator_spec import CONFIG


def world(config=CONFIG, seed: str = "world"):
    return build_world(config, random.Random(seed))


def test_ids_and_counts_follow_the_config():
    config = replace(CONFIG, customers=12, products=len(CATALOGUE) + 3, warehouses=4)
    built = world(config)
    assert [c.customer_id for c in built.customers] == [f"cust-{n:04d}" for n in range(1, 13)]
    assert [p.product_id for p in built.products] == [f"prod-{n:04d}" for n in range(1, len(CATALOGUE) + 4)]
    assert built.warehouses == ["wh-01", "wh-02", "wh-03", "wh-04"]
    names = [p.name for p in built.products]
    assert len(set(names)) == len(names)
    assert sum(name.endswith(" Series 2") for name in names) == 3


def test_segments_give_big_spenders_churners_and_window_shoppers():
    built = world()
    segments = Counter(c.segment for c in built.customers)
    assert set(segments) == {"whale", "regular", "occasional", "churner", "browser"}
    assert segments["whale"] >= 1
    assert all(c.segment != "browser" for c in built.buyers())
    for churner in (c for c in built.customers if c.segment == "churner"):
        assert churner.stop_day is not None and 1 <= churner.stop_day < CONFIG.days
        assert churner.active_on(churner.stop_day - 1) and not churner.active_on(churner.stop_day)
    late_arrivals = [c for c in built.customers if c.first_day > 0]
    assert late_arrivals and all(not c.active_on(c.first_day - 1) for c in late_arrivals)


def test_customers_have_real_looking_addresses_devices_and_ips():
    for customer in world().customers:
        address = customer.address
        cities, streets, _ = COUNTRIES[address.country]
        assert address.city in cities and any(street in address.street for street in streets)
        assert customer.user_agents and all(
            agent in USER_AGENTS[platform] for platform, agent in customer.user_agents.items()
        )
        for ip in customer.ipv4:
            parsed = ipaddress.IPv4Address(ip)
            assert not (parsed.is_loopback or parsed.is_multicast or parsed.is_reserved), ip
            assert 0 < int(ip.rsplit(".", 1)[1]) < 255, ip
        if customer.ipv6:
            assert ipaddress.ip_address(customer.ipv6).version == 6


def test_movers_change_city_mid_range():
    movers = [c for c in world().customers if c.moves_at]
    assert movers
    for customer in movers:
        assert CONFIG.begin + timedelta(days=1) <= customer.moves_at < CONFIG.end
        assert customer.new_address.city != customer.address.city
        assert customer.address_at(customer.moves_at - timedelta(seconds=1)) == customer.address
        assert customer.address_at(customer.moves_at) == customer.new_address


def test_price_changes_take_effect_at_their_moment_and_stay_in_cents():
    changed = [p for p in world().products if p.price_changes]
    assert changed
    for product in changed:
        (changed_at, new_price), *_ = product.price_changes
        assert CONFIG.begin < changed_at < CONFIG.end
        assert product.price_at(changed_at - timedelta(seconds=1)) == product.price
        assert product.price_at(changed_at) == new_price != product.price
        assert new_price > 0 and new_price == new_price.quantize(Decimal("0.01"))


def test_a_one_day_range_plans_no_moves_or_price_changes():
    built = world(replace(CONFIG, days=1))
    assert not any(c.moves_at for c in built.customers)
    assert not any(p.price_changes for p in built.products)


def test_next_id_counts_per_prefix():
    built = world()
    assert [built.next_id("ord", 6), built.next_id("inv", 7), built.next_id("ord", 6)] == [
        "ord-000001",
        "inv-0000001",
        "ord-000002",
    ]


def test_the_same_seed_builds_the_same_world():
    assert world() == world()
    assert world(seed="other").customers != world().customers
