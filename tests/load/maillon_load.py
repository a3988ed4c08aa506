#!/usr/bin/env python3
"""Whole-system load generator (issue 22), run by script/load: simulated members through the
gateway at a fixed arrival rate, from many 127.0.0.x source addresses.

Open model: every flow (one member's errand: an exchange from proposal to payment, a browse, a
post that gets matched, a depot drop and pick-up, a transfer) is due at its arrival time whether
or not earlier ones were answered, and each call's latency counts from the moment it was due
(arrival, or the previous step's answer), including any wait for a free connection. Overload
therefore shows as latency, never as a lower request rate.

The rate is in exchanges started per second; the realistic mix adds its other flows in fixed
proportion to it (MIXES below), so "100 exchanges per second inside the realistic mix" is
`--mix realistic --rate 100`. Standard library only: asyncio and a small HTTP/1.1 client, so
that the generator stays light beside the services on a 2-core machine (its own CPU is printed).
"""

import argparse
import asyncio
import gc
import json
import os
import random
import re
import subprocess
import sys
import time
import urllib.parse
import uuid
from collections import Counter, defaultdict

P99_BUDGET_MS = 150.0  # every member-facing call (issue 22's "Done when")
ERROR_BUDGET = 0.01  # at most 1 % of an operation's calls may fail in a passing step
COMPLETION_BUDGET = 0.95  # at least 95 % of the exchanges started must be paid
REQUEST_TIMEOUT_S = 30.0
POLL_FIRST_S = 0.005  # polls wait 5 ms, then twice as long each time, up to POLL_MAX_S
POLL_MAX_S = 0.05
POLL_GIVE_UP_S = 20.0
DRAIN_S = 30.0  # after the last arrival, flows still running get this long to finish
IDLE_PER_ADDRESS = 3  # keep-alive connections kept per source address
SIGNUP_BONUS_MINUTES = 600
PRICE_MINUTES = 1  # every exchange and transfer moves one minute: balances only wander
LILLE = (50.63, 3.07)

# Flows per exchange started. "exchange_full" is the whole errand as a member lives it (search,
# look at the offer, propose with a message, accept, both confirm, paid, both rate); "exchange"
# is its core (propose, accept, both confirm, paid) for the exchanges-alone mode.
MIXES = {
    "realistic": {"exchange_full": 1.0, "browse": 1.0, "post_match": 0.3, "depot": 0.1,
                  "transfer": 0.5},
    "exchanges": {"exchange": 1.0},
}
GOALS = {"realistic": 100.0, "exchanges": 200.0}  # completed exchanges per second
COMMITS_PER_EXCHANGE = 15.0  # the estimate, to set exchanges/s against pgbench


def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(p * len(sorted_values)))]


# ---------------------------------------------------------------------------------------------
# HTTP/1.1 client: keep-alive connections per source address, a bound on calls in flight.

class TransportError(Exception):
    pass


async def read_response(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length, chunked, keep = None, False, True
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
        elif name == b"connection" and b"close" in value.lower():
            keep = False
    if status in (204, 304) or status < 200:
        return status, b"", keep
    if chunked:
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            parts.append((await reader.readexactly(size + 2))[:-2])
        return status, b"".join(parts), keep
    if length is None:
        return status, await reader.read(), False
    return status, await reader.readexactly(length), keep


class Http:
    def __init__(self, host, port, in_flight):
        self.host, self.port = host, port
        self.host_header = "%s:%d" % (host, port)
        self.idle = {}
        self.gate = asyncio.Semaphore(in_flight)

    async def call(self, address, method, path, body=None, token=None):
        """(status, body bytes); for a transport failure or a timeout the status is a word saying
        which (so that the report tells a reset from a refused connection from a timeout)."""
        payload = b"" if body is None else json.dumps(body).encode()
        head = "%s %s HTTP/1.1\r\nHost: %s\r\n" % (method, path, self.host_header)
        if token:
            head += "Authorization: Bearer %s\r\n" % token
        if body is not None:
            head += "Content-Type: application/json\r\n"
        request = (head + "Content-Length: %d\r\n\r\n" % len(payload)).encode() + payload
        async with self.gate:
            try:
                async with asyncio.timeout(REQUEST_TIMEOUT_S):
                    return await self._send(address, request)
            except TimeoutError:
                return "timeout", b""
            except TransportError as e:
                return "transport: " + str(e)[:60], b""

    async def _send(self, address, request):
        pool = self.idle.setdefault(address, [])
        for attempt in (0, 1):
            # The retry takes a fresh connection: the other idle ones may have been closed too
            # (the gateway drops keep-alive connections idle for 75 s, e.g. since the set-up).
            reused = bool(pool) and attempt == 0
            if reused:
                reader, writer = pool.pop()
            else:
                try:
                    reader, writer = await asyncio.open_connection(
                        self.host, self.port, local_addr=(address, 0), limit=1 << 20)
                except OSError as e:
                    raise TransportError("connect %s" % (e.strerror or type(e).__name__))
            try:
                writer.write(request)
                status, data, keep = await read_response(reader)
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError,
                    IndexError) as e:
                writer.close()
                if reused and attempt == 0:
                    continue  # the gateway closed an idle keep-alive connection: a fresh one
                raise TransportError("%s %s" % (type(e).__name__, getattr(e, "strerror", "") or ""))
            except BaseException:
                writer.close()
                raise
            if keep and len(pool) < IDLE_PER_ADDRESS:
                pool.append((reader, writer))
            else:
                writer.close()
            return status, data
        raise TransportError("unreachable")

    def close(self):
        for pool in self.idle.values():
            for _, writer in pool:
                writer.close()
        self.idle.clear()


# ---------------------------------------------------------------------------------------------
# Results of one step: latencies per operation, refusals by status, end-to-end times, flows.

class Stats:
    def __init__(self):
        self.latency = defaultdict(list)
        self.errors = defaultdict(Counter)
        self.e2e = defaultdict(list)
        self.e2e_timeouts = Counter()
        self.flows = Counter()  # "<flow>.started", "<flow>.done", "<flow>.failed"
        self.lateness_s_max = 0.0  # how late the scheduler started a flow (generator overload)


class Member:
    __slots__ = ("id", "token", "email", "address", "offer_id")

    def __init__(self, member_id, token, email, address):
        self.id, self.token, self.email, self.address = member_id, token, email, address
        self.offer_id = None


class World:
    """What the flows act on: the members, staff, site and the listings set up beforehand."""

    def __init__(self, http):
        self.http = http
        self.members = []
        self.staff = []
        self.site_id = None
        self.community_id = None
        self.anchors = []  # (side, id, owner index, (lat, lon)) that new posts match against

    def two_members(self):
        n = len(self.members)
        i = random.randrange(n)
        j = random.randrange(n - 1)
        if j >= i:
            j += 1
        return self.members[i], self.members[j]


def now():
    return time.monotonic()


async def op(w, st, name, due, who, method, path, body=None, ok=(200,)):
    """One member-facing call, timed from `due`. Returns (status, JSON or None, answered at)."""
    status, data = await w.http.call(who.address, method, path, body, who.token)
    done = now()
    if status in ok:
        st.latency[name].append(done - due)
    else:
        st.errors[name][status] += 1
    parsed = None
    if data and status in ok:
        try:
            parsed = json.loads(data)
        except ValueError:
            parsed = None
    return status, parsed, done


async def poll(w, st, name, who, path, ready, ok=(200,)):
    """Polls `path` until ready(json) is true; the answer time of that poll, and its JSON."""
    interval = POLL_FIRST_S
    give_up = now() + POLL_GIVE_UP_S
    while now() < give_up:
        await asyncio.sleep(interval)
        status, j, done = await op(w, st, name, now(), who, "GET", path, ok=ok)
        if status == 200 and j is not None and ready(j):
            return done, j
        if status not in ok:
            return None, None
        interval = min(interval * 2, POLL_MAX_S)
    return None, None


def search_path():
    q = random.choice(("devoirs", "maths", "aide", "devoirs maths"))
    return "/v1/offers?q=%s&near=%.4f,%.4f&radius_km=10&limit=20" % (
        urllib.parse.quote(q), LILLE[0] + random.uniform(-0.05, 0.05),
        LILLE[1] + random.uniform(-0.05, 0.05))


# ---------------------------------------------------------------------------------------------
# Flows. Each returns True when it went through; a refused step records its status and ends it.

async def flow_exchange(w, st, due, full=False):
    provider, receiver = w.two_members()
    xpath = None
    if full:  # the receiver looks around and at the offer first
        s, _, due = await op(w, st, "search", due, receiver, "GET", search_path())
        if s != 200:
            return False
        s, _, due = await op(w, st, "offer.view", due, receiver, "GET",
                             "/v1/offers/" + provider.offer_id)
        if s != 200:
            return False
    body = {"offer_id": provider.offer_id}
    if full:
        body["message"] = "Bonjour, mercredi 17 h ?"
    s, j, due = await op(w, st, "propose", due, receiver, "POST", "/v1/exchanges", body, (201,))
    if s != 201 or j is None:
        return False
    xpath = "/v1/exchanges/" + j["id"]
    if full:
        s, _, due = await op(w, st, "message", due, receiver, "POST", xpath + "/messages",
                             {"body": "Je peux passer vers 17 h, ça vous va ?"}, (201,))
        if s != 201:
            return False
    accept_due = due
    s, _, due = await op(w, st, "accept", due, provider, "POST", xpath + "/accept", None, (202,))
    if s != 202:
        return False
    seen, j = await poll(w, st, "poll.exchange", receiver, xpath,
                         lambda x: x.get("state") != "accepting")
    if seen is None:
        st.e2e_timeouts["accept→accepted"] += 1
        return False
    if j.get("state") != "accepted":
        st.errors["accept.outcome"][j.get("reason") or j.get("state")] += 1
        return False
    st.e2e["accept→accepted"].append(seen - accept_due)
    transfer = j.get("transfer_id")
    s, _, due = await op(w, st, "complete", seen, provider, "POST", xpath + "/complete")
    if s != 200:
        return False
    complete_due = due
    s, _, due = await op(w, st, "complete", due, receiver, "POST", xpath + "/complete")
    if s != 200:
        return False
    paid, _ = await poll(w, st, "poll.transfer", receiver, "/v1/ledger/transfers/%s" % transfer,
                         lambda x: x.get("state") == "posted")
    if paid is None:
        st.e2e_timeouts["complete→paid"] += 1
        return False
    st.e2e["complete→paid"].append(paid - complete_due)
    if not full:
        return True
    seen, _ = await poll(w, st, "poll.exchange", receiver, xpath,
                         lambda x: x.get("state") == "completed")
    if seen is None:
        st.e2e_timeouts["complete→completed"] += 1
        return False
    st.e2e["complete→completed"].append(seen - complete_due)
    for who, stars in ((receiver, 5), (provider, 4)):
        s, _, seen = await op(w, st, "rate", seen, who, "POST", xpath + "/rating",
                              {"stars": stars, "comment": "Merci !"}, (201,))
        if s != 201:
            return False
    return True


async def flow_exchange_full(w, st, due):
    return await flow_exchange(w, st, due, full=True)


async def flow_browse(w, st, due):
    who = random.choice(w.members)
    s, j, due = await op(w, st, "search", due, who, "GET", search_path())
    if s != 200:
        return False
    s, _, due = await op(w, st, "nearby", due, who, "GET",
                         "/v1/nearby?lat=%.4f&lon=%.4f&radius_km=5&kind=offer" % LILLE)
    if s != 200:
        return False
    items = (j or {}).get("items") or []
    offer_id = items[0]["id"] if items else random.choice(w.members).offer_id
    s, _, _ = await op(w, st, "offer.view", due, who, "GET", "/v1/offers/" + offer_id)
    return s == 200


def listing_body(lat, lon, title):
    return {"kind": "good", "mode": "lend", "category": "perceuses", "title": title,
            "reach_km": 2, "location": {"lat": round(lat, 6), "lon": round(lon, 6)}}


async def flow_post_match(w, st, due):
    """A member posts the counterpart of a listing nearby, waits for the match, then closes it."""
    side, _, owner, (lat, lon) = random.choice(w.anchors)
    who = w.members[(owner + 1 + random.randrange(len(w.members) - 1)) % len(w.members)]
    mine = "request" if side == "offer" else "offer"
    body = listing_body(lat + random.uniform(-0.001, 0.001), lon + random.uniform(-0.001, 0.001),
                        "Perceuse à emprunter" if mine == "request" else "Perceuse à prêter")
    s, j, posted = await op(w, st, "post", due, who, "POST", "/v1/%ss" % mine, body, (201,))
    if s != 201 or j is None:
        return False
    listing = j["id"]
    # Before matching has read the listing's event it answers 404 (not yet its listing).
    seen, _ = await poll(w, st, "poll.matches", who, "/v1/matches?listing=%s:%s" % (mine, listing),
                         lambda x: bool(x.get("items")), ok=(200, 404))
    if seen is None:
        st.e2e_timeouts["listing→match"] += 1
        return False
    st.e2e["listing→match"].append(seen - due)
    s, _, _ = await op(w, st, "close", seen, who, "DELETE", "/v1/%ss/%s" % (mine, listing),
                       None, (204,))
    return s == 204


async def flow_depot(w, st, due):
    """Staff take in an object someone drops, a member reserves it, staff hand it over."""
    staff = random.choice(w.staff)
    dropper, taker = w.two_members()
    body = {"category": "perceuses", "title": "Perceuse déposée", "condition": "good",
            "weight_g": 1800, "mode": "give", "dropped_by_member_id": dropper.id}
    s, j, due = await op(w, st, "depot.intake", due, staff, "POST",
                         "/v1/sites/%s/items" % w.site_id, body, (201,))
    if s != 201 or j is None:
        return False
    item = "/v1/items/" + j["id"]
    s, _, due = await op(w, st, "depot.reserve", due, taker, "POST", item + "/reserve")
    if s != 200:
        return False
    s, _, _ = await op(w, st, "depot.collect", due, staff, "POST", item + "/collect", {})
    return s == 200


async def flow_transfer(w, st, due):
    payer, payee = w.two_members()
    body = {"id": str(uuid.uuid4()), "to_member_id": payee.id, "minutes": PRICE_MINUTES}
    s, _, _ = await op(w, st, "transfer", due, payer, "POST", "/v1/ledger/transfers", body,
                       (201,))
    return s == 201


FLOWS = {"exchange": flow_exchange, "exchange_full": flow_exchange_full, "browse": flow_browse,
         "post_match": flow_post_match, "depot": flow_depot, "transfer": flow_transfer}


# ---------------------------------------------------------------------------------------------
# Set-up through the gateway, as the administrator: a community, a site, members and staff.

class Admin:
    __slots__ = ("token", "address")

    def __init__(self, token):
        self.token, self.address = token, "127.0.0.1"


async def must(http, who, method, path, body, expect, what):
    for _ in range(600):
        s, data = await http.call(who.address, method, path, body, who.token)
        if s in expect:
            return json.loads(data) if data else None
        if not isinstance(s, str) and s not in (429, 503):
            raise SystemExit("load: set-up step '%s' answered %s: %s" % (what, s, data[:300]))
        await asyncio.sleep(0.1)
    raise SystemExit("load: set-up step '%s' kept failing" % what)


async def setup(http, args, log):
    email, password = args.admin_email, args.admin_password
    s, data = await http.call("127.0.0.1", "POST", "/v1/auth/login",
                              {"email": email, "password": password})
    if s != 200:
        raise SystemExit("load: admin login answered %s (MAILLON_ADMIN_EMAIL/PASSWORD?)" % s)
    admin = Admin(json.loads(data)["token"])
    suffix = uuid.uuid4().hex[:8]
    policy = {"min_balance": -600, "max_balance": 6000, "signup_bonus": SIGNUP_BONUS_MINUTES,
              "monthly_allowance": 0, "deposit_reward": 1, "max_active_reservations": 100}
    c = await must(http, admin, "POST", "/v1/communities",
                   {"name": "Charge " + suffix, "policy": policy}, (201,), "community")
    site = await must(http, admin, "POST", "/v1/sites",
                      {"community_id": c["id"], "name": "Tiers-lieu " + suffix,
                       "kind": "tiers_lieu", "location": {"lat": LILLE[0], "lon": LILLE[1]},
                       "address": "Lille"}, (201,), "site")
    w = World(http)
    w.community_id, w.site_id = c["id"], site["id"]
    addresses = ["127.0.%d.%d" % (1 + i // 250, 2 + i % 250) for i in range(args.addresses)]
    sem = asyncio.Semaphore(8)

    async def register(i, staff):
        email = "charge.%s.%s%d@load.maillon.test" % (suffix, "staff" if staff else "m", i)
        async with sem:
            j = await must(http, admin, "POST", "/v1/auth/register",
                           {"email": email, "password": "mot-de-passe-1",
                            "display_name": ("Accueil %d" if staff else "Membre %d") % i,
                            "community_id": c["id"], "home_site_id": site["id"]},
                           (200, 201), "register")
        return Member(j["member"]["id"], j["token"], email, addresses[i % len(addresses)])

    t0 = now()
    w.members = list(await asyncio.gather(*(register(i, False) for i in range(args.members))))
    w.staff = list(await asyncio.gather(*(register(i, True) for i in range(args.staff))))
    log("registered %d members and %d staff in %.1f s" % (len(w.members), len(w.staff), now() - t0))
    for m in w.staff:  # roles are read at login: make them staff, then sign in again
        await must(http, admin, "POST", "/v1/sites/%s/staff" % site["id"], {"member_id": m.id},
                   (204,), "staff")
        j = await must(http, m, "POST", "/v1/auth/login",
                       {"email": m.email, "password": "mot-de-passe-1"}, (200,), "staff login")
        m.token = j["token"]
    await funded(http, w.members + w.staff)
    await post_offers(http, w)
    if args.mix == "realistic":
        await post_anchors(http, w)
        await must(http, w.staff[0], "POST", "/v1/sites/%s/items" % site["id"],
                   {"category": "perceuses", "title": "Perceuse d'essai", "condition": "good",
                    "weight_g": 1800, "mode": "give"}, (201,), "first depot intake")
    log("set-up done in %.1f s (community %s)" % (now() - t0, c["id"]))
    return w


async def funded(http, members):
    """Waits until the ledger has opened every account with its signup bonus."""
    async def one(m):
        for _ in range(600):
            s, data = await http.call(m.address, "GET", "/v1/ledger/accounts/" + m.id, None,
                                      m.token)
            if s == 200 and json.loads(data).get("balance_minutes") == SIGNUP_BONUS_MINUTES:
                return
            await asyncio.sleep(0.1)
        raise SystemExit("load: member %s never got the signup bonus" % m.id)
    await asyncio.gather(*(one(m) for m in members))


async def post_offers(http, w):
    """One service offer per member (a service stays active while its exchanges run)."""
    sem = asyncio.Semaphore(16)

    async def one(m):
        body = {"kind": "service", "mode": "service", "category": "aide-aux-devoirs",
                "title": "Aide aux devoirs de maths", "duration_minutes": 60,
                "price_minutes": PRICE_MINUTES,
                "location": {"lat": round(LILLE[0] + random.uniform(-0.05, 0.05), 5),
                             "lon": round(LILLE[1] + random.uniform(-0.08, 0.08), 5)}}
        async with sem:
            m.offer_id = (await must(http, m, "POST", "/v1/offers", body, (201,), "offer"))["id"]
    await asyncio.gather(*(one(m) for m in w.members))


async def post_anchors(http, w, count=40):
    """Listings spread over the metropolis that each new post in the mix matches against."""
    for k in range(count):
        side = "offer" if k % 2 else "request"
        owner = random.randrange(len(w.members))
        spot = (50.55 + 0.16 * random.random(), 2.95 + 0.25 * random.random())
        j = await must(http, w.members[owner], "POST", "/v1/%ss" % side,
                       listing_body(spot[0], spot[1], "Perceuse (repère)"), (201,), "anchor")
        w.anchors.append((side, j["id"], owner, spot))


# ---------------------------------------------------------------------------------------------
# What the processes cost: CPU from /proc/<pid>/stat deltas, memory from /proc/<pid>/status.

CLK_TCK = os.sysconf("SC_CLK_TCK")


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def cpu_ticks(pid):
    stat = read("/proc/%d/stat" % pid)
    if stat is None:
        return None
    fields = stat[stat.rindex(b")") + 2:].split()
    return int(fields[11]) + int(fields[12])  # utime + stime (fields 14 and 15)


def memory_kib(pid):
    status = read("/proc/%d/status" % pid) or b""
    out = {}
    for line in status.split(b"\n"):
        if line.startswith((b"VmRSS:", b"VmHWM:")):
            out[line[:5].decode()] = int(line.split()[1])
    return out.get("VmRSS", 0), out.get("VmHWM", 0)


def all_pids():
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


class Processes:
    """The groups of processes to account: each service instance, nginx, PostgreSQL, Redis."""

    def __init__(self, stack_dir, database_url):
        self.stack_dir, self.database_url = stack_dir, database_url
        self.database = urllib.parse.urlsplit(database_url).path.lstrip("/") if database_url else None

    def groups(self):
        groups = {}
        run = os.path.join(self.stack_dir, "run")
        names = (read(os.path.join(run, "services")) or b"").decode().split()
        for name in names:
            pid = (read(os.path.join(run, name + ".pid")) or b"").strip()
            if pid.isdigit():
                groups[name] = [int(pid)]
        nginx_pid = (read(os.path.join(self.stack_dir, "nginx", "logs", "nginx.pid")) or b"").strip()
        pg_ours, pg_all, redis, nginx = [], [], [], []
        for pid in all_pids():
            cmd = read("/proc/%d/cmdline" % pid)
            if not cmd:
                continue
            if cmd.startswith(b"postgres"):
                pg_all.append(pid)
                if self.database and (b" %s " % self.database.encode()) in cmd:
                    pg_ours.append(pid)
            elif cmd.startswith(b"redis-server") or b"/redis-server" in cmd.split(b"\0")[0]:
                redis.append(pid)
            elif nginx_pid and cmd.startswith(b"nginx"):
                stat = read("/proc/%d/stat" % pid) or b""
                ppid = stat[stat.rindex(b")") + 2:].split()[1] if stat else b""
                if str(pid).encode() == nginx_pid or ppid == nginx_pid:
                    nginx.append(pid)
        if nginx:
            groups["nginx (gateway)"] = nginx
        if pg_ours:
            groups["postgres (%s backends)" % self.database] = pg_ours
            for name, pids in backends_by_service(groups, self.database_url).items():
                groups["postgres for " + name] = pids
        groups["postgres (whole server)"] = pg_all
        groups["redis (whole server)"] = redis
        groups["load generator"] = [os.getpid()]
        return groups

    def snapshot(self):
        ticks = {}
        for name, pids in self.groups().items():
            ticks[name] = {pid: cpu_ticks(pid) for pid in pids}
        return ticks


def backends_by_service(services, database_url):
    """Which service each PostgreSQL backend of the stack's database serves: the backend's client
    port (pg_stat_activity) is the local port of a socket that the service's process holds."""
    if not database_url:
        return {}
    try:
        out = subprocess.run(["psql", "-X", "-Atq", "-F", " ", database_url, "-c",
                              "SELECT pid, client_port FROM pg_stat_activity WHERE datname = "
                              "current_database() AND pid <> pg_backend_pid()"],
                             capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    backend_of_port = {}
    for line in out.split("\n"):
        fields = line.split()
        if len(fields) == 2 and fields[1].lstrip("-").isdigit():
            backend_of_port[int(fields[1])] = int(fields[0])
    inode_port = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in (read(table) or b"").split(b"\n")[1:]:
            cols = row.split()
            if len(cols) > 9:
                inode_port[cols[9]] = int(cols[1].rsplit(b":", 1)[1], 16)
    found = {}
    for name, pids in services.items():
        for pid in pids:
            try:
                links = [os.readlink("/proc/%d/fd/%s" % (pid, fd))
                         for fd in os.listdir("/proc/%d/fd" % pid)]
            except OSError:
                continue
            for link in links:
                if link.startswith("socket:["):
                    port = inode_port.get(link[8:-1].encode())
                    if port in backend_of_port:
                        found.setdefault(name, []).append(backend_of_port[port])
    return found


def cpu_percent(before, after, seconds):
    out = {}
    for name, pids in after.items():
        total = 0
        for pid, t in pids.items():
            if t is None:
                continue
            total += t - (before.get(name, {}).get(pid) or 0)
        out[name] = 100.0 * total / CLK_TCK / seconds
    return out


def machine_ticks():
    fields = [int(x) for x in read("/proc/stat").split(b"\n")[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields), idle


def load_average():
    return " ".join(read("/proc/loadavg").decode().split()[:3])


def psql_value(database_url, sql):
    out = subprocess.run(["psql", "-X", "-Atq", database_url, "-c", sql],
                         capture_output=True, text=True, timeout=20)
    if out.returncode != 0:
        raise ValueError(out.stderr.strip())
    return out.stdout.strip()


def pg_int(database_url, sql):
    """One integer from the stack's database, or None (no URL, or psql could not tell)."""
    if not database_url:
        return None
    try:
        return int(psql_value(database_url, sql))
    except (OSError, ValueError, subprocess.SubprocessError):
        return None


def pg_commits(database_url):
    return pg_int(database_url, "SELECT xact_commit FROM pg_stat_database "
                                "WHERE datname = current_database()")


def pg_xids(database_url):
    """Transaction ids handed out so far by the whole server: one per transaction that writes
    (a read, even one counted as a commit, takes none), so the rate that costs WAL and fsyncs."""
    return pg_int(database_url, "SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint")


def pg_rows(database_url):
    """Rows inserted, updated and deleted so far per table of the stack's database."""
    if not database_url:
        return {}
    try:
        out = subprocess.run(["psql", "-X", "-Atq", "-F", " ", database_url, "-c",
                              "SELECT schemaname || '.' || relname, n_tup_ins, n_tup_upd, "
                              "n_tup_del FROM pg_stat_user_tables"],
                             capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    rows = {}
    for line in out.split("\n"):
        fields = line.split()
        if len(fields) == 4:
            rows[fields[0]] = tuple(int(x) for x in fields[1:])
    return rows


def rows_delta(before, after):
    out = {}
    for table, counts in after.items():
        old = before.get(table, (0, 0, 0))
        delta = tuple(a - b for a, b in zip(counts, old))
        if any(delta):
            out[table] = delta
    return out


def mails_waiting(database_url):
    """Mails the services still have to send (their queues' pending and sending rows): the
    members' verification mails of the set-up go out at a steady pace for a while."""
    if not database_url:
        return None
    try:
        schemas = psql_value(database_url, "SELECT table_schema FROM information_schema.tables "
                                           "WHERE table_name = 'mail_queue'").split()
        if not schemas:
            return 0
        counts = " UNION ALL ".join(
            "SELECT count(*) AS n FROM \"%s\".mail_queue WHERE state IN ('pending', 'sending')"
            % schema.replace('"', '""') for schema in schemas)
    except (OSError, ValueError, subprocess.SubprocessError):
        return None
    return pg_int(database_url, "SELECT sum(n) FROM (%s) q" % counts)


# A backend that goes idle less than a second after its last report holds its counts back for up
# to 10 s (PostgreSQL 15's PGSTAT_IDLE_INTERVAL): the set-up's commits keep arriving in
# pg_stat_database that long after it ends, and would be counted as the stack's rest. So the
# rest is reached when the commit rate has held still for longer than that.
STATS_IDLE_FLUSH_S = 10.0
SETTLE_WINDOW_S = 2.0


def steady(windows):
    """Whether the last windows, spanning more than the statistics' idle flush, agree."""
    span = int(STATS_IDLE_FLUSH_S / SETTLE_WINDOW_S) + 1
    last = windows[-span:]
    return len(last) == span and max(last) - min(last) <= max(20, 0.2 * min(last))


async def settle(database_url, most_s=60.0):
    """Waits until the stack has caught up with the set-up: no mail left to send, then a commit
    rate that holds still across the statistics' idle flush; at most most_s seconds in all."""
    if not database_url:
        return
    give_up = now() + most_s
    while now() < give_up and (mails_waiting(database_url) or 0) > 0:
        await asyncio.sleep(1.0)
    windows, count = [], pg_commits(database_url)
    while now() < give_up and count is not None and not steady(windows):
        await asyncio.sleep(SETTLE_WINDOW_S)
        later = pg_commits(database_url)
        if later is None:
            return
        windows.append(later - count)
        count = later


async def at_rest(procs, database_url, seconds=5.0):
    """Commits per second and CPU with no load: the services' pollers and relays work at rest
    too, and what the load costs is what comes on top. Measured once the set-up's aftermath has
    settled, or the work it leaves would be counted as the rest and taken off every step."""
    await settle(database_url)
    before, cpu_before = pg_commits(database_url), procs.snapshot()
    xids_before = pg_xids(database_url)
    start = now()
    await asyncio.sleep(seconds)
    cpu = cpu_percent(cpu_before, procs.snapshot(), now() - start)
    after, xids_after = pg_commits(database_url), pg_xids(database_url)
    return (per_second(before, after, seconds), cpu, per_second(xids_before, xids_after, seconds))


def per_second(before, after, seconds):
    return None if before is None or after is None else (after - before) / seconds


def database_url_of_stack(stack_dir):
    """The stack's DATABASE_URL, from the environment of its first running service."""
    run = os.path.join(stack_dir, "run")
    for name in (read(os.path.join(run, "services")) or b"").decode().split():
        pid = (read(os.path.join(run, name + ".pid")) or b"").strip()
        env = read("/proc/%s/environ" % pid.decode()) if pid.isdigit() else None
        for entry in (env or b"").split(b"\0"):
            if entry.startswith(b"DATABASE_URL="):
                return entry.split(b"=", 1)[1].decode()
    return None


def pgbench_tps(database_url, log):
    """pgbench TPC-B on a scratch database of the same server: the yardstick of this run."""
    if not database_url:
        return None
    parts = urllib.parse.urlsplit(database_url)
    scratch = (parts.path.lstrip("/") or "maillon") + "_pgbench"
    admin_url = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    url = urllib.parse.urlunsplit(parts._replace(path="/" + scratch))
    drop = ["psql", "-X", "-q", admin_url, "-c", "DROP DATABASE IF EXISTS %s WITH (FORCE)" % scratch]
    try:
        subprocess.run(drop, check=True, capture_output=True, timeout=60)
        subprocess.run(["psql", "-X", "-q", admin_url, "-c", "CREATE DATABASE %s" % scratch],
                       check=True, capture_output=True, timeout=60)
        subprocess.run(["pgbench", "-q", "-i", "-s", "8", url], check=True, capture_output=True,
                       timeout=300)
        la = load_average()
        out = subprocess.run(["pgbench", "-c", "8", "-j", "2", "-T", "10", url],
                             capture_output=True, text=True, timeout=120).stdout
        m = re.search(r"^tps = ([0-9.]+)", out, re.M)
        tps = float(m.group(1)) if m else None
        log("pgbench TPC-B (scale 8, -c 8 -j 2 -T 10, load average %s): %s tps" % (la, tps))
        return tps
    except (OSError, subprocess.SubprocessError) as e:
        log("pgbench failed: %s" % e)
        return None
    finally:
        subprocess.run(drop, capture_output=True, timeout=60)


# ---------------------------------------------------------------------------------------------
# One step at a fixed rate, and its report.

async def run_step(w, args, rate, procs, database_url):
    st = Stats()
    loop_start = now()
    arrivals = []
    for name, weight in MIXES[args.mix].items():
        r = weight * rate
        if r <= 0:
            continue
        phase = random.random()
        k = 0
        while (k + phase) / r < args.seconds:
            arrivals.append(((k + phase) / r, name))
            k += 1
    arrivals.sort()
    gc.collect()
    commits_before, rows_before = pg_commits(database_url), pg_rows(database_url)
    xids_before = pg_xids(database_url)
    cpu_before, machine_before = procs.snapshot(), machine_ticks()
    la_start = load_average()
    start = now()
    tasks = set()

    async def run_flow(name, due):
        st.flows[name + ".started"] += 1
        try:
            ok = await FLOWS[name](w, st, due)
        except Exception as e:  # a bug here must not hide the rest of the run
            st.errors[name + ".crash"][type(e).__name__] += 1
            ok = False
        st.flows[name + (".done" if ok else ".failed")] += 1

    for offset, name in arrivals:
        due = start + offset
        delay = due - now()
        if delay > 0:
            await asyncio.sleep(delay)
        else:
            st.lateness_s_max = max(st.lateness_s_max, -delay)
        task = asyncio.create_task(run_flow(name, due))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    delay = start + args.seconds - now()
    if delay > 0:
        await asyncio.sleep(delay)
    window = now() - start
    cpu_after, machine_after = procs.snapshot(), machine_ticks()
    commits_after, rows_after = pg_commits(database_url), pg_rows(database_url)
    xids_after = pg_xids(database_url)
    la_end = load_average()
    if tasks:
        await asyncio.wait(set(tasks), timeout=DRAIN_S)
    unfinished = len(tasks)
    for task in list(tasks):
        task.cancel()
    total = machine_after[0] - machine_before[0]
    busy_cores = (os.cpu_count() or 1) * (1 - (machine_after[1] - machine_before[1]) / max(1, total))
    mem = {name: [memory_kib(pid) for pid in pids] for name, pids in procs.groups().items()}
    return {"stats": st, "rate": rate, "window": window, "cpu": cpu_percent(cpu_before, cpu_after,
            window), "mem": mem, "busy_cores": busy_cores, "la": (la_start, la_end),
            "commits": per_second(commits_before, commits_after, window),
            "writes": per_second(xids_before, xids_after, window), "unfinished": unfinished,
            "rows": rows_delta(rows_before, rows_after),
            "since_start": loop_start}


def exchanges_completed(st):
    return st.flows["exchange.done"] + st.flows["exchange_full.done"]


def exchanges_started(st):
    return st.flows["exchange.started"] + st.flows["exchange_full.started"]


def cpu_cost_ms(result, paid):
    """CPU milliseconds per exchange paid that the stack spent above its rest: measured on a
    shared machine, it says what the stack would carry alone better than the latencies do."""
    if not paid:
        return None
    cpu, rest = result["cpu"], result.get("idle_cpu") or {}
    parts = {"services": 0.0, "postgres": 0.0, "gateway": 0.0}
    for name, pct in cpu.items():
        if name.endswith(" backends)"):
            part = "postgres"
        elif name == "nginx (gateway)":
            part = "gateway"
        elif name.startswith(("postgres", "redis", "load generator")):
            continue  # the whole server's figures include the other tenants
        else:
            part = "services"
        parts[part] += max(0.0, pct - rest.get(name, 0.0)) * 10.0 * result["window"] / paid
    parts["total"] = sum(parts.values())
    return parts if parts["total"] > 0 else None


def verdict(result):
    """Why the step fails the budgets, or an empty list when it passes."""
    st, why = result["stats"], []
    for name in sorted(set(st.latency) | set(st.errors)):
        lat = sorted(st.latency[name])
        failed = sum(st.errors[name].values())
        p99 = percentile(lat, 0.99) * 1000 if lat else float("inf")
        if p99 > P99_BUDGET_MS:
            why.append("%s p99 %.0f ms > %.0f" % (name, p99, P99_BUDGET_MS))
        if failed > ERROR_BUDGET * (failed + len(lat)):
            why.append("%s failed %d of %d" % (name, failed, failed + len(lat)))
    started = exchanges_started(st)
    if started and exchanges_completed(st) < COMPLETION_BUDGET * started:
        why.append("exchanges paid %d of %d started" % (exchanges_completed(st), started))
    return why


def print_step(result, args):
    st, window = result["stats"], result["window"]
    print("\n== mix=%s rate=%.0f exchanges/s offered for %.0f s; load average %s at start, %s at "
          "end; machine CPU busy %.2f of %d cores" % (
              args.mix, result["rate"], window, result["la"][0], result["la"][1],
              result["busy_cores"], os.cpu_count() or 1))
    print("| operation | ok | req/s | p50 ms | p99 ms | p999 ms | failed (by status) |")
    print("|---|---|---|---|---|---|---|")
    for name in sorted(set(st.latency) | set(st.errors)):
        lat = sorted(st.latency[name])
        print("| %s | %d | %.1f | %.1f | %.1f | %.1f | %s |" % (
            name, len(lat), len(lat) / window, percentile(lat, 0.5) * 1000,
            percentile(lat, 0.99) * 1000, percentile(lat, 0.999) * 1000,
            json.dumps({str(k): v for k, v in st.errors[name].items()}, sort_keys=True)
            if st.errors[name] else ""))
    if st.e2e or st.e2e_timeouts:
        print("| end to end (polls every %g–%g ms) | n | p50 ms | p99 ms | p999 ms | gave up |" % (
            POLL_FIRST_S * 1000, POLL_MAX_S * 1000))
        print("|---|---|---|---|---|---|")
        for name in sorted(set(st.e2e) | set(st.e2e_timeouts)):
            lat = sorted(st.e2e[name])
            print("| %s | %d | %.1f | %.1f | %.1f | %d |" % (
                name, len(lat), percentile(lat, 0.5) * 1000, percentile(lat, 0.99) * 1000,
                percentile(lat, 0.999) * 1000, st.e2e_timeouts[name]))
    print("| process | CPU % | at rest | RSS MiB | peak RSS (VmHWM) MiB |")
    print("|---|---|---|---|---|")
    idle_cpu = result.get("idle_cpu") or {}
    for name, pct in sorted(result["cpu"].items(), key=lambda kv: -kv[1]):
        mem = result["mem"].get(name, [])
        if name.startswith(("postgres", "redis")):  # shared memory would be counted many times
            rss = hwm = "(%d processes)" % len(mem)
        else:
            rss = "%.1f" % (sum(m[0] for m in mem) / 1024)
            hwm = "%.1f" % (sum(m[1] for m in mem) / 1024)
        print("| %s | %.0f | %s | %s | %s |" % (
            name, pct, "%.0f" % idle_cpu[name] if name in idle_cpu else "", rss, hwm))
    done = exchanges_completed(st)
    flows = ", ".join("%s %d/%d" % (n, st.flows[n + ".done"], st.flows[n + ".started"])
                      for n in MIXES[args.mix])
    print("flows done/started: %s; unfinished after the drain: %d; scheduler late by up to %.0f ms"
          % (flows, result["unfinished"], st.lateness_s_max * 1000))
    commits, idle = result["commits"], result.get("idle_commits")
    if commits is not None:
        print("PostgreSQL commits/s (stack database): %.0f, %.0f at rest%s" % (
            commits, idle or 0, "; above rest, %.1f per exchange paid (every flow's commits "
            "counted)" % ((commits - (idle or 0)) * window / done) if done else ""))
    writes, idle_writes = result.get("writes"), result.get("idle_writes")
    if writes is not None:
        print("PostgreSQL transactions that wrote (transaction ids, whole server): %.0f/s, %.0f at "
              "rest%s" % (writes, idle_writes or 0, "; above rest, %.1f per exchange paid" % (
                  (writes - (idle_writes or 0)) * window / done) if done else ""))
    print("exchanges paid: %d = %.1f/s" % (done, done / window))
    if done and result.get("rows"):
        top = sorted(result["rows"].items(), key=lambda kv: -sum(kv[1]))[:12]
        print("rows written per exchange paid (inserted/updated/deleted; PostgreSQL's statistics, "
              "flushed about every second, whole mix): " + ", ".join(
                  "%s %.1f/%.1f/%.1f" % (t, c[0] / done, c[1] / done, c[2] / done) for t, c in top))
    cost = cpu_cost_ms(result, done)
    if cost:
        print("CPU per exchange paid, above rest (the whole mix's flows counted): services %.0f ms, "
              "their PostgreSQL backends %.0f ms, gateway %.0f ms; total %.0f ms, so %d cores "
              "carry at most about %.0f exchanges/s in this mix whatever else runs" % (
                  cost["services"], cost["postgres"], cost["gateway"], cost["total"],
                  os.cpu_count() or 1, 1000.0 * (os.cpu_count() or 1) / cost["total"]))
    why = verdict(result)
    print("verdict at %.0f/s: %s" % (result["rate"], "PASS" if not why else "FAIL: " + "; ".join(why)))


def bench_lines(args, best, tps):
    # ours: exchanges paid per second in the passing step (0 when none passed the budgets).
    lines = []
    goal = GOALS[args.mix]
    paid = exchanges_completed(best["stats"]) / best["window"] if best is not None else 0.0
    lines.append("BENCH load.%s.exchanges_per_s ours=%.1f anchor=%.0f ratio=%.2f" % (
        args.mix, paid, goal, paid / goal))
    if tps:
        anchor = tps / COMMITS_PER_EXCHANGE
        lines.append("BENCH load.%s.vs_pgbench ours=%.1f anchor=%.1f ratio=%.2f" % (
            args.mix, paid, anchor, paid / anchor))
    if tps:
        lines.append("BENCH load.pgbench_tpcb tps=%.0f" % tps)
    return lines


async def main_async(args):
    url = urllib.parse.urlparse(args.url)
    http = Http(url.hostname, url.port or 80, args.in_flight)
    log = lambda text: print("load: " + text, flush=True)  # noqa: E731
    database_url = args.database_url or database_url_of_stack(args.stack_dir)
    procs = Processes(args.stack_dir, database_url)
    if not procs.groups().get("members"):
        log("no service pids under %s/run: CPU and memory only for PostgreSQL, Redis and "
            "the generator (--stack-dir)" % args.stack_dir)
    if not database_url:
        log("no database URL (--database-url): no commits per second, no pgbench")
    w = await setup(http, args, log)
    idle_commits, idle_cpu, idle_writes = await at_rest(procs, database_url)
    if idle_commits is not None:
        log("PostgreSQL commits/s of the stack's database at rest (pollers, relays): %.0f"
            % idle_commits)
    gc.collect()
    gc.freeze()
    results, best, retried = [], None, 0
    rate = args.start if args.find_max else args.rate
    while True:
        result = await run_step(w, args, rate, procs, database_url)
        result["idle_commits"], result["idle_cpu"] = idle_commits, idle_cpu
        result["idle_writes"] = idle_writes
        print_step(result, args)
        sys.stdout.flush()
        results.append(result)
        passed = not verdict(result)
        if passed:
            best = result
        elif args.find_max and retried < args.retries:
            # The machine may be shared: one bad window is tried again before the search stops.
            retried += 1
            await asyncio.sleep(args.pause)
            continue
        if not args.find_max or not passed or rate >= args.max_rate:
            break
        retried = 0
        rate = min(args.max_rate, round(rate * args.factor, 1))
        await asyncio.sleep(args.pause)
    http.close()
    tps = None if args.no_pgbench else await asyncio.to_thread(pgbench_tps, database_url, log)
    print("\n== summary (mix=%s, %d members from %d addresses)" % (
        args.mix, len(w.members), args.addresses))
    print("| rate offered | exchanges paid/s | worst p99 (operation) | verdict |")
    print("|---|---|---|---|")
    for r in results:
        st = r["stats"]
        worst = max(((percentile(sorted(v), 0.99) * 1000, k) for k, v in st.latency.items()),
                    default=(float("nan"), "-"))
        why = verdict(r)
        print("| %.0f | %.1f | %.0f ms (%s) | %s |" % (
            r["rate"], exchanges_completed(st) / r["window"], worst[0], worst[1],
            "PASS" if not why else "FAIL: " + "; ".join(why)))
    top = max(results, key=lambda r: exchanges_completed(r["stats"]) / r["window"])
    print("most exchanges paid per second in any step, whatever the latency: %.1f (offered %.0f)"
          % (exchanges_completed(top["stats"]) / top["window"], top["rate"]))
    if args.find_max:
        print("highest rate with every p99 <= %.0f ms: %s" % (
            P99_BUDGET_MS, "%.0f exchanges/s" % best["rate"] if best else "none (even the first)"))
    last = results[-1] if not verdict(results[-1]) else None
    for line in bench_lines(args, best if args.find_max else last, tps):
        print(line)
    return 0 if best is not None else 1


def parse_args(argv):
    env = os.environ.get
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    p = argparse.ArgumentParser(prog="script/load", description=__doc__.split("\n\n")[0])
    p.add_argument("url", nargs="?", default=env("MAILLON_URL", "http://127.0.0.1:8080"))
    p.add_argument("--mix", choices=sorted(MIXES), default="realistic")
    p.add_argument("--rate", type=float, default=float(env("MAILLON_LOAD_RATE", "20")),
                   help="exchanges started per second (the mix's other flows in proportion)")
    p.add_argument("--seconds", type=float, default=float(env("MAILLON_LOAD_SECONDS", "20")))
    p.add_argument("--members", type=int, default=int(env("MAILLON_LOAD_MEMBERS", "120")))
    p.add_argument("--staff", type=int, default=4)
    p.add_argument("--addresses", type=int, default=100, help="source addresses 127.0.x.y")
    p.add_argument("--in-flight", type=int, default=256, help="calls in flight at most")
    p.add_argument("--find-max", action="store_true",
                   help="raise the rate step by step until a p99 passes 150 ms")
    p.add_argument("--start", type=float, default=10.0)
    p.add_argument("--factor", type=float, default=1.25)
    p.add_argument("--max-rate", type=float, default=400.0)
    p.add_argument("--retries", type=int, default=1,
                   help="a failing find-max step is run again this often before the search stops")
    p.add_argument("--pause", type=float, default=3.0, help="seconds between find-max steps")
    p.add_argument("--stack-dir", default=env("MAILLON_LOAD_STACK_DIR", os.path.join(root, ".local")),
                   help="directory with run/<service>.pid and nginx/ (script/server: .local)")
    p.add_argument("--database-url", default=env("MAILLON_LOAD_DATABASE_URL"))
    p.add_argument("--no-pgbench", action="store_true")
    p.add_argument("--admin-email", default=env("MAILLON_ADMIN_EMAIL",
                                                env("MAILLON_TEST_ADMIN_EMAIL", "admin@maillon.local")))
    p.add_argument("--admin-password", default=env("MAILLON_ADMIN_PASSWORD",
                                                   env("MAILLON_TEST_ADMIN_PASSWORD", "maillon-admin-dev")))
    args = p.parse_args(argv)
    if args.members < 2 or args.staff < 1 or args.addresses < 1 or args.addresses > 250 * 250:
        p.error("at least 2 members, 1 staff and 1 address")
    return args


def main():
    args = parse_args(sys.argv[1:])
    gc.set_threshold(50_000, 50, 50)  # fewer collections while thousands of calls are in flight
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
