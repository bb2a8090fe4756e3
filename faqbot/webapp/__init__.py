"""The web layer: Flask blueprints for the public API (api.py), the widget's files (widget.py),
the staff console and its API (staff*.py), the OpenAPI document, rate limits, request guards,
headers and logs. The only Flask code besides create_app; it may import every lower layer.

(The widget's own static files live in the top-level web/ folder, shipped as faqbot.web.)
"""
