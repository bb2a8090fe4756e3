"""The baseline for bench_http.py: the smallest Flask app, answering constant JSON.

Served with the Procfile's gunicorn command, it shows what Flask and gunicorn cost on their
own, so faqbot's requests per second can be read as a share of that ceiling.
"""
from flask import Flask, jsonify

app = Flask(__name__)


# POST too, so wrk sends both apps byte-for-byte the same requests (the body is not read).
@app.route("/const", methods=["GET", "POST"])
def const():
    """Return constant JSON."""
    return jsonify({"ok": True})
