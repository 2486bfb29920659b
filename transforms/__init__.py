"""EventHarbor Beam transforms: parse, validate, normalise, de-duplicate, route, shape rows."""
