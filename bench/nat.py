#!/usr/bin/env python3
"""A station behind NAT pushes its metrics to the county (issue 14).

    python3 bench/nat.py [--cut 300] [--interval 15] [--agent vmagent|prometheus]
                         [--cunxiang target/release/cunxiang] [--port-base 19410]

Starts, in a temp dir, all on 127.0.0.1:
  - a station daemon (cunxiang run --output null), a 1-s WAV fired every minute;
  - a county Prometheus with the remote-write receiver (and an out-of-order
    window, as deploy/nat/county/prometheus-nat.yml says), scraping itself so
    its head moves on while the village is silent, loaded with
    deploy/nat/cunxiang-nat-alerts.yml;
  - the "4G link": a TCP proxy in this script between the agent and the county;
  - the agent (vmagent as deploy/nat/vmagent.service runs it, or Prometheus in
    agent mode) scraping the daemon with its read token and remote-writing
    through the link with a bearer token.
Then: warm up, cut the link for --cut seconds (new connections are held
silent, like a dead 4G link; open ones are dropped), during the cut break a
schedule file (a `config` outage opens, cunxiang_schedule_errors = 1) and mend
it again, restore the link, and wait for the county to catch up.

Checks on the county's raw samples (range selectors, no lookback smoothing):
  - cunxiang_up has no gap larger than 2 scrape intervals over the whole run;
  - the fault shows at its true time (first schedule_errors = 1 sample within
    an interval (+ reload) of the break; outage_open_since = the break time);
  - CunxiangStationSilent fired during the cut (when the cut is over 5 min).
Prints catch-up time, samples delivered, gaps, and the cost of the agent and
of the daemon (CPU seconds per minute, RSS) from /proc. Exit 0 when all checks
pass. Kills everything it started; bounded in time.
"""
import argparse
import json
import math
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import wave

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
TICK = os.sysconf("SC_CLK_TCK")
STATION = "李家村"
READ_TOKEN = "read-token-lijiacun"
PUSH_TOKEN = "county-push-token-lijiacun"


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


# ---------------------------------------------------------------- the 4G link
class Link:
    """TCP proxy. Up: forwards. Down: open connections are dropped, new ones
    are accepted and held silent (a dead 4G link: no answer, no refusal)."""

    def __init__(self, listen_port, target_port):
        self.target = ("127.0.0.1", target_port)
        self.up = True
        self.conns = set()
        self.lock = threading.Lock()
        self.bytes_up = 0
        self.held = 0
        self.srv = socket.socket()
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind(("127.0.0.1", listen_port))
        self.srv.listen(64)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.srv.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        with self.lock:
            self.conns.add(c)
        if not self.up:
            self.held += 1
            c.settimeout(1)
            while not self.up:  # swallow, never answer
                try:
                    if not c.recv(65536):
                        break
                except socket.timeout:
                    pass
                except OSError:
                    break
            self._close(c)
            return
        try:
            s = socket.create_connection(self.target)
        except OSError:
            self._close(c)
            return
        with self.lock:
            self.conns.add(s)
        threading.Thread(target=self._pump, args=(c, s, True), daemon=True).start()
        self._pump(s, c, False)

    def _pump(self, a, b, upstream):
        try:
            while True:
                d = a.recv(65536)
                if not d or not self.up:
                    break
                if upstream:
                    self.bytes_up += len(d)
                b.sendall(d)
        except OSError:
            pass
        self._close(a)
        self._close(b)

    def _close(self, s):
        with self.lock:
            self.conns.discard(s)
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        try:
            s.close()
        except OSError:
            pass

    def cut(self):
        self.up = False
        with self.lock:
            conns = list(self.conns)
        for s in conns:
            self._close(s)

    def restore(self):
        self.up = True


# ---------------------------------------------------------------- processes
class Proc:
    def __init__(self, name, argv, cwd, env=None):
        self.name = name
        self.out = open(os.path.join(cwd, name + ".log"), "wb")
        self.p = subprocess.Popen(argv, cwd=cwd, stdout=self.out, stderr=subprocess.STDOUT,
                                  env=env, start_new_session=True)
        self.samples = []  # (wall, cpu_s, rss_kb)

    def sample(self):
        try:
            with open(f"/proc/{self.p.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            cpu = (int(fields[11]) + int(fields[12])) / TICK
            rss = 0
            with open(f"/proc/{self.p.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        rss = int(line.split()[1])
            self.samples.append((time.time(), cpu, rss))
        except (OSError, IndexError):
            pass

    def cost(self, t0, t1):
        s = [x for x in self.samples if t0 <= x[0] <= t1]
        if len(s) < 2:
            return None
        cpu_min = (s[-1][1] - s[0][1]) / (s[-1][0] - s[0][0]) * 60
        rss = [x[2] for x in s]
        return cpu_min, sum(rss) / len(rss) / 1024, max(rss) / 1024

    def stop(self):
        if self.p.poll() is None:
            try:
                os.killpg(self.p.pid, signal.SIGTERM)
                self.p.wait(10)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                try:
                    os.killpg(self.p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self.out.close()


def http_get(url, token=None, timeout=5):
    req = urllib.request.Request(url)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.read().decode()


def wait_http(url, token=None, limit=30):
    end = time.time() + limit
    while time.time() < end:
        try:
            http_get(url, token, timeout=2)
            return True
        except Exception:
            time.sleep(0.3)
    return False


class County:
    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}"

    def q(self, query, at=None):
        params = {"query": query}
        if at is not None:
            params["time"] = f"{at:.3f}"
        url = self.base + "/api/v1/query?" + urllib.parse.urlencode(params)
        d = json.loads(http_get(url, timeout=20))
        return d["data"]["result"]

    def raw(self, metric, t0, t1):
        """Raw samples [(t, v)] of one series, t0..t1 (seconds)."""
        span = int(math.ceil(t1 - t0)) + 1
        res = self.q(f"{metric}[{span}s]", at=t1)
        out = []
        for r in res:
            out.extend((float(t), float(v)) for t, v in r["values"])
        return sorted(out)

    def newest(self, metric):
        """Timestamp of the newest raw sample in the last 2 hours (a plain
        instant query would see nothing once the series is 5 minutes stale)."""
        now = time.time()
        s = self.raw(metric, now - 7200, now)
        return s[-1][0] if s else None


# ---------------------------------------------------------------- the run
def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cut", type=int, default=300, help="link down for this many seconds")
    ap.add_argument("--interval", type=int, default=15, help="scrape interval, seconds")
    ap.add_argument("--warmup", type=int, default=90)
    ap.add_argument("--after", type=int, default=60, help="seconds measured after catch-up")
    ap.add_argument("--agent", choices=["vmagent", "prometheus"], default="vmagent")
    ap.add_argument("--cunxiang", default=os.path.join(REPO, "target/release/cunxiang"))
    ap.add_argument("--vmagent", default=shutil.which("vmagent") or "/usr/bin/vmagent")
    ap.add_argument("--prometheus", default=shutil.which("prometheus") or "/usr/bin/prometheus")
    ap.add_argument("--port-base", type=int, default=19410)
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    ap.add_argument("--no-ooo", action="store_true",
                    help="county without tsdb out_of_order_time_window (to show what it is for)")
    ap.add_argument("--county-block", default=None, metavar="DUR",
                    help="county TSDB block length (hidden Prometheus flags; default 2h): "
                         "e.g. 2m makes a 5-min cut behave like a multi-hour one at the county's head")
    a = ap.parse_args()

    iv = a.interval
    pd, pa, pl, pc = a.port_base, a.port_base + 1, a.port_base + 2, a.port_base + 3
    tmp = tempfile.mkdtemp(prefix="cunxiang-nat-")
    log("work dir", tmp)
    procs = []
    deadline = time.time() + a.warmup + a.cut + a.after + 900
    ok = True

    def check(cond, what):
        nonlocal ok
        log(("PASS " if cond else "FAIL ") + what)
        ok = ok and cond

    try:
        # --- station
        st = os.path.join(tmp, "station")
        os.makedirs(os.path.join(st, "schedules"))
        os.makedirs(os.path.join(st, "audio"))
        w = wave.open(os.path.join(st, "audio", "beep.wav"), "wb")
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000)
        w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / 16000)))
                               for i in range(16000)))
        w.close()
        with open(os.path.join(st, "cunxiang.toml"), "w") as f:
            f.write(f'[control]\nlisten = "127.0.0.1:{pd}"\ntoken = "control-token-x"\n'
                    f'read_token = "{READ_TOKEN}"\n')
        with open(os.path.join(st, "schedules", "minute.toml"), "w") as f:
            f.write('[[broadcast]]\nname = "每分钟"\nplay = ["beep.wav"]\ncron = "* * * * *"\n')
        daemon = Proc("daemon", [a.cunxiang, "--station", st, "run", "--output", "null",
                                 "--listen", f"127.0.0.1:{pd}"], tmp)
        procs.append(daemon)

        # --- county
        cdir = os.path.join(tmp, "county")
        os.makedirs(cdir)
        rules = os.path.join(REPO, "deploy/nat/cunxiang-nat-alerts.yml")
        shutil.copy(rules, cdir)
        ooo = "" if a.no_ooo else "storage:\n  tsdb:\n    out_of_order_time_window: 1d\n"
        with open(os.path.join(cdir, "prometheus.yml"), "w") as f:
            f.write(f"""global:
  scrape_interval: {iv}s
  evaluation_interval: {iv}s
{ooo}rule_files: [cunxiang-nat-alerts.yml]
scrape_configs:
  - job_name: county
    static_configs: [{{targets: ["127.0.0.1:{pc}"]}}]
""")
        county_p = Proc("county", [a.prometheus, "--config.file=prometheus.yml",
                                   "--storage.tsdb.path=data", f"--web.listen-address=127.0.0.1:{pc}",
                                   "--web.enable-remote-write-receiver", "--log.level=warn"]
                       + ([f"--storage.tsdb.min-block-duration={a.county_block}",
                           f"--storage.tsdb.max-block-duration={a.county_block}"] if a.county_block else []),
                       cdir)
        procs.append(county_p)
        county = County(pc)

        link = Link(pl, pc)

        # --- agent on the village PC
        adir = os.path.join(tmp, "agent")
        os.makedirs(adir)
        with open(os.path.join(adir, "read.token"), "w") as f:
            f.write(READ_TOKEN)
        with open(os.path.join(adir, "push.token"), "w") as f:
            f.write(PUSH_TOKEN)
        scrape = f"""global:
  scrape_interval: {iv}s
  external_labels:
    station: {STATION}
    township: 城关镇
    county: 某某县
scrape_configs:
  - job_name: cunxiang-nat
    metrics_path: /metrics
    scrape_timeout: 10s
    authorization:
      type: Bearer
      credentials_file: {adir}/read.token
    static_configs:
      - targets: ["127.0.0.1:{pd}"]
    relabel_configs:
      - target_label: instance
        replacement: nat/{STATION}
"""
        remote = f"http://127.0.0.1:{pl}/api/v1/write"
        if a.agent == "vmagent":
            with open(os.path.join(adir, "vmagent.yml"), "w") as f:
                f.write(scrape)
            argv = [a.vmagent, "-promscrape.config=vmagent.yml", f"-remoteWrite.url={remote}",
                    "-remoteWrite.bearerTokenFile=push.token", "-remoteWrite.tmpDataPath=queue",
                    "-remoteWrite.maxDiskUsagePerURL=1GB", f"-httpListenAddr=127.0.0.1:{pa}",
                    "-memory.allowedBytes=64MB", "-loggerLevel=WARN"]
            buf_dir = os.path.join(adir, "queue")
        else:
            with open(os.path.join(adir, "agent.yml"), "w") as f:
                f.write(scrape + f"""remote_write:
  - url: {remote}
    authorization:
      type: Bearer
      credentials_file: {adir}/push.token
""")
            argv = [a.prometheus, "--enable-feature=agent", "--config.file=agent.yml",
                    "--storage.agent.path=wal", f"--web.listen-address=127.0.0.1:{pa}",
                    "--log.level=warn"]
            buf_dir = os.path.join(adir, "wal")
        agent = Proc(a.agent, argv, adir)
        procs.append(agent)

        for name, url, tok in (("daemon", f"http://127.0.0.1:{pd}/metrics", READ_TOKEN),
                               ("county", county.base + "/-/ready", None),
                               ("agent", f"http://127.0.0.1:{pa}/metrics", None)):
            if not wait_http(url, tok):
                raise SystemExit(f"{name} did not come up; see {tmp}/*.log")
        sel = f'{{station="{STATION}",job="cunxiang-nat"}}'

        def tick(until):
            while time.time() < until:
                for p in procs:
                    p.sample()
                    if p.p.poll() is not None:
                        raise SystemExit(f"{p.name} exited ({p.p.returncode}); see {tmp}/{p.name}.log")
                if time.time() > deadline:
                    raise SystemExit("over time")
                time.sleep(min(2, max(0.05, until - time.time())))

        # --- warm up with the link up
        t_start = time.time()
        log(f"warm-up {a.warmup} s, scrape every {iv} s, agent {a.agent}")
        tick(t_start + a.warmup)
        lag = time.time() - (county.newest("cunxiang_up" + sel) or 0)
        check(lag < 2 * iv + 5, f"link up: the county's newest cunxiang_up is {lag:.1f} s old")
        t_steady = time.time()

        # --- cut
        buf0 = du(buf_dir)
        t_cut = time.time()
        link.cut()
        log(f"4G link CUT for {a.cut} s")
        t_break = t_cut + a.cut / 3
        t_mend = t_cut + 2 * a.cut / 3
        silent_seen = False
        bad = os.path.join(st, "schedules", "broken.toml")
        tick(t_break)
        with open(bad, "w") as f:
            f.write("[[broadcast]\nname = 断了\n")
        t_break = time.time()
        log("fault: broke schedules/broken.toml (config outage)")
        while time.time() < t_mend:
            tick(min(t_mend, time.time() + 10))
            if not silent_seen and county.q(f'ALERTS{{alertname="CunxiangStationSilent",station="{STATION}"}}'):
                silent_seen = time.time()
                log(f"county: CunxiangStationSilent fired {silent_seen - t_cut:.0f} s into the cut")
        os.remove(bad)
        t_mend = time.time()
        log("fault mended (file removed)")
        t_restore = t_cut + a.cut
        while time.time() < t_restore:
            tick(min(t_restore, time.time() + 10))
            if not silent_seen and county.q(f'ALERTS{{alertname="CunxiangStationSilent",station="{STATION}"}}'):
                silent_seen = time.time()
                log(f"county: CunxiangStationSilent fired {silent_seen - t_cut:.0f} s into the cut")
        age = time.time() - (county.newest("cunxiang_up" + sel) or 0)
        buf1 = du(buf_dir)
        link.restore()
        t_restore = time.time()
        log(f"4G link RESTORED; the county's newest sample was {age:.0f} s old; "
            f"agent buffer grew {(buf1 - buf0) / 1024:.0f} KiB, connections held silent {link.held}")

        # --- catch up: the county has a sample scraped at or after the restore
        t_caught = None
        while time.time() < t_restore + 600:
            tick(time.time() + 1)
            n = county.newest("cunxiang_up" + sel)
            if n and n >= t_restore - 1:
                t_caught = time.time()
                break
        check(t_caught is not None, "county caught up after restore"
              + (f" in {t_caught - t_restore:.1f} s" if t_caught else ""))
        t_end = (t_caught or time.time()) + a.after
        tick(t_end)

        # --- what the county holds
        ups = county.raw("cunxiang_up" + sel, t_start, t_end)
        inside = [t for t, _ in ups if t_cut <= t <= t_restore]
        gaps = [(t1 - t0, t0) for (t0, _), (t1, _) in zip(ups, ups[1:])]
        biggest = max(gaps, default=(0, 0))
        expect_inside = a.cut / iv
        log(f"county holds {len(ups)} cunxiang_up samples over {t_end - t_start:.0f} s "
            f"({len(inside)} inside the cut, ~{expect_inside:.0f} expected); "
            f"largest gap {biggest[0]:.1f} s at {time.strftime('%H:%M:%S', time.localtime(biggest[1]))}")
        big = [g for g in gaps if g[0] > 2 * iv]
        check(not big, f"no cunxiang_up gap over 2 intervals ({2 * iv} s): {len(big)} found")
        check(len(inside) >= expect_inside - 2, "the cut window is filled")
        check(ups and ups[0][0] <= t_start + 2 * iv, "samples from the start of the run")
        everything = county.q(f'{{station="{STATION}"}}[{int(t_end - t_start) + 60}s]', at=t_end)
        log(f"county holds {len(everything)} series, "
            f"{sum(len(r['values']) for r in everything)} samples of {STATION}")

        errs = county.raw("cunxiang_schedule_errors" + sel, t_start, t_end)
        on = [t for t, v in errs if v > 0]
        check(bool(on), f"the fault reached the county ({len(on)} samples with schedule_errors > 0)")
        if on:
            log(f"fault: broken at {t_break - t_cut:.1f} s into the cut, mended at {t_mend - t_cut:.1f} s; "
                f"county sees it from {on[0] - t_cut:.1f} s to {on[-1] - t_cut:.1f} s")
            check(t_break <= on[0] <= t_break + iv + 3, "first faulty sample at its true time (within an interval)")
            check(t_mend - iv - 3 <= on[-1] <= t_mend + 3, "last faulty sample at its true time")
        since = county.raw('cunxiang_outage_open_since_timestamp_seconds{kind="config",station="%s"}' % STATION,
                           t_start, t_end)
        vals = {round(v, 1) for _, v in since if not math.isnan(v)}
        check(bool(vals) and all(abs(v - t_break) < 3 for v in vals),
              f"config outage open-since = the break time ({sorted(vals)} vs {t_break:.1f})")
        outs = county.raw('cunxiang_open_outages{kind="config",station="%s"}' % STATION, t_start, t_end)
        log(f"cunxiang_open_outages{{kind=config}} = 1 in {sum(1 for _, v in outs if v > 0)} samples")
        if a.cut > 300 + 2 * iv:
            check(bool(silent_seen), "CunxiangStationSilent fired during the cut")
        else:
            log(f"(cut of {a.cut} s is too short for CunxiangStationSilent's 5 minutes; "
                f"seen: {bool(silent_seen)})")
        after = county.q(f'ALERTS{{alertname="CunxiangStationSilent",station="{STATION}",alertstate="firing"}}')
        check(not after, "CunxiangStationSilent resolved after the catch-up")

        # --- cost
        log("cost (CPU seconds per minute, RSS MiB mean / max), from /proc:")
        for label, t0, t1 in (("steady, link up", t_steady - a.warmup / 2, t_cut),
                              ("link down", t_cut, t_restore),
                              ("catch-up + after", t_restore, t_end)):
            for p in (agent, daemon):
                c = p.cost(t0, t1)
                if c:
                    log(f"  {label:17s} {p.name:10s} {c[0]:6.3f} CPU s/min  RSS {c[1]:5.1f} / {c[2]:5.1f} MiB")
        c = agent.cost(t_start, t_end)
        d = daemon.cost(t_start, t_end)
        log(f"  whole run         {agent.name:10s} {c[0]:6.3f} CPU s/min  RSS {c[1]:5.1f} / {c[2]:5.1f} MiB")
        log(f"  whole run         {'daemon':10s} {d[0]:6.3f} CPU s/min  RSS {d[1]:5.1f} / {d[2]:5.1f} MiB")
        per_day = (buf1 - buf0) / max(1, a.cut) * 86400
        log(f"agent buffer on disk: {buf1 / 1024:.0f} KiB at restore; grew {(buf1 - buf0) / 1024:.0f} KiB "
            f"in {a.cut} s (~{per_day / 1e6:.1f} MB per day of outage at a {iv} s interval); "
            f"link carried {link.bytes_up / 1024:.0f} KiB upstream in {t_end - t_start:.0f} s")
    finally:
        for p in reversed(procs):
            p.stop()
        try:
            link.srv.close()
        except Exception:
            pass
        if ok and not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            log("kept", tmp)
    log("RESULT", "PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


def du(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.stat(os.path.join(root, f)).st_size
            except OSError:
                pass
    return total


if __name__ == "__main__":
    main()
