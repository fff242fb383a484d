"""The template every resource is built on: `ManagementProvider` (one check, one diff, configure,
pickling), `ObjectProvider` for an object at one REST path, the row vocabulary and values, the
messages, and what the provider process remembers between calls."""
