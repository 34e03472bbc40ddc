#!/usr/bin/env python3
"""A county on one machine: N real `cunxiang run` daemons, a real Prometheus
and a real Alertmanager (Debian's packages), then faults and their alerts.

    python3 bench/county.py                 # 200 stations, scrape 15 s
    python3 bench/county.py --stations 20 --down-for 1m   # CI-sized

Stations listen on 127.0.0.1:19100+i, Prometheus on 19090, Alertmanager on
19093 (clustering off), the script's own webhook on 19399. Every station
plays a 1-s tone every minute (cron "* * * * *") into `--output null`; a
few have a `file:` monitor input; the output-fault ones write a capture
file (`--output capture:…`), which the fault replaces by a folder.

Faults (at N = 200; scaled down for fewer stations, at least 2 each):
  kill     kill -9 ten stations (power cut)      -> CunxiangStationDown
  silence  the monitor of five hears silence     -> CunxiangFaultOpen{kind=signal}
  output   the output of five fails              -> CunxiangFaultOpen{kind=output}, CunxiangPlaysLostToday
  schedule a syntax error in five schedules      -> CunxiangScheduleErrors, CunxiangFaultOpen{kind=config}
  stop     SIGTERM three (a person's stop)       -> nothing at all
It asserts that exactly those alerts fire (read from Alertmanager's API),
grouped by township, then heals every fault and asserts that they resolve
(CunxiangPlaysLostToday stays by design until the day ends: the plays were
lost). The shipped rules are used as they are, except two thresholds made
shorter for the bench (CunxiangFaultOpen 600 s -> --fault-after,
CunxiangScheduleErrors for 10m -> --errors-for); CunxiangStationDown keeps
its `for: 3m` unless --down-for says otherwise. Everything started is
stopped at the end (also on Ctrl-C or an error) unless --keep.
"""

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import wave
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BASE_PORT, PROM_PORT, AM_PORT, HOOK_PORT = 19100, 19090, 19093, 19399
COUNTY = "示范县"
PER_TOWNSHIP = 20
FAULTS = {"kill": 10, "silence": 5, "output": 5, "schedule": 5, "stop": 3}
EXPECT = {
    "kill": [("CunxiangStationDown", "")],
    "silence": [("CunxiangFaultOpen", "signal")],
    "output": [("CunxiangFaultOpen", "output"), ("CunxiangPlaysLostToday", "")],
    "schedule": [("CunxiangScheduleErrors", ""), ("CunxiangFaultOpen", "config")],
    "stop": [],
}
# Alerts that stay after healing, by design (lost plays stay lost today).
STAYS = {"CunxiangPlaysLostToday"}

SCHEDULE = """[[broadcast]]
name = "每分钟广播"
play = ["{file}"]
cron = "* * * * *"
"""
BROKEN = '[[broadcast]\nname = "每分钟广播\n'


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def write_wav(path, secs, amp, rate=16000):
    n = int(secs * rate)
    frame = [int(amp * 32767 * ((i * 440 * 4 // rate) % 2 * 2 - 1)) for i in range(rate // 10)]
    data = struct.pack(f"<{len(frame)}h", *frame) * (n // len(frame))
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(data)


def http_json(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.loads(r.read().decode())


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def secs(text):
    m = re.fullmatch(r"(\d+)([smh])", text)
    if not m:
        raise argparse.ArgumentTypeError(f"{text!r}: say 15s, 3m or 1h")
    return int(m.group(1)) * {"s": 1, "m": 60, "h": 3600}[m.group(2)]


class Hook(BaseHTTPRequestHandler):
    """Alertmanager's webhook receiver: records every notification."""

    got = []
    lock = threading.Lock()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with Hook.lock:
            Hook.got.append((time.time(), self.path.strip("/"), json.loads(body)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *a):
        pass


class Station:
    def __init__(self, root, i, n, binary):
        self.i, self.binary = i, binary
        self.name = f"村{i:03d}"
        townships = max(2, n // PER_TOWNSHIP)
        self.township = f"乡镇{i * townships // n + 1:02d}"
        self.port = BASE_PORT + i
        self.dir = os.path.join(root, f"s{i:03d}")
        self.proc = None
        self.monitor = False
        self.capture = False
        self.fault = None

    def setup(self):
        for d in ("audio", "schedules", "var"):
            os.makedirs(os.path.join(self.dir, d), exist_ok=True)
        monitor = ""
        content = "tone1.wav"
        if self.monitor:
            # A play long enough for `silence_after` to be judged.
            content = "tone5.wav"
            monitor = '\n[monitor]\ninput = "file:monitor.wav"\nsilence_after = "3s"\n'
            shutil.copy(os.path.join(self.dir, "..", "tone1.wav"), os.path.join(self.dir, "monitor.wav"))
        for f in ("tone1.wav", "tone5.wav"):
            shutil.copy(os.path.join(self.dir, "..", f), os.path.join(self.dir, "audio", f))
        with open(os.path.join(self.dir, "cunxiang.toml"), "w") as f:
            f.write(f'name = "{self.name}"\n\n[control]\nlisten = "127.0.0.1:{self.port}"\n{monitor}')
        self.schedule_text = SCHEDULE.format(file=content)
        with open(self.schedule_path(), "w") as f:
            f.write(self.schedule_text)

    def schedule_path(self):
        return os.path.join(self.dir, "schedules", "main.toml")

    def capture_path(self):
        return os.path.join(self.dir, "var", "capture.jsonl")

    def start(self):
        out = f"capture:{self.capture_path()}" if self.capture else "null"
        self.proc = subprocess.Popen(
            [self.binary, "--station", self.dir, "run", "--output", out],
            stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(self.dir, "stderr.txt"), "ab"),
            env={**os.environ, "LANG": "C.UTF-8", "RUST_LOG": "warn"},
            start_new_session=True,
        )

    def unwatched(self):
        """Its file watcher failed (inotify instances are per user: 128 by
        default, fewer than a county's daemons on one machine)."""
        try:
            with open(os.path.join(self.dir, "stderr.txt"), errors="replace") as f:
                return "cannot watch files" in f.read()
        except OSError:
            return False

    def reload_if_unwatched(self):
        # What `systemctl reload` does (SIGHUP), where inotify is out.
        if self.unwatched():
            self.proc.send_signal(signal.SIGHUP)
            return True
        return False

    def alive(self):
        return self.proc is not None and self.proc.poll() is None


class County:
    def __init__(self, args):
        self.args = args
        self.binary = args.binary
        self.root = tempfile.mkdtemp(prefix="county-")
        self.procs = []  # Prometheus, Alertmanager
        self.stations = []
        self.hook = None
        self.figures = {}

    # ---- start ----
    def start(self):
        write_wav(os.path.join(self.root, "tone1.wav"), 1, 0.3)
        write_wav(os.path.join(self.root, "tone5.wav"), 5, 0.3)
        write_wav(os.path.join(self.root, "silence.wav"), 1, 0.0)
        n = self.args.stations
        self.stations = [Station(self.root, i, n, self.binary) for i in range(n)]
        self.assign_faults()
        for s in self.stations:
            s.setup()
        self.write_sd()
        self.start_monitoring()
        t0 = time.time()
        for s in self.stations:
            s.start()
        log(f"{n} stations started in {time.time() - t0:.1f} s; waiting for every target to be up")
        self.wait(lambda: self.targets_up() == n, 120, "every target up")
        log(f"all {n} targets up {time.time() - t0:.1f} s after the first start")

    def assign_faults(self):
        n = len(self.stations)
        # Spread the faulted stations over the townships: every 7th one.
        order = sorted(range(n), key=lambda i: (i * 7) % n)
        k = 0
        self.by_fault = {}
        for kind, count in FAULTS.items():
            c = count if n >= 200 else max(2, round(count * n / 200))
            picked = [self.stations[i] for i in order[k:k + c]]
            k += c
            for s in picked:
                s.fault = kind
                s.monitor = kind == "silence"
                s.capture = kind == "output"
            self.by_fault[kind] = picked
        if k > n:
            sys.exit(f"{n} stations are too few for the faults ({k} needed)")
        # A few more monitored stations that stay healthy.
        for s in [s for s in self.stations if s.fault is None][:3]:
            s.monitor = True

    def write_sd(self):
        sd = os.path.join(self.root, "prom", "stations")
        os.makedirs(sd, exist_ok=True)
        with open(os.path.join(sd, "county.yml"), "w") as f:
            for s in self.stations:
                f.write(f'- targets: ["127.0.0.1:{s.port}"]\n  labels:\n'
                        f'    station: {s.name}\n    township: {s.township}\n    county: {COUNTY}\n')

    def rules(self):
        with open(os.path.join(ROOT, "deploy/prometheus/cunxiang-alerts.yml")) as f:
            text = f.read()
        a = self.args
        text, n1 = re.subn(r"(open_since_timestamp_seconds > )600", rf"\g<1>{a.fault_after}", text)
        text, n2 = re.subn(r"(cunxiang_schedule_errors > 0\n\s+for: )10m", rf"\g<1>{a.errors_for}s", text)
        text, n3 = re.subn(r"(last_over_time\(cunxiang_stopping\[12h\]\) == 1\n\s+for: )3m",
                           rf"\g<1>{a.down_for}s", text)
        assert (n1, n2, n3) == (1, 1, 1), "the shipped rules changed: update the bench's overrides"
        return text

    def start_monitoring(self):
        prom = os.path.join(self.root, "prom")
        with open(os.path.join(ROOT, "deploy/county/prometheus.yml")) as f:
            cfg = f.read()
        s = f"{self.args.scrape}s"
        cfg = re.sub(r"(scrape_interval|evaluation_interval): 15s", rf"\1: {s}", cfg)
        with open(os.path.join(prom, "prometheus.yml"), "w") as f:
            f.write(cfg)
        with open(os.path.join(prom, "cunxiang-alerts.yml"), "w") as f:
            f.write(self.rules())
        for check in (["promtool", "check", "config", os.path.join(prom, "prometheus.yml")],
                      ["amtool", "check-config", os.path.join(ROOT, "deploy/county/alertmanager.yml")]):
            subprocess.run(check, check=True, stdout=subprocess.DEVNULL)
        self.hook = ThreadingHTTPServer(("127.0.0.1", HOOK_PORT), Hook)
        threading.Thread(target=self.hook.serve_forever, daemon=True).start()
        quiet = {"stdout": subprocess.DEVNULL, "stderr": open(os.path.join(self.root, "monitoring.log"), "ab"),
                 "start_new_session": True}
        self.prom = subprocess.Popen([
            "prometheus", f"--config.file={prom}/prometheus.yml", f"--storage.tsdb.path={prom}/data",
            f"--web.listen-address=127.0.0.1:{PROM_PORT}"], **quiet)
        self.am = subprocess.Popen([
            "prometheus-alertmanager", f"--config.file={ROOT}/deploy/county/alertmanager.yml",
            f"--storage.path={self.root}/am", f"--web.listen-address=127.0.0.1:{AM_PORT}",
            "--cluster.listen-address="], **quiet)
        self.procs = [self.prom, self.am]
        self.wait(lambda: self.get(f"http://127.0.0.1:{PROM_PORT}/-/ready", raw=True)
                  and self.get(f"http://127.0.0.1:{AM_PORT}/-/ready", raw=True), 30, "Prometheus and Alertmanager")

    # ---- reading ----
    def get(self, url, raw=False):
        try:
            if raw:
                with urllib.request.urlopen(url, timeout=5) as r:
                    return r.status == 200
            return http_json(url)
        except OSError:
            return None

    def targets_up(self):
        r = self.get(f"http://127.0.0.1:{PROM_PORT}/api/v1/query?query=sum(up%7Bjob%3D%22cunxiang%22%7D)")
        try:
            return int(float(r["data"]["result"][0]["value"][1]))
        except (TypeError, KeyError, IndexError):
            return 0

    def alerts(self):
        """Active alerts in Alertmanager: {(alertname, station, kind): labels}."""
        r = self.get(f"http://127.0.0.1:{AM_PORT}/api/v2/alerts?active=true&silenced=false&inhibited=false")
        out = {}
        for a in r or []:
            lab = a["labels"]
            out[(lab.get("alertname"), lab.get("station", ""), lab.get("kind", ""))] = lab
        return out

    def wait(self, cond, limit, what):
        end = time.time() + min(limit, self.left())
        while time.time() < end:
            if cond():
                return
            time.sleep(1)
        raise SystemExit(f"FAIL: timed out waiting for {what}")

    def left(self):
        return self.deadline - time.time()

    # ---- faults ----
    def inject(self):
        t = {}
        for s in self.by_fault["kill"]:
            os.kill(s.proc.pid, signal.SIGKILL)
            t[s.name] = time.time()
        for s in self.by_fault["silence"]:
            shutil.copy(os.path.join(self.root, "silence.wav"), os.path.join(s.dir, "monitor.wav.new"))
            os.replace(os.path.join(s.dir, "monitor.wav.new"), os.path.join(s.dir, "monitor.wav"))
            t[s.name] = time.time()
        for s in self.by_fault["output"]:
            p = s.capture_path()
            if os.path.exists(p):
                os.remove(p)
            os.mkdir(p)
            t[s.name] = time.time()
        hup = 0
        for s in self.by_fault["schedule"]:
            with open(s.schedule_path(), "w") as f:
                f.write(BROKEN)
            hup += s.reload_if_unwatched()
            t[s.name] = time.time()
        unwatched = sum(s.unwatched() for s in self.stations if s.alive())
        if unwatched:
            log(f"note: {unwatched} daemons could not watch their files (inotify max_user_instances = "
                f"{open('/proc/sys/fs/inotify/max_user_instances').read().strip()}); "
                f"{hup} broken schedules reloaded by SIGHUP instead")
        for s in self.by_fault["stop"]:
            s.proc.send_signal(signal.SIGTERM)
            t[s.name] = time.time()
        return t

    def expected(self):
        want = set()
        for kind, stations in self.by_fault.items():
            for s in stations:
                for name, k in EXPECT[kind]:
                    want.add((name, s.name, k))
        return want

    def heal(self):
        t = {}
        for s in self.by_fault["kill"] + self.by_fault["stop"]:
            if s.alive():
                s.proc.wait(timeout=90)
            s.start()
            t[s.name] = time.time()
        for s in self.by_fault["silence"]:
            shutil.copy(os.path.join(self.root, "tone1.wav"), os.path.join(s.dir, "monitor.wav.new"))
            os.replace(os.path.join(s.dir, "monitor.wav.new"), os.path.join(s.dir, "monitor.wav"))
            t[s.name] = time.time()
        for s in self.by_fault["output"]:
            os.rmdir(s.capture_path())
            t[s.name] = time.time()
        for s in self.by_fault["schedule"]:
            with open(s.schedule_path(), "w") as f:
                f.write(s.schedule_text)
            s.reload_if_unwatched()
            t[s.name] = time.time()
        return t

    # ---- the run ----
    def run(self):
        a = self.args
        self.deadline = time.time() + a.deadline
        started = time.time()
        self.start()
        # One more scrape of everything so each station has seen a steady
        # scraper (two scrapes) before the faults.
        time.sleep(2 * a.scrape + 1)
        stray = self.alerts()
        if stray:
            raise SystemExit(f"FAIL: alerts before any fault: {sorted(stray)}")
        self.measure_memory()
        want = self.expected()
        by_station = {s.name: s for s in self.stations}
        log(f"injecting faults: " + ", ".join(f"{k} {len(v)}" for k, v in self.by_fault.items()))
        t_fault = self.inject()
        seen, unexpected = {}, {}

        def fault_phase():
            now_alerts = self.alerts()
            for key in now_alerts:
                if key not in seen:
                    seen[key] = time.time()
                    if key not in want:
                        unexpected[key] = now_alerts[key]
            return want <= set(seen) or unexpected

        self.wait(fault_phase, a.alert_wait, f"{len(want)} expected alerts ({len(want & set(seen))} so far)")
        # A little longer: anything else that would fire shows now.
        time.sleep(2 * a.scrape)
        fault_phase()
        if unexpected:
            raise SystemExit(f"FAIL: unexpected alerts: {sorted(unexpected)}")
        stopped = {s.name for s in self.by_fault["stop"]}
        assert not [k for k in seen if k[1] in stopped], "a cleanly stopped station alerted"
        log(f"all {len(want)} expected alerts fire, nothing else; the {len(stopped)} stopped stations page nobody")
        self.check_groups(by_station)
        self.delays = {}
        for (name, st, kind), at in seen.items():
            self.delays.setdefault(by_station[st].fault, []).append(at - t_fault[st])
        log("healing")
        t_heal = self.heal()
        rest = {}

        def resolved():
            rest.clear()
            rest.update({k: v for k, v in self.alerts().items() if k[0] not in STAYS})
            return not rest

        try:
            self.wait(resolved, a.alert_wait, "the alerts to resolve")
        except SystemExit:
            raise SystemExit(f"FAIL: still firing after healing: {sorted(rest)}")
        self.heal_time = time.time() - max(t_heal.values())
        stays = sorted({(k[0], by_station[k[1]].fault) for k in self.alerts()})
        log(f"every fault alert resolved {self.heal_time:.0f} s after the last heal; staying by design: {stays}")
        self.check_notifications(stopped)
        self.report(time.time() - started)

    def check_groups(self, by_station):
        groups = self.get(f"http://127.0.0.1:{AM_PORT}/api/v2/alerts/groups") or []
        townships = set()
        for g in groups:
            if not g["alerts"]:
                continue
            t = g["labels"].get("township")
            assert t, f"a group not by township: {g['labels']}"
            for al in g["alerts"]:
                assert al["labels"]["township"] == t and by_station[al["labels"]["station"]].township == t
            townships.add(t)
        faulted = {s.township for s in self.stations if s.fault and s.fault != "stop"}
        assert townships == faulted, (townships, faulted)
        self.groups = len(groups)
        log(f"{len(groups)} alert groups (receiver x township): every township with a fault ({len(townships)}), no other")

    def check_notifications(self, stopped):
        with Hook.lock:
            got = list(Hook.got)
        for _, receiver, body in got:
            assert set(body["groupLabels"]) == {"township"}, body["groupLabels"]
            for al in body["alerts"]:
                if al["status"] == "firing" and al["labels"].get("station") in stopped:
                    # After the restart its lost plays may be a warning
                    # (repair queue); never a page.
                    assert receiver != "pager", f"a stopped station paged: {al['labels']}"
        self.notes = got
        log(f"{len(got)} notifications received ({sum(r == 'pager' for _, r, _ in got)} pages)")

    def measure_memory(self):
        live = [s for s in self.stations if s.alive()]
        rss = sorted(r for r in (rss_kib(s.proc.pid) for s in live) if r)
        self.figures["station_rss_kib"] = (rss[0], rss[len(rss) // 2], rss[-1]) if rss else None
        self.figures["station_rss_total_mib"] = sum(rss) / 1024

    def report(self, wall):
        f = self.figures
        prom = rss_kib(self.prom.pid)
        print("\n== county bench ==")
        print(f"stations: {len(self.stations)} ({len({s.township for s in self.stations})} townships), "
              f"scrape interval {self.args.scrape} s, wall time {wall:.0f} s")
        print(f"rules: CunxiangStationDown for {self.args.down_for} s, CunxiangFaultOpen > {self.args.fault_after} s, "
              f"CunxiangScheduleErrors for {self.args.errors_for} s")
        print("fault -> alert active in Alertmanager (s): min / median / max over the (station, alert) pairs")
        for kind in ("kill", "silence", "output", "schedule"):
            d = sorted(self.delays.get(kind, []))
            if d:
                print(f"  {kind:9s} {d[0]:6.0f} {statistics.median(d):6.0f} {d[-1]:6.0f}   ({len(d)} alerts)")
        print(f"  stop      none fired (as required)")
        print(f"alerts resolved {self.heal_time:.0f} s after the last heal")
        print(f"memory: Prometheus RSS {prom / 1024:.0f} MiB; one station RSS min/median/max "
              f"{' / '.join(f'{x / 1024:.1f}' for x in f['station_rss_kib'])} MiB "
              f"(all stations {f['station_rss_total_mib']:.0f} MiB)")

    # ---- the end ----
    def stop(self):
        if self.args.keep:
            log(f"--keep: left running in {self.root} (Prometheus :{PROM_PORT}, Alertmanager :{AM_PORT})")
            return
        everything = [s.proc for s in self.stations if s.proc] + self.procs
        for p in everything:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except OSError:
                    pass
        for p in everything:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        if self.hook:
            self.hook.shutdown()
        shutil.rmtree(self.root, ignore_errors=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--stations", type=int, default=200)
    p.add_argument("--scrape", type=secs, default=secs("15s"))
    p.add_argument("--down-for", type=secs, default=secs("3m"), help="CunxiangStationDown's for (shipped: 3m)")
    p.add_argument("--fault-after", type=secs, default=secs("60s"), help="CunxiangFaultOpen's age (shipped: 600 s)")
    p.add_argument("--errors-for", type=secs, default=secs("60s"), help="CunxiangScheduleErrors' for (shipped: 10m)")
    p.add_argument("--alert-wait", type=secs, default=secs("6m"), help="longest wait for the alerts, and for them to resolve")
    p.add_argument("--deadline", type=secs, default=secs("14m"), help="the whole run, hard")
    p.add_argument("--keep", action="store_true", help="leave everything running for inspection")
    p.add_argument("--binary", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")),
                                                    "release", "cunxiang"))
    a = p.parse_args()
    if not 1 <= a.stations <= HOOK_PORT - BASE_PORT:
        sys.exit(f"--stations: 1 to {HOOK_PORT - BASE_PORT}")
    if not os.access(a.binary, os.X_OK):
        sys.exit(f"{a.binary}: build it first (cargo build --release)")
    county = County(a)

    def on_signal(sig, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    # The hard deadline: SIGALRM ends the run wherever it is.
    signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(SystemExit("FAIL: the overall deadline passed")))
    signal.alarm(a.deadline + 30)
    code = 0
    try:
        county.run()
        log("PASS")
    except KeyboardInterrupt:
        log("interrupted")
        code = 130
    except (SystemExit, AssertionError) as e:
        log(f"FAIL: {e}" if isinstance(e, AssertionError) else str(e))
        code = 1
    finally:
        signal.alarm(0)
        county.stop()
    sys.exit(code)


if __name__ == "__main__":
    main()
