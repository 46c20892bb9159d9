"""One router per resource (events, leads, sla, policies, metrics, health, hooks)."""
