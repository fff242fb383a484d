"""The HTTP layer: the one httpx client, OpenRouter's answers as domain records and its formats,
the error tree, retry for idempotent requests only, the one pager, reads answered from a listing,
and the one send-once-then-settle of a create whose answer was lost."""
