"""The OpenRouter dynamic provider and its HTTP client.

Module paths under this package are stored in Pulumi state (the provider is pickled by
reference), so they are a compatibility surface: never move or rename them.
"""
