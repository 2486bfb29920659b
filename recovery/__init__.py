"""Recovery tools: dead-letter replay and raw-archive replay (``python -m recovery``)."""
