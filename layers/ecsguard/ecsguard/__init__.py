"""ecsguard: an event-driven guard for Amazon ECS task definitions and launches."""

__version__ = "0.1.0"
