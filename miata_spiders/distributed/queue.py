"""The shared frontier with leases: scrapy-redis's PriorityQueue, made reliable.

scrapy-redis pops a request with ZRANGE+ZREMRANGEBYRANK: once popped it exists only in the worker's
memory, and a worker killed with ``kill -9`` loses every request it had popped. Here a pop moves the
request into a lease (deadline in ``leases``, the request itself in ``lease:request``) in one Lua
script; the worker renews its leases while it lives and acknowledges each once its outcome is durable.
Every pop first puts expired leases back into the frontier, where any worker takes them.

All times are the Redis server's clock (``TIME``), so workers on machines with skewed clocks agree.
"""

from __future__ import annotations

from scrapy_redis.queue import PriorityQueue

from miata_spiders.distributed.keys import CrawlKeys

_NOW = "local t = redis.call('TIME'); local now = tonumber(t[1]) + tonumber(t[2]) / 1000000\n"

# KEYS: frontier, leases, lease:request, lease:score, lease:owner, lease:seq, idle. ARGV: lease seconds, worker id.
# Returns {expired leases put back, lease id, encoded request} or {expired} when the frontier is empty.
_POP = _NOW + """
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
for _, id in ipairs(expired) do
  local data = redis.call('HGET', KEYS[3], id)
  if data then redis.call('ZADD', KEYS[1], redis.call('HGET', KEYS[4], id) or 0, data) end
  redis.call('ZREM', KEYS[2], id)
  redis.call('HDEL', KEYS[3], id); redis.call('HDEL', KEYS[4], id); redis.call('HDEL', KEYS[5], id)
end
local top = redis.call('ZPOPMIN', KEYS[1])
if #top == 0 then return {#expired} end
redis.call('SREM', KEYS[7], ARGV[2])  -- busy again: not idle until its next idle pass
local id = tostring(redis.call('INCR', KEYS[6]))
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[1]), id)
redis.call('HSET', KEYS[3], id, top[1]); redis.call('HSET', KEYS[4], id, top[2]); redis.call('HSET', KEYS[5], id, ARGV[2])
return {#expired, id, top[1]}
"""

# KEYS: leases, lease:request, lease:score, lease:owner. ARGV: lease ids. Returns how many were still held.
_ACK = """
local n = 0
for _, id in ipairs(ARGV) do
  n = n + redis.call('ZREM', KEYS[1], id)
  redis.call('HDEL', KEYS[2], id); redis.call('HDEL', KEYS[3], id); redis.call('HDEL', KEYS[4], id)
end
return n
"""

# Give leases back to the frontier now (a worker closing without finishing them).
# KEYS: frontier, leases, lease:request, lease:score, lease:owner. ARGV: lease ids.
_RELEASE = """
local n = 0
for _, id in ipairs(ARGV) do
  local data = redis.call('HGET', KEYS[3], id)
  if data and redis.call('ZREM', KEYS[2], id) == 1 then
    redis.call('ZADD', KEYS[1], redis.call('HGET', KEYS[4], id) or 0, data); n = n + 1
  end
  redis.call('HDEL', KEYS[3], id); redis.call('HDEL', KEYS[4], id); redis.call('HDEL', KEYS[5], id)
end
return n
"""

# KEYS: leases. ARGV: lease seconds, lease ids. Pushes the deadline of leases still held (XX: an
# expired one that another worker has re-leased meanwhile is not resurrected).
_RENEW = _NOW + """
local n = 0
for i = 2, #ARGV do
  if redis.call('ZSCORE', KEYS[1], ARGV[i]) then
    redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[1]), ARGV[i]); n = n + 1
  end
end
return n
"""

# The start request, pushed by the first worker only (and only while no crawl runs or just finished).
# KEYS: seeded, done, frontier, seen. ARGV: crawl id, score, encoded request, fingerprint.
_SEED = """
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[3])
redis.call('SADD', KEYS[4], ARGV[4])
return 1
"""

# A worker found nothing to do: is the crawl over? It is when the frontier is empty, no lease is out
# and every live worker is idle (has run its end-of-crawl follow-ups, the moved-thread stubs, and
# pushed nothing). KEYS: frontier, leases, seeded, done, workers, idle, then the per-crawl keys to
# delete. ARGV: seconds a finished crawl stays finished, this worker, worker key prefix.
# Returns 'pending', 'waiting' (for other workers), 'finished' or 'lost' (Redis has neither the crawl
# nor its end: it lost its data).
_FINISH = """
if redis.call('ZCARD', KEYS[1]) > 0 or redis.call('ZCARD', KEYS[2]) > 0 then return 'pending' end
if redis.call('EXISTS', KEYS[3]) == 0 and redis.call('EXISTS', KEYS[4]) == 1 then return 'finished' end
redis.call('SADD', KEYS[6], ARGV[2])
for _, worker in ipairs(redis.call('SMEMBERS', KEYS[5])) do
  if redis.call('EXISTS', ARGV[3] .. worker) == 0 then
    redis.call('SREM', KEYS[5], worker); redis.call('SREM', KEYS[6], worker)
  elseif redis.call('SISMEMBER', KEYS[6], worker) == 0 then
    return 'waiting'
  end
end
local crawl = redis.call('GET', KEYS[3])
if crawl then
  redis.call('SET', KEYS[4], crawl, 'EX', tonumber(ARGV[1]))
  redis.call('DEL', KEYS[3])
  for i = 7, #KEYS do redis.call('DEL', KEYS[i]) end
  return 'finished'
end
if redis.call('EXISTS', KEYS[4]) == 1 then return 'finished' end
return 'lost'
"""


class LeasedQueue(PriorityQueue):
    """scrapy-redis's priority queue (score = -priority, same encoding), with leases."""

    def __init__(self, server, spider, key, serializer=None, *, keys: CrawlKeys, lease_seconds: float, worker_id: str):
        super().__init__(server, spider, key, serializer)
        self.keys = keys
        self.lease_seconds = lease_seconds
        self.worker_id = worker_id
        self._pop = server.register_script(_POP)
        self._ack = server.register_script(_ACK)
        self._release = server.register_script(_RELEASE)
        self._renew = server.register_script(_RENEW)
        self._seed = server.register_script(_SEED)
        self._finish = server.register_script(_FINISH)
        self.expired_put_back = 0

    def _lease_keys(self) -> list[str]:
        k = self.keys
        return [k.leases, k.lease_data, k.lease_score, k.lease_owner]

    def push(self, request, replaces: str | None = None):
        """Push ``request``; with ``replaces``, acknowledge that lease in the same transaction (a retry
        or redirect of a leased request takes its place in the frontier)."""
        data = self._encode_request(request)
        if replaces is None:
            self.server.execute_command("ZADD", self.key, -request.priority, data)
            return
        pipe = self.server.pipeline(transaction=True)
        pipe.execute_command("ZADD", self.key, -request.priority, data)
        self._ack(keys=self._lease_keys(), args=[replaces], client=pipe)
        pipe.execute()

    def pop_leased(self):
        """(lease id, request) of the frontier's first request, now leased to this worker, or None."""
        k = self.keys
        result = self._pop(keys=[self.key, k.leases, k.lease_data, k.lease_score, k.lease_owner, k.lease_seq, k.idle],
                           args=[self.lease_seconds, self.worker_id])
        self.expired_put_back += int(result[0])
        if len(result) < 3:
            return None
        lease = result[1].decode() if isinstance(result[1], bytes) else str(result[1])
        return lease, self._decode_request(result[2])

    def pop(self, timeout=0):
        # scrapy-redis's Scheduler.next_request calls pop(); the lease id travels in the request's meta.
        from miata_spiders.distributed import LEASE_META

        leased = self.pop_leased()
        if leased is None:
            return None
        lease, request = leased
        request.meta[LEASE_META] = lease
        return request

    def ack(self, leases) -> int:
        return int(self._ack(keys=self._lease_keys(), args=list(leases))) if leases else 0

    def release(self, leases) -> int:
        return int(self._release(keys=[self.key, *self._lease_keys()], args=list(leases))) if leases else 0

    def renew(self, leases) -> int:
        return int(self._renew(keys=[self.keys.leases], args=[self.lease_seconds, *leases])) if leases else 0

    def seed(self, request, crawl_id: str, fingerprint: str) -> bool:
        k = self.keys
        return bool(self._seed(keys=[k.seeded, k.done, self.key, k.seen],
                               args=[crawl_id, -request.priority, self._encode_request(request), fingerprint]))

    def finish_check(self, finished_ttl: float) -> str:
        k = self.keys
        extra = [key for key in k.per_crawl() if key != k.seeded]
        result = self._finish(keys=[self.key, k.leases, k.seeded, k.done, k.workers, k.idle, *extra],
                              args=[int(finished_ttl), self.worker_id, k.worker_prefix])
        return result.decode() if isinstance(result, bytes) else result

    def pending(self) -> tuple[int, int]:
        """(requests in the frontier, leases outstanding) across every worker."""
        pipe = self.server.pipeline(transaction=False)
        pipe.zcard(self.key).zcard(self.keys.leases)
        frontier, leases = pipe.execute()
        return int(frontier), int(leases)

    def __len__(self):
        return self.server.zcard(self.key)
