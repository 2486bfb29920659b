"""Pub/Sub in terraform/: the Dataflow subscriptions' retry and dead-letter policies and the
Pub/Sub service agent's grants (offline, python-hcl2).
"""

from __future__ import annotations

from tests.terraform_hcl import attr, blocks, expr, resources_of, variable_default


def test_subscriptions_have_retry_dead_letter_and_the_service_agent_iam():
    subscriptions = resources_of("google_pubsub_subscription")
    dataflow = subscriptions["dataflow"]
    assert expr(attr(dataflow, "for_each")) == "${google_pubsub_topic.sources}"
    assert expr(attr(dataflow, "ack_deadline_seconds")) == "${var.ack_deadline_seconds}"
    assert "var.message_retention_seconds" in expr(attr(dataflow, "message_retention_duration"))
    (retry,) = blocks(dataflow, "retry_policy")
    assert "var.retry_minimum_backoff_seconds" in expr(attr(retry, "minimum_backoff"))
    assert "var.retry_maximum_backoff_seconds" in expr(attr(retry, "maximum_backoff"))
    (dead_letter,) = blocks(dataflow, "dead_letter_policy")
    assert expr(attr(dead_letter, "dead_letter_topic")) == "${google_pubsub_topic.dead_letter.id}"
    assert expr(attr(dead_letter, "max_delivery_attempts")) == "${var.max_delivery_attempts}"
    (expiration,) = blocks(dataflow, "expiration_policy")
    assert attr(expiration, "ttl") == "", "the job's subscriptions must never expire"
    assert expr(attr(subscriptions["dead_letter"], "topic")) == "${google_pubsub_topic.dead_letter.id}"
    assert variable_default("pubsub_topics") == ["orders", "inventory", "user_activity", "events"]

    agent = "serviceAccount:${google_project_service_identity.pubsub.email}"
    publisher = resources_of("google_pubsub_topic_iam_member")["dead_letter_publisher"]
    assert expr(attr(publisher, "topic")) == "${google_pubsub_topic.dead_letter.name}"
    assert (attr(publisher, "role"), expr(attr(publisher, "member"))) == ("roles/pubsub.publisher", agent)
    sub_iam = resources_of("google_pubsub_subscription_iam_member")
    agent_sub = sub_iam["service_agent_subscriber"]
    assert expr(attr(agent_sub, "for_each")) == "${google_pubsub_subscription.dataflow}"
    assert (attr(agent_sub, "role"), expr(attr(agent_sub, "member"))) == ("roles/pubsub.subscriber", agent)
    identity = resources_of("google_project_service_identity")["pubsub"]
    assert attr(identity, "service") == "pubsub.googleapis.com"
