#!/usr/bin/env python3
"""cunxiang benchmarks (not tests): start latency, idle cost beside cron,
memory while playing a 2-hour MP3, full-decode cost beside mpg123, CPU per
minute of real-time playback. Run through bench/run.sh, which builds the
release binary and installs the reference tools. Linux only (/proc)."""

import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "cunxiang")
SHANGHAI = timezone(timedelta(hours=8))
ENV = dict(os.environ, LANG="C.UTF-8", RUST_LOG="warn")


def sh(*args, **kw):
    return subprocess.run(args, check=True, **kw)


def proc_cost(pid):
    """(cpu seconds, voluntary context switches) summed over all threads."""
    # schedstat: nanoseconds on CPU per thread (finer than /proc/PID/stat's 10 ms ticks).
    cpu = 0.0
    vol = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                cpu += int(f.read().split()[0]) / 1e9
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches"):
                        vol += int(line.split()[1])
        except FileNotFoundError:
            pass
    return cpu, vol


def proc_mem(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                out[k] = int(v.split()[0]) / 1024
    return out


def station(tmp, schedules, files=()):
    os.makedirs(os.path.join(tmp, "audio"), exist_ok=True)
    os.makedirs(os.path.join(tmp, "schedules"), exist_ok=True)
    for name, src in files:
        shutil.copy(src, os.path.join(tmp, "audio", name))
    with open(os.path.join(tmp, "schedules", "bench.toml"), "w") as f:
        f.write(schedules)


def start_daemon(st, output="null"):
    return subprocess.Popen([BIN, "--station", st, "run", "--no-watch", "--listen", "127.0.0.1:0", "--output", output],
                            env=ENV, stdout=subprocess.DEVNULL, stderr=open(os.path.join(st, "daemon.log"), "w"))


def stop(p):
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=10)


def log_rows(st):
    out = subprocess.run([BIN, "--station", st, "log", "--since", "all", "--format", "json"],
                         env=ENV, capture_output=True, check=True).stdout
    return json.loads(out)


def percentile(xs, p):
    xs = sorted(xs)
    k = (len(xs) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def bench_latency(tmp, wav, seconds):
    st = os.path.join(tmp, "latency")
    station(st, '[[broadcast]]\nname = "每秒"\nplay = ["t.wav"]\ncron = "* * * * * *"\n', [("t.wav", wav)])
    cap = os.path.join(st, "cap.jsonl")
    p = start_daemon(st, f"capture:{cap}")
    time.sleep(seconds)
    stop(p)
    rows = [r for r in log_rows(st) if r["status"] == "played"]
    lat = []
    for r in rows:
        s = datetime.fromisoformat(r["scheduled_at"])
        a = datetime.fromisoformat(r["started_at"])
        lat.append((a - s).total_seconds() * 1000)
    return {"firings": len(lat), "median_ms": statistics.median(lat), "p99_ms": percentile(lat, 99), "max_ms": max(lat)}


def idle_windows(st, seconds):
    """Runs the daemon on `st` and measures consecutive idle windows; the
    median one is reported (a shared 2-core VM adds a few ms of noise to any
    single minute)."""
    p = start_daemon(st)
    time.sleep(5)
    windows = []
    for _ in range(3 if seconds >= 60 else 1):
        c0, v0 = proc_cost(p.pid)
        time.sleep(seconds)
        c1, v1 = proc_cost(p.pid)
        windows.append(((c1 - c0) * 1000, v1 - v0))
    stop(p)
    med = sorted(windows)[len(windows) // 2]
    return {"cpu_ms": med[0], "wakeups": med[1], "seconds": seconds,
            "windows": [{"cpu_ms": round(c, 2), "wakeups": w} for c, w in windows]}


def bench_idle(tmp, wav, seconds):
    st = os.path.join(tmp, "idle")
    # 100 broadcasts, none due during the measurement (03:00-04:39 local).
    text = ""
    for i in range(100):
        text += f'[[broadcast]]\nname = "节目{i:03d}"\nplay = ["t.wav"]\nat = ["03:{i % 60:02d}"]\n' if i < 60 else \
            f'[[broadcast]]\nname = "节目{i:03d}"\nplay = ["t.wav"]\ncron = "{i - 60} 4 * * 1-5"\n'
    station(st, text, [("t.wav", wav)])
    now = datetime.now(SHANGHAI)
    if now.hour in (3, 4):
        print("warning: running during 03:00-05:00 Shanghai time; firings may fall in the idle window", file=sys.stderr)
    ours = idle_windows(st, seconds)
    cron = None
    if shutil.which("cron"):
        q = subprocess.Popen(["cron", "-f"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(2)
        if q.poll() is None:
            c0, v0 = proc_cost(q.pid)
            time.sleep(seconds)
            c1, v1 = proc_cost(q.pid)
            cron = {"cpu_ms": (c1 - c0) * 1000, "wakeups": v1 - v0, "seconds": seconds}
        q.terminate()
        q.wait(timeout=10)
    return ours, cron


def bench_idle_monitored(tmp, wav, seconds):
    """The idle station above plus a monitor input and three terminals
    (60 s interval, nobody listening on their ports)."""
    st = os.path.join(tmp, "idle-monitored")
    text = ""
    for i in range(100):
        text += f'[[broadcast]]\nname = "节目{i:03d}"\nplay = ["t.wav"]\nat = ["03:{i % 60:02d}"]\n'
    station(st, text, [("t.wav", wav)])
    with open(os.path.join(st, "cunxiang.toml"), "w") as f:
        f.write('[monitor]\ninput = "file:audio/t.wav"\n')
        for i in range(3):
            f.write(f'[[terminal]]\nname = "音柱{i}"\naddress = "127.0.0.1:{40001 + i}"\n')
    return idle_windows(st, seconds)


def bench_playback(tmp, long_mp3, seconds):
    st = os.path.join(tmp, "play")
    at = (datetime.now(SHANGHAI) + timedelta(seconds=3)).strftime("%H:%M:%S")
    station(st, f'[[broadcast]]\nname = "两小时"\nplay = ["2h.mp3"]\nat = ["{at}"]\n', [("2h.mp3", long_mp3)])
    p = start_daemon(st)
    time.sleep(8)
    c0, _ = proc_cost(p.pid)
    time.sleep(seconds)
    c1, _ = proc_cost(p.pid)
    mem = proc_mem(p.pid)
    rows = log_rows(st)
    stop(p)
    assert rows and rows[0]["status"] == "playing", rows
    return {"rss_mb": mem["VmRSS"], "peak_rss_mb": mem["VmHWM"], "cpu_ms_per_min": (c1 - c0) * 1000 * 60 / seconds}


def control_addr(st):
    out = subprocess.run(["sqlite3", os.path.join(st, "var", "cunxiang.db"),
                          "select value from meta where key='control_addr'"],
                         capture_output=True, text=True).stdout.strip()
    return out or None


def wait_addr(st, secs=20):
    deadline = time.time() + secs
    while time.time() < deadline:
        a = control_addr(st)
        if a:
            return a
        time.sleep(0.05)
    raise RuntimeError("the daemon never listened")


def bench_insert(tmp, n):
    """An emergency insert over HTTP cutting a routine play: time from the
    POST to the emergency's first sample in the capture (real clock)."""
    import urllib.request
    st = os.path.join(tmp, "insert")
    os.makedirs(os.path.join(st, "audio"), exist_ok=True)
    sh("sox", "-n", "-r", "22050", "-c", "1", os.path.join(st, "audio", "routine.wav"), "synth", "600", "sine", "440", "vol", "0.3")
    sh("sox", "-n", "-r", "22050", "-c", "1", os.path.join(st, "audio", "alarm.wav"), "synth", "0.5", "sine", "880", "vol", "0.3")
    at = (datetime.now(SHANGHAI) + timedelta(seconds=3)).strftime("%H:%M:%S")
    station(st, f'[[broadcast]]\nname = "routine"\nplay = ["routine.wav"]\nat = ["{at}"]\nchime = false\n')
    cap = os.path.join(st, "cap.jsonl")
    p = start_daemon(st, f"capture:{cap}")
    addr = wait_addr(st)
    time.sleep(5)
    lat = []
    for i in range(n):
        req = urllib.request.Request(f"http://{addr}/api/play", method="POST",
                                     data=json.dumps({"file": "alarm.wav", "priority": "emergency"}).encode(),
                                     headers={"Content-Type": "application/json"})
        before = sum(1 for _ in open(cap))
        t0 = datetime.now(timezone.utc)
        with urllib.request.urlopen(req, timeout=10) as r:
            assert r.status == 202, r.status
        deadline = time.time() + 10
        rec = None
        while rec is None and time.time() < deadline:
            lines = open(cap).read().splitlines()[before:]
            for line in lines:
                c = json.loads(line)
                if c["kind"] == "chime":
                    rec = c
                    break
            time.sleep(0.01)
        assert rec, "the emergency never started"
        lat.append((datetime.fromisoformat(rec["at"].replace("Z", "+00:00")) - t0).total_seconds() * 1000)
        time.sleep(4)  # the alarm ends, the routine play resumes
    # The HTTP face's own cost: median time per request, sequential.
    pages = {}
    for path in ["/", "/api/status", "/metrics"]:
        ts = []
        for _ in range(30):
            t0 = time.perf_counter()
            with urllib.request.urlopen(f"http://{addr}{path}", timeout=10) as r:
                r.read()
            ts.append((time.perf_counter() - t0) * 1000)
        pages[path] = round(statistics.median(ts), 1)
    stop(p)
    rows = log_rows(st)
    routine = [r for r in rows if r["broadcast"] == "routine"][0]
    return {"inserts": len(lat), "median_ms": statistics.median(lat), "p99_ms": percentile(lat, 99),
            "max_ms": max(lat), "routine_status": routine["status"], "request_median_ms": pages}


def bench_decode(tmp, hour_mp3):
    st = os.path.join(tmp, "decode")
    station(st, '[[broadcast]]\nname = "一小时"\nplay = ["1h.mp3"]\nat = ["03:00"]\n', [("1h.mp3", hour_mp3)])

    def best(cmd, n=3):
        ts = []
        for _ in range(n):
            t0 = time.perf_counter()
            subprocess.run(cmd, env=ENV, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            ts.append(time.perf_counter() - t0)
        return min(ts)

    ours = best([BIN, "--station", st, "check", "--deep"])
    ref = best(["mpg123", "-q", "-t", hour_mp3]) if shutil.which("mpg123") else None
    return {"cunxiang_check_deep_s": ours, "mpg123_s": ref, "ratio": ours / ref if ref else None}


def main():
    quick = "--quick" in sys.argv
    tmp = tempfile.mkdtemp(prefix="cunxiang-bench-")
    media = os.path.join(ROOT, "target", "bench-media")
    os.makedirs(media, exist_ok=True)
    wav = os.path.join(media, "short.wav")
    hour = os.path.join(media, "1h.mp3")
    two = os.path.join(media, "2h.mp3")
    if not os.path.exists(wav):
        sh("sox", "-n", "-r", "22050", "-c", "1", wav, "synth", "0.3", "sine", "880", "vol", "0.5")
    if not os.path.exists(hour) or not os.path.exists(two):
        # Music-like content: a sweep under pink noise; 44.1 kHz stereo 128 kbps
        # (a typical phone MP3) for the hour, 22.05 kHz mono 48 kbps for two hours.
        a = subprocess.Popen(f"sox -n -r 44100 -c 2 -t wav - synth 3600 sine 200-2000 pinknoise vol 0.3 | lame --quiet -b 128 - {hour}", shell=True)
        b = subprocess.Popen(f"sox -n -r 22050 -c 1 -t wav - synth 7200 sine 200-2000 pinknoise vol 0.3 | lame --quiet -b 48 - {two}", shell=True)
        assert a.wait() == 0 and b.wait() == 0
    results = {}
    results["latency"] = bench_latency(tmp, wav, 20 if quick else 62)
    print("latency", results["latency"], flush=True)
    ours, cron = bench_idle(tmp, wav, 20 if quick else 60)
    results["idle"] = {"cunxiang": ours, "cron": cron}
    print("idle", results["idle"], flush=True)
    results["idle_monitored"] = bench_idle_monitored(tmp, wav, 20 if quick else 60)
    print("idle_monitored", results["idle_monitored"], flush=True)
    results["insert"] = bench_insert(tmp, 5 if quick else 20)
    print("insert", results["insert"], flush=True)
    results["playback"] = bench_playback(tmp, two, 20 if quick else 60)
    print("playback", results["playback"], flush=True)
    results["decode"] = bench_decode(tmp, hour)
    print("decode", results["decode"], flush=True)
    shutil.rmtree(tmp, ignore_errors=True)
    out = os.path.join(ROOT, "target", "bench-results.json")
    with open(out, "w") as f:
        json.dump(results, f, indent=2, ensure_ascii=False)
    print(f"results written to {out}")


if __name__ == "__main__":
    main()
