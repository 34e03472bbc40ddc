#!/usr/bin/env python3
"""Soak test: kill -9 the daemon at random instants, then account for every firing.

    python3 bench/soak.py [--kills N] [--seed S] [--binary PATH]
                          [--max-up S] [--max-down S] [--final S] [--keep]

Builds nothing: the binary must exist (default target/release/cunxiang).
Makes a temporary station with three broadcasts that fire every few seconds
and contend for the one output:

    每三秒  every 3 s, 1.0 s file, normal,    catch_up 4 s
    每五秒  every 5 s, 2.0 s file, important, catch_up 3 s
    每七秒  every 7 s, chime + 0.4 s file, emergency, catch_up 1 s

and runs `cunxiang run --no-watch --output capture:PATH --heartbeat 1s` on
it N times (default 100), each time for a random 0.2-4 s (`--max-up`)
before SIGKILL (a power cut), then waits a random 0-2.5 s (`--max-down`;
0 = restart at once) so that some restarts come after more than two
heartbeats (a `power` outage) and some firings fall in the downtime. After
every kill `PRAGMA integrity_check` must be `ok` (the store is opened
read-only, so the WAL a kill leaves is recovered by the next start, not by
this script). Finally it starts the daemon once more, lets it run 3 s
(`--final`), stops it with SIGTERM (exit status 0 expected) and checks
(each failure is printed; exit status 1 if any):

  integrity   integrity_check is ok after every kill and after the clean stop
  unique      one row per firing (broadcast, scheduled_at)
  grid        every row is at an instant of its cron, after the first start
              and not after the stop
  accounted   every instant of every cron from the first start + 2 s to the
              stop - 2 s has a row, with a final status (none left playing)
  history     rows never change once final: what a kill leaves final is
              unchanged at the end, and exactly the rows a kill left
              `playing` are `interrupted` (and nothing else is)
  on time     no play starts before its instant or after instant + catch_up
              (+1 s); a row that made sound has started_at and ended_at
  catch-up    of the firings that fell in a downtime, per broadcast at most
              one plays, and only the latest
  sound       every chime/content line of the capture file belongs to one
              row of its broadcast that was on air then (started_at <= at <=
              ended_at) and whose status says it made sound (played,
              partial, interrupted); started_at is its first line's time;
              every `played` row has its content line; a row's item plays
              again only after a higher-priority broadcast cut it (resume):
              nothing is played twice
  power       each `power` outage runs from the last heartbeat a kill left
              to the next start, more than 2 heartbeats; every restart surely
              more than 2 heartbeats after the last one has one

Then prints counts per status, broadcast, trigger, reason, the emergency
start delays, outages, and PASS/FAIL. The seed is printed: rerun a failure
with `--seed S` (the kill instants repeat; the daemon's timing does not
exactly). On failure the station folder is kept (daemon.log, capture.jsonl,
var/cunxiang.db).
"""

import argparse
import json
import math
import os
import random
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time
import wave
from collections import Counter, defaultdict
from datetime import datetime, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, LANG="C.UTF-8", RUST_LOG=os.environ.get("RUST_LOG", "info"))
HEARTBEAT_S = 1.0
MARGIN_S = 2.0  # edges of the accounting window
FINAL_STATUSES = {"played", "partial", "failed", "missed", "skipped", "interrupted"}
SOUNDING = {"played", "partial", "interrupted"}
PRIO = {"normal": 0, "important": 1, "emergency": 2}

# name, cron step (seconds), file, length (s), priority, catch_up (s), chime
BROADCASTS = [
    ("每三秒", 3, "三秒.wav", 1.0, "normal", 4, False),
    ("每五秒", 5, "五秒.wav", 2.0, "important", 3, False),
    ("每七秒", 7, "七秒.wav", 0.4, "emergency", 1, True),
]
STEP = {b[0]: b[1] for b in BROADCASTS}
CATCH_UP = {b[0]: b[5] for b in BROADCASTS}
BPRIO = {b[0]: PRIO[b[4]] for b in BROADCASTS}


def parse_ts(s):
    """RFC 3339 UTC with ms ('2026-12-01T07:30:00.000Z') -> unix seconds (float)."""
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()


def fmt(t):
    return datetime.fromtimestamp(t, timezone.utc).strftime("%H:%M:%S.%f")[:-3]


def write_wav(path, secs, freq, rate=8000):
    n = int(rate * secs)
    frames = b"".join(struct.pack("<h", int(6000 * math.sin(2 * math.pi * freq * i / rate))) for i in range(n))
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)


def make_station(st):
    os.makedirs(os.path.join(st, "audio"))
    os.makedirs(os.path.join(st, "schedules"))
    toml = []
    for i, (name, step, fname, secs, prio, catch_up, chime) in enumerate(BROADCASTS):
        write_wav(os.path.join(st, "audio", fname), secs, 330 + 110 * i)
        toml.append(
            f'[[broadcast]]\nname = "{name}"\nplay = ["{fname}"]\ncron = "*/{step} * * * * *"\n'
            f'priority = "{prio}"\ncatch_up = "{catch_up}s"\nchime = {"true" if chime else "false"}\n'
        )
    with open(os.path.join(st, "schedules", "soak.toml"), "w", encoding="utf-8") as f:
        f.write("\n".join(toml))


def grid(step, a, b):
    """Whole-second instants t with a < t <= b whose second of the minute is
    a multiple of `step` (cron `*/step` in the seconds field; the station's
    zone is a whole number of hours from UTC)."""
    return [t for t in range(math.floor(a) + 1, math.floor(b) + 1) if (t % 60) % step == 0]


class Soak:
    def __init__(self, args):
        self.args = args
        self.binary = os.path.abspath(args.binary)
        self.st = tempfile.mkdtemp(prefix="cunxiang-soak-")
        self.db = os.path.join(self.st, "var", "cunxiang.db")
        self.capture = os.path.join(self.st, "capture.jsonl")
        self.log = open(os.path.join(self.st, "daemon.log"), "ab")
        self.failures = []
        self.starts = []  # python time just before each start
        self.kills = []  # python time of each SIGKILL (the last entry is the SIGTERM)
        self.beat_at_kill = []  # last heartbeat in the store after each kill (or None)
        self.snapshots = []  # {(b, at): (id, status)} after each kill
        self.window_start = None  # first start whose run left a handled-until mark
        make_station(self.st)

    def fail(self, what):
        self.failures.append(what)
        print("FAIL:", what, flush=True)

    def start(self):
        self.log.write(f"\n=== start {len(self.starts) + 1} at {fmt(time.time())} ===\n".encode())
        self.log.flush()
        self.starts.append(time.time())
        return subprocess.Popen(
            [self.binary, "--station", self.st, "--lang", "en", "run", "--no-watch", "--listen", "127.0.0.1:0",
             "--output", f"capture:{self.capture}", "--heartbeat", f"{HEARTBEAT_S:g}s"],
            env=ENV, stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)

    def connect(self):
        """Read-only: never checkpoints or removes the WAL a kill left behind,
        so the next start recovers it itself."""
        return sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=10)

    def integrity(self, when):
        if not os.path.exists(self.db):
            return False
        try:
            con = self.connect()
            try:
                res = [r[0] for r in con.execute("PRAGMA integrity_check")]
            finally:
                con.close()
        except sqlite3.Error as e:
            res = [f"error: {e}"]
        if res != ["ok"]:
            self.fail(f"integrity_check {when}: {res}")
        return True

    def read(self):
        con = self.connect()
        try:
            con.row_factory = sqlite3.Row
            rows = [dict(r) for r in con.execute("SELECT * FROM plays ORDER BY scheduled_at, id")]
            meta = {r["key"]: r["value"] for r in con.execute("SELECT key, value FROM meta")}
            try:
                outages = [dict(r) for r in con.execute("SELECT * FROM outages ORDER BY id")]
            except sqlite3.Error:
                outages = []
            return rows, meta, outages
        finally:
            con.close()

    def run(self):
        rng = random.Random(self.args.seed)
        t0 = time.time()
        for i in range(self.args.kills):
            p = self.start()
            time.sleep(rng.uniform(0.2, self.args.max_up))
            p.send_signal(signal.SIGKILL)
            self.kills.append(time.time())
            p.wait()
            exists = self.integrity(f"after kill {i + 1}")
            snap, beat = {}, None
            if exists:
                rows, meta, _ = self.read()
                snap = {(r["broadcast"], r["scheduled_at"]): (r["id"], r["status"]) for r in rows}
                beat = meta.get("last_heartbeat")
                if self.window_start is None and "handled_until" in meta:
                    self.window_start = self.starts[-1]
            self.snapshots.append(snap)
            self.beat_at_kill.append(beat)
            if (i + 1) % 10 == 0 or i + 1 == self.args.kills:
                print(f"  {i + 1}/{self.args.kills} kills, {len(snap)} rows, {time.time() - t0:.0f} s", flush=True)
            time.sleep(rng.uniform(0.0, self.args.max_down))
        p = self.start()
        time.sleep(self.args.final)
        p.send_signal(signal.SIGTERM)
        self.kills.append(time.time())
        try:
            rc = p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = "timeout"
        if rc != 0:
            self.fail(f"the final clean stop exited with {rc}")
        self.integrity("after the clean stop")
        if self.window_start is None:
            self.window_start = self.starts[0]
        self.elapsed = time.time() - t0
        return self.check()

    def check(self):
        rows, meta, outages = self.read()
        end = self.kills[-1]
        by_key = {(r["broadcast"], r["scheduled_at"]): r for r in rows}

        # unique: one row per firing
        if len(by_key) != len(rows):
            dup = [k for k, n in Counter((r["broadcast"], r["scheduled_at"]) for r in rows).items() if n > 1]
            self.fail(f"{len(rows) - len(by_key)} firings have more than one row: {dup[:5]}")

        # grid, final status
        for r in rows:
            b, t = r["broadcast"], parse_ts(r["scheduled_at"])
            if b not in STEP:
                self.fail(f"row for an unknown broadcast: {r}")
                continue
            if t != int(t) or (int(t) % 60) % STEP[b] != 0:
                self.fail(f"row off its cron grid: {b} {r['scheduled_at']}")
            if t <= self.starts[0]:
                self.fail(f"row for a firing before the first start: {b} {r['scheduled_at']}")
            if t > end + 0.5:
                self.fail(f"row for a firing after the stop: {b} {r['scheduled_at']}")
            if r["status"] not in FINAL_STATUSES:
                self.fail(f"row not final after the clean stop: {b} {r['scheduled_at']} {r['status']}")

        # accounted: every firing in the window has a row
        expected = [(b, t) for b in STEP for t in grid(STEP[b], self.window_start + MARGIN_S, end - MARGIN_S)]
        iso = lambda t: datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        missing = [(b, iso(t)) for b, t in expected if (b, iso(t)) not in by_key]
        if missing:
            self.fail(f"{len(missing)} of {len(expected)} firings in the window have no row: " + ", ".join(f"{b} {t}" for b, t in missing[:10]))
            self.explain_missing(missing, rows)

        # history: final rows never change; exactly the rows left playing are interrupted
        left_playing = set()
        for i, snap in enumerate(self.snapshots):
            for k, (rid, status) in snap.items():
                now = by_key.get(k)
                if now is None or now["id"] != rid:
                    self.fail(f"row {k} (id {rid}) seen after kill {i + 1} is gone or replaced at the end")
                elif status == "playing":
                    left_playing.add(rid)
                    if now["status"] != "interrupted":
                        self.fail(f"{k} was left playing by kill {i + 1} but ends {now['status']}")
                elif now["status"] != status:
                    self.fail(f"{k} was {status} after kill {i + 1} but ends {now['status']} (a final row changed)")
        extra = [(r["broadcast"], r["scheduled_at"]) for r in rows if r["status"] == "interrupted" and r["id"] not in left_playing]
        if extra:
            self.fail(f"rows interrupted that no kill left playing: {extra[:5]}")

        # on time
        for r in rows:
            if r["status"] in SOUNDING and r["started_at"]:
                t, s = parse_ts(r["scheduled_at"]), parse_ts(r["started_at"])
                if s < t - 0.005:
                    self.fail(f"{r['broadcast']} {r['scheduled_at']} started early, at {r['started_at']}")
                if s > t + CATCH_UP[r["broadcast"]] + 1.0:
                    self.fail(f"{r['broadcast']} {r['scheduled_at']} started at {r['started_at']}, past its catch-up window")
            if r["status"] in SOUNDING and not r["started_at"]:
                self.fail(f"{r['broadcast']} {r['scheduled_at']} is {r['status']} without started_at")

        # catch-up: of the firings in one downtime, at most the latest plays
        self.downtimes = 0
        for k_end, s_next in zip(self.kills[:-1], self.starts[1:]):
            for b in STEP:
                ts_ = grid(STEP[b], k_end + 0.05, s_next)
                if not ts_:
                    continue
                self.downtimes += 1
                on_air = [t for t in ts_ if by_key.get((b, iso(t)), {}).get("status") not in (None, "missed", "skipped")]
                if len(on_air) > 1 or (on_air and on_air[-1] != ts_[-1]):
                    self.fail(f"after the restart at {fmt(s_next)} {b} played {[iso(t) for t in on_air]} of the downtime firings {[iso(t) for t in ts_]}")

        self.check_sound(rows)
        self.check_power(outages)
        return rows, outages

    def explain_missing(self, missing, rows):
        """Says, for each firing without a row, which run saw it and what was
        on air: a firing that was due while another play held the output and
        whose run was killed before it could start is the typical case."""
        kinds = Counter()
        for b, t in missing:
            tt = parse_ts(t)
            run = next((i for i, (s, k) in enumerate(zip(self.starts, self.kills)) if s <= tt <= k), None)
            if run is None:
                nxt = next((i for i, s in enumerate(self.starts) if s > tt), None)
                kinds["due while the daemon was down; the next run was killed before it could catch it up"
                      if nxt is not None and nxt < len(self.starts) - 1 else "due while the daemon was down"] += 1
                why = "due while the daemon was down" + (
                    f"; the next run #{nxt + 1} started {self.starts[nxt] - tt:.2f} s after it and was killed {self.kills[nxt] - self.starts[nxt]:.2f} s after its start"
                    if nxt is not None else "")
            else:
                on_air = [r for r in rows if r["broadcast"] != b and r["started_at"] and parse_ts(r["started_at"]) <= tt + 0.1
                          and (r["ended_at"] is None or parse_ts(r["ended_at"]) >= tt)]
                after = self.kills[run] - tt
                killed = "killed" if run < len(self.kills) - 1 else "stopped"
                why = f"run #{run + 1} ({fmt(self.starts[run])}-{fmt(self.kills[run])}) was {killed} {after:.2f} s after it; on air then: " + (
                    ", ".join(f"{r['broadcast']} {r['scheduled_at']} ({r['priority']}, {r['status']})" for r in on_air) or "nothing")
                kinds["queued behind a busy output, then the run was " + killed if on_air else f"seen by a run ({killed} after it), output free"] += 1
            if len(kinds) and sum(kinds.values()) <= 10:
                print(f"    {b} {t}: {why}")
        for k, n in kinds.items():
            print(f"    {n} x {k}")

    def check_sound(self, rows):
        lines = []
        if os.path.exists(self.capture):
            with open(self.capture, encoding="utf-8") as f:
                for n, line in enumerate(f):
                    if not line.endswith("\n"):
                        continue  # a kill in the middle of a write: the line is not complete
                    try:
                        rec = json.loads(line)
                    except ValueError:
                        self.fail(f"capture line {n + 1} is not JSON: {line!r}")
                        continue
                    if rec.get("kind") in ("chime", "content"):
                        rec["t"] = parse_ts(rec["at"])
                        lines.append(rec)
        lines.sort(key=lambda r: r["t"])
        self.sound_lines = len(lines)
        TOL = 0.002
        per_b = defaultdict(list)
        for r in rows:
            per_b[r["broadcast"]].append(r)
        span = lambda r: (parse_ts(r["started_at"]) if r["started_at"] else math.inf,
                          parse_ts(r["ended_at"]) if r["ended_at"] else math.inf)
        by_row = defaultdict(list)
        for idx, rec in enumerate(lines):
            t = rec["t"]
            mine = per_b.get(rec["broadcast"], [])
            cands = [r for r in mine if span(r)[0] - TOL <= t <= span(r)[1] + TOL]
            if not cands:
                # Not inside any row's [started_at, ended_at]: a row of this
                # broadcast that was due and not over yet, whose started_at
                # is later than this sound, still owns it (started_at is then
                # wrong, reported below); anything else is sound without a row.
                cands = [r for r in mine if r["started_at"] and parse_ts(r["scheduled_at"]) <= t + TOL and span(r)[0] > t and t <= span(r)[1] + TOL]
            if len(cands) > 1:
                # back to back plays of one broadcast: the later one owns it
                latest = max(span(r)[0] for r in cands)
                cands = [r for r in cands if span(r)[0] == latest]
            if len(cands) != 1:
                self.fail(f"sound with {'no row' if not cands else 'several rows'} on air: {rec['broadcast']} {rec['file']} at {rec['at']}"
                          + "".join(f"; row {r['scheduled_at']} {r['status']} {r['started_at']}..{r['ended_at']}" for r in cands))
                continue
            r = cands[0]
            if r["status"] not in SOUNDING:
                self.fail(f"sound for a row logged {r['status']}: {rec['broadcast']} {rec['file']} at {rec['at']} -> {r['scheduled_at']}")
            by_row[r["id"]].append(idx)
        for r in rows:
            if r["started_at"] and not r["ended_at"] and r["status"] in FINAL_STATUSES:
                self.fail(f"{r['broadcast']} {r['scheduled_at']} is {r['status']} ({r['reason']}), started {r['started_at']}, but has no ended_at")
        for r in rows:
            idxs = by_row.get(r["id"])
            if not idxs or not r["started_at"]:
                continue
            first, st = lines[idxs[0]]["t"], parse_ts(r["started_at"])
            # started_at is the first sample; a kill between the capture line
            # and the store update leaves the (earlier) insert time.
            if st > first + TOL or (r["status"] != "interrupted" and abs(st - first) > TOL):
                self.fail(f"{r['broadcast']} {r['scheduled_at']} ({r['status']}, {r['reason']}): started_at {r['started_at']} but its first sound went out at {lines[idxs[0]]['at']}")
        self.resumes = 0
        for r in rows:
            idxs = by_row.get(r["id"], [])
            content = [i for i in idxs if lines[i]["kind"] == "content"]
            if r["status"] == "played" and not content:
                self.fail(f"{r['broadcast']} {r['scheduled_at']} logged played but no content was captured")
            # the same item again needs a higher-priority cut in between
            seen = {}
            for i in idxs:
                key = (lines[i]["kind"], lines[i]["file"])
                if key in seen:
                    between = lines[seen[key] + 1:i]
                    if not any(BPRIO.get(x["broadcast"], -1) > BPRIO[r["broadcast"]] for x in between):
                        self.fail(f"{r['broadcast']} {r['scheduled_at']}: {key[1]} played twice without a cut in between ({lines[seen[key]]['at']}, {lines[i]['at']})")
                    else:
                        self.resumes += 1
                seen[key] = i

    def check_power(self, outages):
        """Each `power` outage must start at the last heartbeat a kill left and
        end at the next start, more than two heartbeats later; each restart
        whose silence was surely longer (measured from before the process
        started) must have one."""
        power = [o for o in outages if o["kind"] == "power"]
        by_beat = {o["started_at"]: o for o in power}
        if len(by_beat) != len(power):
            self.fail(f"two power outages start at the same heartbeat: {power}")
        matched, sure = set(), 0
        for i, (beat, s) in enumerate(zip(self.beat_at_kill, self.starts[1:])):
            if beat is None:
                continue
            o = by_beat.get(beat)
            if o is not None:
                matched.add(o["id"])
                if not o["ended_at"]:
                    self.fail(f"power outage {o['id']} is still open")
                    continue
                end = parse_ts(o["ended_at"])
                if not (s - 0.002 <= end <= s + 5) or end - parse_ts(beat) <= 2 * HEARTBEAT_S:
                    self.fail(f"power outage {o['id']} {beat}..{o['ended_at']} does not fit the restart at {fmt(s)}")
            if s - parse_ts(beat) > 2 * HEARTBEAT_S + 0.002:
                sure += 1
                if o is None:
                    self.fail(f"restart {i + 2} at {fmt(s)}: silent since the heartbeat {beat}, more than two heartbeats, but no power outage")
        stray = [o for o in power if o["id"] not in matched]
        if stray:
            self.fail(f"power outages that match no kill: {stray[:3]}")
        self.power_expect = sure

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kills", type=int, default=100)
    ap.add_argument("--seed", type=int, default=None, help="random seed (default: random, printed)")
    ap.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "cunxiang"))
    ap.add_argument("--max-up", type=float, default=4.0, help="longest run before a kill, s (at least 0.2)")
    ap.add_argument("--max-down", type=float, default=2.5, help="longest pause between a kill and the next start, s")
    ap.add_argument("--final", type=float, default=3.0, help="how long the last run lasts before SIGTERM, s")
    ap.add_argument("--keep", action="store_true", help="keep the station folder (kept anyway on failure)")
    args = ap.parse_args()
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(1 << 32)
    if not os.access(args.binary, os.X_OK):
        sys.exit(f"no binary at {args.binary}: run cargo build --release first")

    s = Soak(args)
    print(f"soak: {args.kills} kills, seed {args.seed}, binary {s.binary}")
    print(f"station {s.st}")
    rows, outages = s.run()

    status = Counter(r["status"] for r in rows)
    print(f"\n{len(rows)} firings logged over {s.elapsed:.0f} s, {args.kills} kills + 1 clean stop, {s.downtimes} broadcast-downtimes")
    print("status:   " + "  ".join(f"{k} {status.get(k, 0)}" for k in ["played", "partial", "failed", "missed", "skipped", "interrupted", "playing"]))
    for b in STEP:
        c = Counter(r["status"] for r in rows if r["broadcast"] == b)
        print(f"  {b}: " + "  ".join(f"{k} {v}" for k, v in sorted(c.items())))
    print("trigger:  " + "  ".join(f"{k} {v}" for k, v in sorted(Counter(r["trigger"] for r in rows).items())))
    reasons = Counter((r["reason"] or "-").split(":")[0].split(";")[0] for r in rows)
    print("reason:   " + "  ".join(f"{k} {v}" for k, v in sorted(reasons.items())))
    print(f"sound:    {s.sound_lines} chime/content items captured, {s.resumes} replayed after a cut (resume)")
    em = sorted(1000 * (parse_ts(r["started_at"]) - parse_ts(r["scheduled_at"])) for r in rows
                if r["priority"] == "emergency" and r["trigger"] == "schedule" and r["status"] in SOUNDING and r["started_at"])
    if em:
        print(f"latency:  emergency firings on schedule ({len(em)}): start delay median {em[len(em) // 2]:.0f} ms, max {em[-1]:.0f} ms"
              " (includes cutting a lower-priority play)")
    oc = Counter(o["kind"] for o in outages)
    print(f"outages:  power {oc.get('power', 0)} (restarts surely more than two heartbeats after the last one: {s.power_expect})  stopped {oc.get('stopped', 0)}"
          + "".join(f"  {k} {v}" for k, v in sorted(oc.items()) if k not in ("power", "stopped")))
    if s.failures:
        print(f"\nFAIL ({len(s.failures)} problems); station kept at {s.st} (daemon.log, capture.jsonl, var/)")
        sys.exit(1)
    print("\nPASS")
    if args.keep:
        print(f"station kept at {s.st}")
    else:
        s.log.close()
        shutil.rmtree(s.st, ignore_errors=True)


if __name__ == "__main__":
    main()
