"""`python -m cli doctor` and `python -m cli audit`: read-only checks of OpenRouter keys.

The commands print and never decide on their own: `doctor.py` and `audit.py` hold the pure
judgement, `api.py` the only requests (GETs), `render.py` the output, `diagnostics.py` every
message. See docs/cli.md.
"""
