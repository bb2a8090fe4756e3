"""Rate limits for chat and feedback, counted per client address through flask-limiter's storage."""
from __future__ import annotations

import functools
import ipaddress
import logging
import time
from operator import attrgetter

from flask import Flask, g, request
from flask_limiter import Limiter
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from werkzeug.exceptions import TooManyRequests

log = logging.getLogger(__name__)

LIMITED = (("api.chat", "RATELIMIT_CHAT"), ("api.feedback", "RATELIMIT_FEEDBACK"))


def init_limiter(app: Flask) -> RateLimits | None:
    """Limit chat and feedback per client address, answering 429 in the error contract with Retry-After."""
    enabled = app.config["RATELIMIT_ENABLED"]
    app.config["RATELIMIT_ENABLED"] = (not app.testing) if enabled is None else bool(enabled)
    if not app.config["RATELIMIT_ENABLED"]:
        return None
    # flask-limiter reads the RATELIMIT_* settings and builds the storage (memory, Redis...) and the
    # strategy from them; the limits are counted through that strategy, parsed once (its per-request
    # machinery of limit resolution and request contexts cost more than the counting). It is
    # initialised on a settings-only Flask object rather than on the app: on the app its request
    # hooks would run on every request (about 35 us) for limits it does not hold.
    settings = Flask(app.import_name)
    settings.config.update({k: v for k, v in app.config.items() if k.startswith("RATELIMIT_")})
    uri = app.config.get("RATELIMIT_STORAGE_URI") or "memory://"
    limiter = Limiter(client_key, app=settings, headers_enabled=False,
                      storage_uri=SweptMemoryStorage.URI if uri == "memory://" else None)
    limits = RateLimits(limiter, bool(app.config.get("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED")))
    for endpoint, key in LIMITED:
        view = app.view_functions.get(endpoint)
        if view is not None and app.config[key]:
            app.view_functions[endpoint] = limits.wrap(view, endpoint, app.config[key])
    app.extensions["faqbot.limiter"] = limits  # the staff console's lockout counts through it too
    return limits


class RateLimits:
    """Count requests through flask-limiter's configured strategy, falling back to memory.

    The storage keys are flask-limiter's own for a route limit (address, then endpoint), so a
    shared Redis keeps its counts across versions. While a shared store fails, requests are
    counted in this worker's memory (RATELIMIT_IN_MEMORY_FALLBACK_ENABLED; the staff lockout
    always does) and the store is tried again every few seconds, so a hung Redis delays one
    request in a while, not every one.
    """

    RETRY_STORE = 5.0  # seconds between attempts to go back to a failed shared store

    def __init__(self, limiter: Limiter, fallback: bool):
        self.limiter, self.fallback_enabled = limiter, fallback
        self.local = type(limiter.limiter)(SweptMemoryStorage())  # the same strategy, in this worker
        self.failed_until = 0.0
        self.failing = False  # the shared store's last call failed (said once; its return said once)

    def call(self, method: str, *args, fallback: bool | None = None, **options):
        """Run a strategy method (hit, test...) or a storage one ("storage.incr"), locally while the store fails."""
        fallback = self.fallback_enabled if fallback is None else fallback
        if fallback and time.monotonic() < self.failed_until:
            return attrgetter(method)(self.local)(*args, **options)
        try:
            result = attrgetter(method)(self.limiter.limiter)(*args, **options)
        except Exception as exc:  # the storage's own errors (redis, network) vary with its backend
            if not fallback:
                raise
            if not self.failing:  # one warning per outage, not one per retry
                self.failing = True
                log.warning("rate-limit storage unreachable, counting in this worker meanwhile "
                            "(trying it again every %.0f s): %s", self.RETRY_STORE, exc)
            self.failed_until = time.monotonic() + self.RETRY_STORE
            return attrgetter(method)(self.local)(*args, **options)
        if self.failing:
            self.failing = False
            log.info("rate-limit storage is answering again; counting there")
        return result

    def state(self) -> str:
        """For /readyz: "shared" (a store other instances see), "memory" (this worker's own by
        configuration), or "local" (the shared store failed; counting in this worker meanwhile)."""
        if self.failing:
            return "local"
        return "memory" if isinstance(self.limiter.limiter.storage, MemoryStorage) else "shared"

    def wrap(self, view, endpoint: str, spec: str):
        """Return the view with its limits checked first (POST only), shortest window first."""
        items = sorted(parse_many(spec))

        @functools.wraps(view)
        def limited(*args, **kwargs):
            if request.method == "POST":
                self.check(items, client_key(), endpoint)
            return view(*args, **kwargs)

        return limited

    def check(self, items: list[RateLimitItem], key: str, scope: str) -> None:
        """Count one request against each limit; raise 429 at the first one exceeded."""
        for item in items:
            if not self.call("hit", item, key, scope):
                g.rate_limit = item, self.call("get_window_stats", item, key, scope)
                raise TooManyRequests(retry_after=seconds_until(g.rate_limit[1].reset_time))
        # The X-RateLimit-* headers describe the shortest window, as flask-limiter's own do.
        g.rate_limit = items[0], self.call("get_window_stats", items[0], key, scope)


class SweptMemoryStorage(MemoryStorage):
    """limits' in-memory storage ("memory://"), its expired keys swept every few seconds on the request path.

    MemoryStorage starts a new thread 10 ms after a write to sweep expired keys, so under load a
    worker starts a thread every few requests and scans every key each time. The counting is the
    parent's; only the sweep moves. (It overrides the parent's private __schedule_expiry, so
    tests/test_security.py checks that no thread is started: a limits upgrade that renames it
    fails there, not in production.)
    """

    STORAGE_SCHEME = ["faqbot-memory"]
    URI = "faqbot-memory://"
    SWEEP_EVERY = 5.0  # seconds

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.next_sweep = 0.0

    def _MemoryStorage__schedule_expiry(self) -> None:
        now = time.monotonic()
        if now >= self.next_sweep:
            self.next_sweep = now + self.SWEEP_EVERY
            self._MemoryStorage__expire_events()


def seconds_until(reset: float) -> int:
    """Whole seconds (at least 1) until a window's reset time."""
    return max(1, int(reset - time.time()) + 1)


def client_key() -> str:
    """Return the rate-limit key: the client address, or its /64 for IPv6, where one visitor holds many."""
    return address_key(request.remote_addr or "unknown")


@functools.lru_cache(maxsize=4096)  # the same visitors come back: parse each address once
def address_key(address: str) -> str:
    """Return the rate-limit key of one address."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        return str(ip.ipv4_mapped or ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)
