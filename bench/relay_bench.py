#!/usr/bin/env python3
"""Relay benchmark for issue 12 (not a test): a long relay from the local
test stream server beside mpg123 playing the same stream, then the time the
relay takes to reconnect after a dropped connection. Linux only (/proc).

    python3 bench/relay_bench.py --binary target/release/cunxiang --minutes 120
    python3 bench/relay_bench.py --binary target/release/cunxiang --minutes 0 --reconnects 10
    python3 bench/relay_bench.py --binary target/release/cunxiang --minutes 3 --reconnects 3   # a quick proof

Long phase (--minutes M, 0 skips it): a temporary station (timezone UTC,
output null) with one broadcast relaying http://127.0.0.1:PORT/ok.mp3 for
M minutes from about --lead seconds after start. At the scheduled instant
`mpg123 -q -o null` (`-o dummy` where mpg123 has no null module) starts on the same stream (a second connection, with
`?client=mpg123` added so the server's /stats tells the two apart; the bytes
are the same). Every 60 s both processes are sampled: utime+stime from
/proc/PID/stat (the whole process, all threads) and VmRSS/VmHWM from
/proc/PID/status. At the end: CPU per minute (medians and their ratio), the
daemon's RSS at 1 min and at the end, and the relay's as-run row as `log
--format json` gives it, beside relayed/lost/reconnects read straight from
the store (plays.relayed_ms/lost_ms/reconnects) as a cross-check.

Reconnect phase (--reconnects N, 0 skips it): a second station relays
/drop.mp3?after=D&times=N (each of the first N connections is cut after D
seconds with a TCP reset). From the server's /stats, each reconnect time is
the next connection's `opened` minus the cut connection's `closed`; the
median of N is the figure. The slot is long enough for N cuts with
--reconnect-budget seconds each to come back; the row is read after it ends.
The time includes any backoff the daemon waits before reconnecting (the
relay's first cut backed off 1, 2, 4, 8, 15 s on these 8-second sessions, so
its median of 10 was the 15 s cap; --drop-after sets the session length).

The summary goes to --out (default bench/out/relay-DATE.json; bench/out/ is
git-ignored). Exit 0 when every phase ran, 1 when a phase could not run
(the daemon refused the station, died, or never connected), 2 for usage.
"""

import argparse
import json
import math
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timedelta, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
ENV = dict(os.environ, LANG="C.UTF-8", RUST_LOG="info")
for k in ("CUNXIANG_STATION", "CUNXIANG_LANG", "LC_ALL", "LC_MESSAGES"):
    ENV.pop(k, None)
TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")
NAME_LONG = "转播基准"
NAME_DROP = "转播重连基准"


class BenchError(Exception):
    pass


def say(msg=""):
    print(msg, flush=True)


# --- /proc -------------------------------------------------------------------

def cpu_ms(pid):
    """utime+stime of the whole process (all threads), in ms."""
    with open(f"/proc/{pid}/stat") as f:
        rest = f.read().rsplit(")", 1)[1].split()
    # rest[0] is field 3 (state); utime and stime are fields 14 and 15.
    return (int(rest[11]) + int(rest[12])) * TICK_MS


def mem_mb(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                out[k] = int(v.split()[0]) / 1024
    return out


def sample(pid):
    try:
        return {"cpu_ms": cpu_ms(pid), **mem_mb(pid)}
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None


# --- the stream server -------------------------------------------------------

class StreamServer:
    def __init__(self, audio_dir, log_path):
        self.log = open(log_path, "w")
        self.p = subprocess.Popen([sys.executable, os.path.join(HERE, "relay_server.py"), "--port", "0",
                                   "--dir", audio_dir, "--die-with-parent"],
                                  stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.p.stdout.readline()
        if not line.startswith("PORT "):
            raise BenchError(f"relay_server.py did not start (said {line!r}; see {log_path})")
        self.port = int(line.split()[1])
        self.base = f"http://127.0.0.1:{self.port}"

    def stats(self):
        with urllib.request.urlopen(self.base + "/stats", timeout=5) as r:
            return json.loads(r.read())

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        try:
            self.p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.p.kill()
        self.log.close()


# --- stations and the daemon -------------------------------------------------

def make_station(d, name, url, at, duration):
    """A station folder with one relay broadcast at `at` (UTC HH:MM:SS)."""
    os.makedirs(os.path.join(d, "audio"), exist_ok=True)
    os.makedirs(os.path.join(d, "schedules"), exist_ok=True)
    with open(os.path.join(d, "cunxiang.toml"), "w") as f:
        f.write('name = "转播基准站"\ntimezone = "UTC"\n\n[output]\ndevice = "null"\n')
    with open(os.path.join(d, "schedules", "relay.toml"), "w") as f:
        f.write(f'[[broadcast]]\nname = "{name}"\nrelay = "{url}"\nat = ["{at}"]\nduration = "{duration}"\n')


class Daemon:
    def __init__(self, binary, st):
        self.binary = binary
        self.st = st
        chk = subprocess.run([binary, "--station", st, "--lang", "en", "check"], env=ENV,
                             capture_output=True, text=True)
        if chk.returncode != 0:
            said = chk.stdout + chk.stderr
            errors = [ln for ln in said.splitlines() if ": error:" in ln] or said.splitlines()[-20:]
            raise BenchError(f"`cunxiang check` refused the station (exit {chk.returncode}); has the relay "
                             f"(issue 12) landed in this binary?\n" + "\n".join(errors))
        self.log_path = os.path.join(st, "daemon.log")
        self.log = open(self.log_path, "w")
        self.p = subprocess.Popen([binary, "--station", st, "--lang", "en", "run", "--no-watch",
                                   "--listen", "127.0.0.1:0", "--output", "null"],
                                  env=ENV, stdout=self.log, stderr=subprocess.STDOUT)

    def alive(self):
        return self.p.poll() is None

    def died(self):
        self.log.flush()
        with open(self.log_path, errors="replace") as f:
            tail = "".join(f.readlines()[-20:])
        return BenchError(f"the daemon exited ({self.p.returncode}); the end of {self.log_path}:\n{tail}")

    def rows(self, name):
        out = subprocess.run([self.binary, "--station", self.st, "--lang", "en", "log", "--since", "all",
                              "--format", "json"], env=ENV, capture_output=True, text=True)
        if out.returncode != 0:
            return []
        return [r for r in json.loads(out.stdout or "[]") if r.get("broadcast") == name]

    def store_figures(self, name):
        """relayed/lost/reconnects straight from the store (read-only), a
        cross-check of `log --format json`: {} when the columns are absent."""
        db = os.path.join(self.st, "var", "cunxiang.db")
        try:
            con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
            cols = {r[1] for r in con.execute("PRAGMA table_info(plays)")}
            want = [c for c in ("relayed_ms", "lost_ms", "reconnects") if c in cols]
            if not want:
                return {}
            rows = con.execute(f"SELECT id, status, {', '.join(want)} FROM plays WHERE broadcast = ? ORDER BY id",
                               (name,)).fetchall()
            con.close()
        except sqlite3.Error as e:
            return {"error": str(e)}
        out = []
        for r in rows:
            f = {"id": r[0], "status": r[1]}
            for k, v in zip(want, r[2:]):
                f[k.replace("_ms", "_s")] = v / 1000 if k.endswith("_ms") and v is not None else v
            out.append(f)
        return out

    def outages(self):
        out = subprocess.run([self.binary, "--station", self.st, "--lang", "en", "outages", "--since", "all",
                              "--format", "json"], env=ENV, capture_output=True, text=True)
        try:
            return json.loads(out.stdout or "[]")
        except json.JSONDecodeError:
            return {"unreadable": out.stdout + out.stderr}

    def final_row(self, name, deadline):
        """The relay's row once it is no longer 'playing' (or as it is at the deadline)."""
        rows = []
        while True:
            rows = self.rows(name)
            if rows and all(r.get("status") != "playing" for r in rows):
                break
            if time.time() > deadline:
                break
            time.sleep(1)
        return rows

    def stop(self):
        if self.alive():
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.log.close()


def slot_start(lead):
    """A whole second `lead` seconds from now, as (unix time, UTC HH:MM:SS)."""
    t = math.ceil(time.time() + lead)
    return t, datetime.fromtimestamp(t, timezone.utc).strftime("%H:%M:%S")


def wait_until(t, daemon, also=()):
    while True:
        left = t - time.time()
        if left <= 0:
            return
        if not daemon.alive():
            raise daemon.died()
        for p, what in also:
            if p.poll() is not None:
                raise BenchError(f"{what} exited ({p.returncode})")
        time.sleep(min(left, 1.0))


def wait_conn(server, key, n, deadline, daemon):
    """Waits for the n-th connection on `key`; returns the stats list."""
    while time.time() < deadline:
        conns = server.stats().get(key, [])
        if len(conns) >= n:
            return conns
        if not daemon.alive():
            raise daemon.died()
        time.sleep(0.2)
    return server.stats().get(key, [])


# --- the long phase ----------------------------------------------------------

def long_phase(args, server, tmp):
    st = os.path.join(tmp, "long")
    key = "/ok.mp3"
    url = server.base + key
    t_at, at = slot_start(args.lead)
    make_station(st, NAME_LONG, url, at, f"{args.minutes}m")
    say(f"long phase: {NAME_LONG} relays {url} at {at} UTC for {args.minutes} min; station {st}")
    d = Daemon(args.binary, st)
    mp = None
    try:
        time.sleep(min(5.0, args.lead / 3))  # past the daemon's start-up
        idle0 = sample(d.p.pid)
        t_idle0 = time.time()
        wait_until(t_at, d)
        idle1 = sample(d.p.pid)
        idle_per_min = (idle1["cpu_ms"] - idle0["cpu_ms"]) * 60 / (time.time() - t_idle0)
        mp = subprocess.Popen(["mpg123", "-q", "-o", args.mpg123_output, url + "?client=mpg123"],
                              stdout=subprocess.DEVNULL, stderr=open(os.path.join(st, "mpg123.log"), "w"))
        t0 = time.time()
        s0 = {"daemon": sample(d.p.pid), "mpg123": sample(mp.pid)}
        conns = wait_conn(server, key, 1, t_at + 30, d)
        if not conns:
            raise BenchError(f"the daemon never connected to {url} within 30 s of {at} (see {d.log_path})")
        connect_s = conns[0]["opened"] - t_at
        say(f"  the daemon connected {connect_s:.3f} s after the scheduled instant; "
            f"idle before: {idle_per_min:.0f} ms CPU/min")
        say(f"  {'min':>4} {'daemon ms':>10} {'mpg123 ms':>10} {'daemon MB':>10} {'mpg123 MB':>10} "
            f"{'conns d/m':>10} {'MB in d/m':>12}")
        minutes = []
        prev = s0
        for m in range(1, args.minutes + 1):
            wait_until(t0 + 60 * m, d, [(mp, "mpg123")])
            cur = {"daemon": sample(d.p.pid), "mpg123": sample(mp.pid)}
            if cur["daemon"] is None or cur["mpg123"] is None:
                raise BenchError(f"a process went away in minute {m}")
            stats = server.stats()
            dc, mc = stats.get(key, []), stats.get(key + "?client=mpg123", [])
            row = {
                "minute": m,
                "daemon_cpu_ms": round(cur["daemon"]["cpu_ms"] - prev["daemon"]["cpu_ms"], 1),
                "mpg123_cpu_ms": round(cur["mpg123"]["cpu_ms"] - prev["mpg123"]["cpu_ms"], 1),
                "daemon_rss_mb": round(cur["daemon"]["VmRSS"], 2),
                "daemon_hwm_mb": round(cur["daemon"]["VmHWM"], 2),
                "mpg123_rss_mb": round(cur["mpg123"]["VmRSS"], 2),
                "mpg123_hwm_mb": round(cur["mpg123"]["VmHWM"], 2),
                "daemon_conns": len(dc),
                "mpg123_conns": len(mc),
                "daemon_bytes": sum(c["bytes"] for c in dc),
                "mpg123_bytes": sum(c["bytes"] for c in mc),
            }
            minutes.append(row)
            prev = cur
            say(f"  {m:>4} {row['daemon_cpu_ms']:>10.0f} {row['mpg123_cpu_ms']:>10.0f} {row['daemon_rss_mb']:>10.1f} "
                f"{row['mpg123_rss_mb']:>10.1f} {len(dc):>4}/{len(mc):<5} "
                f"{row['daemon_bytes'] / 1e6:>5.1f}/{row['mpg123_bytes'] / 1e6:<6.1f}")
        rows = d.final_row(NAME_LONG, t_at + 60 * args.minutes + 60)
        ended = time.time()
        figures = d.store_figures(NAME_LONG)
        outages = d.outages()
        stats = server.stats()
    finally:
        if mp is not None:
            mp.terminate()
            try:
                mp.wait(timeout=5)
            except subprocess.TimeoutExpired:
                mp.kill()
        d.stop()
    dcpu = statistics.median(r["daemon_cpu_ms"] for r in minutes)
    mcpu = statistics.median(r["mpg123_cpu_ms"] for r in minutes)
    rss1, rss_end = minutes[0]["daemon_rss_mb"], minutes[-1]["daemon_rss_mb"]
    dconns = stats.get(key, [])
    summary = {
        "url": url,
        "scheduled_utc": at,
        "minutes": args.minutes,
        "connect_s": round(connect_s, 3),
        "daemon_idle_cpu_ms_per_min_before": round(idle_per_min, 1),
        "daemon_cpu_ms_per_min_median": dcpu,
        "mpg123_cpu_ms_per_min_median": mcpu,
        "cpu_ratio_daemon_to_mpg123": round(dcpu / mcpu, 2) if mcpu else None,
        "daemon_rss_mb_at_1min": rss1,
        "daemon_rss_mb_at_end": rss_end,
        "daemon_rss_growth_mb": round(rss_end - rss1, 2),
        "daemon_hwm_mb_at_end": minutes[-1]["daemon_hwm_mb"],
        "mpg123_rss_mb_at_1min": minutes[0]["mpg123_rss_mb"],
        "mpg123_rss_mb_at_end": minutes[-1]["mpg123_rss_mb"],
        "daemon_connections": dconns,
        "row_read_s_after_slot_end": round(ended - (t_at + 60 * args.minutes), 1),
        "as_run": rows,
        "store_figures": figures,
        "outages": outages,
        "per_minute": minutes,
        "station": st,
    }
    say()
    say(f"  CPU per minute (median): daemon {dcpu:.0f} ms, mpg123 {mcpu:.0f} ms, "
        f"ratio {summary['cpu_ratio_daemon_to_mpg123']}")
    say(f"  daemon RSS: {rss1:.1f} MB at 1 min, {rss_end:.1f} MB at {args.minutes} min, growth "
        f"{rss_end - rss1:+.2f} MB (peak {summary['daemon_hwm_mb_at_end']:.1f} MB)")
    say(f"  daemon connections to the stream: {len(dconns)} (1 expected: no reconnects on a clean stream)")
    say(f"  as-run row: {json.dumps(rows, ensure_ascii=False)}")
    say(f"  from the store: {json.dumps(figures, ensure_ascii=False)}")
    say(f"  outages: {json.dumps(outages, ensure_ascii=False)}")
    return summary


# --- the reconnect phase -----------------------------------------------------

def reconnect_phase(args, server, tmp):
    st = os.path.join(tmp, "drops")
    n, after = args.reconnects, args.drop_after
    key = f"/drop.mp3?after={after:g}&times={n}"
    url = server.base + key
    slot_s = n * (after + args.reconnect_budget) + 30
    minutes = math.ceil(slot_s / 60)
    t_at, at = slot_start(args.lead)
    make_station(st, NAME_DROP, url, at, f"{minutes}m")
    say(f"reconnect phase: {NAME_DROP} relays {url} at {at} UTC for {minutes} min; station {st}")
    d = Daemon(args.binary, st)
    try:
        wait_until(t_at, d)
        t_end = t_at + 60 * minutes
        conns = wait_conn(server, key, n + 1, t_end, d)
        # Let the last connection run a little, so a reconnect that fails at
        # once shows as a further connection.
        time.sleep(3)
        conns = server.stats().get(key, [])
        waits = []
        for i in range(min(n, len(conns) - 1)):
            a, b = conns[i], conns[i + 1]
            if a["closed"] is not None:
                waits.append(round(b["opened"] - a["closed"], 3))
        for i, w in enumerate(waits):
            say(f"  drop {i + 1:>2}: reconnected after {w:.3f} s "
                f"(connection carried {conns[i]['bytes']} bytes, {conns[i]['closed'] - conns[i]['opened']:.1f} s)")
        if len(waits) < n:
            say(f"  only {len(waits)} of {n} reconnects happened within the slot")
        say(f"  waiting for the slot to end at {datetime.fromtimestamp(t_end, timezone.utc):%H:%M:%S} UTC "
            f"to read the as-run row")
        wait_until(t_end, d)
        rows = d.final_row(NAME_DROP, t_end + 60)
        figures = d.store_figures(NAME_DROP)
        outages = d.outages()
        conns = server.stats().get(key, [])
    finally:
        d.stop()
    med = round(statistics.median(waits), 3) if waits else None
    summary = {
        "url": url,
        "scheduled_utc": at,
        "slot_minutes": minutes,
        "reconnect_s": waits,
        "reconnect_s_median": med,
        "reconnect_s_max": max(waits) if waits else None,
        "connections": conns,
        "as_run": rows,
        "store_figures": figures,
        "outages": outages,
        "station": st,
    }
    say()
    say(f"  reconnect time after a drop: median {med} s of {len(waits)}, max {summary['reconnect_s_max']} s")
    say(f"  connections in the slot: {len(conns)} (want {n + 1})")
    say(f"  as-run row: {json.dumps(rows, ensure_ascii=False)}")
    say(f"  from the store: {json.dumps(figures, ensure_ascii=False)}")
    say(f"  outages: {json.dumps(outages, ensure_ascii=False)}")
    return summary


def mpg123_output():
    """mpg123's output module that discards: `null` where it has one, else `dummy`
    (Debian 12's mpg123 1.31 has no `null`)."""
    mods = subprocess.run(["mpg123", "--list-modules"], capture_output=True, text=True).stdout
    names = {ln.split()[0] for ln in mods.splitlines() if " output " in ln}
    return "null" if "null" in names else "dummy"


def describe(binary):
    v = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.strip()
    head = subprocess.run(["git", "-C", ROOT, "log", "-1", "--format=%h %ci"], capture_output=True, text=True)
    return v, head.stdout.strip()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "cunxiang"))
    ap.add_argument("--minutes", type=int, default=120, help="length of the long relay (0 skips it)")
    ap.add_argument("--reconnects", type=int, default=10, help="drops to measure (0 skips the phase)")
    ap.add_argument("--drop-after", type=float, default=8.0, help="seconds each dropped connection streams")
    ap.add_argument("--reconnect-budget", type=float, default=15.0,
                    help="seconds allowed per reconnect when sizing the drop slot")
    ap.add_argument("--lead", type=float, default=20.0, help="seconds from start to each slot")
    ap.add_argument("--out", help="summary JSON path (default bench/out/relay-DATE.json)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary stations (daemon logs, databases)")
    args = ap.parse_args()
    if args.minutes < 0 or args.reconnects < 0 or (args.minutes == 0 and args.reconnects == 0):
        ap.error("nothing to do: --minutes and --reconnects are both 0")
    if not os.access(args.binary, os.X_OK):
        ap.error(f"{args.binary} is not an executable (cargo build --release first)")
    if args.minutes and shutil.which("mpg123") is None:
        ap.error("mpg123 is not installed (apt-get install mpg123)")
    args.mpg123_output = mpg123_output() if args.minutes else None
    out = args.out or os.path.join(HERE, "out", f"relay-{datetime.now():%Y-%m-%d-%H%M%S}.json")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)

    tmp = tempfile.mkdtemp(prefix="cunxiang-relay-bench-")
    server = StreamServer(os.path.join(tmp, "stream-audio"), os.path.join(tmp, "relay_server.log"))
    say(f"stream server on {server.base} (log {tmp}/relay_server.log); binary {args.binary}")
    summary = {
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "binary": os.path.abspath(args.binary),
        "binary_version": describe(args.binary)[0],
        "bench_checkout": describe(args.binary)[1],
        "cpus": os.cpu_count(),
        "loadavg_at_start": os.getloadavg(),
        "clk_tck": os.sysconf("SC_CLK_TCK"),
        "mpg123_output": args.mpg123_output,
    }
    rc = 0
    try:
        for name, enabled, phase in (("long", args.minutes > 0, long_phase),
                                     ("reconnect", args.reconnects > 0, reconnect_phase)):
            if not enabled:
                continue
            try:
                summary[name] = phase(args, server, tmp)
            except BenchError as e:
                say(f"{name} phase failed: {e}")
                summary[name] = {"error": str(e)}
                rc = 1
            say()
    finally:
        server.stop()
        summary["loadavg_at_end"] = os.getloadavg()
        summary["finished"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        with open(out, "w") as f:
            json.dump(summary, f, ensure_ascii=False, indent=1)
        say(f"summary: {out}")
        if args.keep:
            say(f"stations kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
