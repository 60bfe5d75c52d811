"""Rate limits: how many tries an address, a username or a person gets.

The counting is the `limits` library's (the one behind Flask-Limiter): a moving window
per key, kept in this process's memory, or in Redis when VIBECHAT_REDIS_URL is set so
that every worker and host shares one count. A spent limit is a 429 with Retry-After.
Socket frames are counted per connection, which lives in one process, so they always
use memory: no network round trip per typing notice.
"""

from __future__ import annotations

import logging
import math
import time

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from quart import current_app, request
from werkzeug.exceptions import TooManyRequests

from vibechat import metrics
from vibechat.config import Settings
from vibechat.i18n import _, ngettext

log = logging.getLogger(__name__)


def rates(settings: Settings) -> dict[str, str]:
    """Each limit by name, with the rate its setting (VIBECHAT_LIMIT_...) gives it."""
    return {
        "login_username": settings.limit_login_username,
        "login_address": settings.limit_login_address,
        "register_address": settings.limit_register_address,
        "register_username": settings.limit_register_username,
        "messages": settings.limit_messages,
        "socket_frames": settings.limit_socket_frames,
    }


def shared_storage(settings: Settings) -> Storage:
    """Redis (through redis-py) when configured, so workers share counts; else memory."""
    url = settings.redis_url
    if url:
        return RedisStorage(
            f"async+{url}", implementation="redispy", key_prefix="vibechat", wrap_exceptions=True
        )
    return MemoryStorage()


class RateLimits:
    """The app's limits, keyed by name (see rates())."""

    def __init__(self, settings: Settings) -> None:
        self.enabled: bool = settings.rate_limits
        self.items: dict[str, RateLimitItem] = {
            name: parse(rate) for name, rate in rates(settings).items()
        }
        self.shared = MovingWindowRateLimiter(shared_storage(settings))
        self.local = MovingWindowRateLimiter(MemoryStorage())

    def _limiter(self, name: str) -> MovingWindowRateLimiter:
        return self.local if name == "socket_frames" else self.shared

    async def hit(self, name: str, key: str) -> bool:
        """Count one try; False when the limit was already spent (the try is refused)."""
        if not self.enabled:
            return True
        try:
            return await self._limiter(name).hit(self.items[name], name, key)
        except StorageError:
            # Redis is away: let people in rather than lock everyone out.
            log.warning("rate limit %s not counted: storage unavailable", name)
            return True

    async def spent(self, name: str, key: str) -> bool:
        """Whether one more try would be refused, without counting one."""
        if not self.enabled:
            return False
        try:
            return not await self._limiter(name).test(self.items[name], name, key)
        except StorageError:
            log.warning("rate limit %s not checked: storage unavailable", name)
            return False

    async def retry_after(self, name: str, key: str) -> int:
        """Whole seconds until the oldest counted try leaves the window."""
        stats = await self._limiter(name).get_window_stats(self.items[name], name, key)
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def refuse(self, name: str, key: str) -> TooManyRequests:
        metrics.RATE_LIMIT_REFUSALS.labels(name).inc()
        seconds = await self.retry_after(name, key)
        return TooManyRequests(
            _("Too many tries. Please wait %(time)s and try again.", time=_spoken(seconds)),
            retry_after=seconds,
        )

    async def require(self, name: str, key: str) -> None:
        """Count a try, or raise 429 when the limit is spent."""
        if not await self.hit(name, key):
            raise await self.refuse(name, key)

    async def require_unspent(self, name: str, key: str) -> None:
        """Raise 429 when the limit is spent; count nothing (failures are counted later)."""
        if await self.spent(name, key):
            raise await self.refuse(name, key)


def _spoken(seconds: int) -> str:
    if seconds < 120:
        return ngettext("%(num)d second", "%(num)d seconds", seconds)
    return ngettext("%(num)d minute", "%(num)d minutes", math.ceil(seconds / 60))


def retry_after(refusal: TooManyRequests) -> dict[str, str]:
    """The Retry-After header of a refusal, for a view that answers it with a form."""
    return {"Retry-After": str(refusal.retry_after)}


def rate_limits() -> RateLimits:
    return current_app.extensions["rate_limits"]


def client_address() -> str:
    """The client's address (the proxy's unless VIBECHAT_PROXY_HOPS trusts it)."""
    return request.remote_addr or "unknown"
