#!/usr/bin/env python3
"""A test Icecast-like MP3 stream server for issue 12 (relay a live source).

Used by the relay's integration tests (spawned as a child process) and by
bench/relay_bench.py. Python 3 standard library only; its audio is made
with sox (to WAV) and lame (to MP3).

    python3 bench/relay_server.py --port 0 --dir DIR [--bind 127.0.0.1] [--die-with-parent]
    python3 bench/relay_server.py --self-test [--dir DIR]

It first makes its audio in DIR if absent, then prints exactly one line
`PORT <n>` to stdout and serves until SIGTERM/SIGINT (exit 0). Every stream
connection and its end is logged as one line on stderr.

Audio (CBR, no Xing/Info frame, no bit reservoir (`lame --nores`), so every
frame stands alone and a byte loop or a splice between files of the same
format decodes without a glitch). Each file is exactly one period of its
tone, 735 frames = 19.2 s, cut from the middle of a longer encoding so the
loop has neither the encoder's start delay nor its end padding:

    tone44.mp3     44.1 kHz stereo 128 kbps, 440 Hz at -12 dBFS peak (16000 B/s)
    silence44.mp3  44.1 kHz stereo 128 kbps, digital silence
    tone22.mp3     22.05 kHz mono 64 kbps, 660 Hz at -12 dBFS peak (8000 B/s)

Stream responses: `HTTP/1.0 200 OK` (`ICY 200 OK` with `icy=1` in the query),
`Content-Type: audio/mpeg`, `icy-name`, no Content-Length; the body is the
file looped endlessly, whole frames only, paced in real time: every 100 ms
the frames due since the connection began are sent (plus an initial burst
of `burst=S` seconds, default 0). The connection is closed at the end.

Paths (state is kept per path+query, across connections; every query
string is its own stream, so tests do not share state):

    /ok.mp3                         tone44 forever
    /drop.mp3?after=S&times=N       the first N (default 1) connections are cut
                                    after S seconds of streaming; later ones
                                    stream forever. `how=rst` (default) closes
                                    with a TCP reset (SO_LINGER 0), `how=fin`
                                    with an orderly close (looks like the
                                    stream ended)
    /garbage.mp3                    bytes at the stream's rate that never decode
    (any path) rate=R               send R seconds of audio per second (0.5:
                                    slower than real time, 2: faster)
    /trickle.mp3?after=S&for=T      first connection: after S s one byte per
                                    0.1 s (10 B/s) for T s (default 60), then
                                    closed; later connections stream normally
    /stall.mp3?after=S&for=T        first connection: after S s no more bytes,
                                    socket kept open T s (default 60), then
                                    closed; later connections stream normally
    /silence.mp3?after=S&for=T      tone44 until S s after the FIRST
                                    connection began, then silence44 until
                                    S+T s (wall time since that first
                                    connection, also on reconnections), then
                                    tone44 again
    /switch.mp3?after=S             first connection: tone44 for S s, then
                                    tone22 on the same connection; later
                                    connections tone22 only
    /refuse.mp3?times=N             the first N connections get 503 and are
                                    closed; then tone44
    GET /stats                      JSON: {"/path?query": [{"opened": unix s,
                                    "closed": unix s or null, "bytes": n,
                                    "status": 200|503, "end": why or null}]}
    POST /reset                     forget every path's state and connections

`end` is one of: client (the client closed), drop, stall, refused, error.
Any path also accepts `burst=S` and `icy=1`.
"""

import argparse
import json
import os
import select
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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TICK = 0.1  # seconds between sends
PERIOD_FRAMES = 735  # one loop: 19.2 s at 1152 samples/44.1 kHz and at 576 samples/22.05 kHz

# name: (rate, channels, kbps, tone Hz or None for silence)
CLIPS = {
    "tone44.mp3": (44100, 2, 128, 440),
    "silence44.mp3": (44100, 2, 128, None),
    "tone22.mp3": (22050, 1, 64, 660),
}

# --- MP3 frames --------------------------------------------------------------

_BR_V1_L3 = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320]
_BR_V2_L3 = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160]
_SR = {3: [44100, 48000, 32000], 2: [22050, 24000, 16000], 0: [11025, 12000, 8000]}


def frame_header(b, i=0):
    """The MPEG-1/2/2.5 Layer III header at b[i:], as (length in bytes,
    samples, sample rate, channels, kbps), or None if there is none."""
    if i + 4 > len(b) or b[i] != 0xFF or (b[i + 1] & 0xE0) != 0xE0:
        return None
    version = (b[i + 1] >> 3) & 3
    layer = (b[i + 1] >> 1) & 3
    bri = b[i + 2] >> 4
    sri = (b[i + 2] >> 2) & 3
    pad = (b[i + 2] >> 1) & 1
    if version == 1 or layer != 1 or bri in (0, 15) or sri == 3:
        return None
    rate = _SR[version][sri]
    kbps = (_BR_V1_L3 if version == 3 else _BR_V2_L3)[bri]
    samples = 1152 if version == 3 else 576
    length = samples // 8 * kbps * 1000 // rate + pad
    channels = 1 if (b[i + 3] >> 6) == 3 else 2
    return length, samples, rate, channels, kbps


def split_frames(data):
    """Splits MP3 bytes into whole frames (skips an ID3v2 tag; stops at the
    first byte that is not a frame header, or a frame cut short)."""
    i = 0
    if data[:3] == b"ID3" and len(data) >= 10:
        size = (data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9]
        i = 10 + size
    frames = []
    while True:
        h = frame_header(data, i)
        if h is None or i + h[0] > len(data):
            return frames, i
        frames.append(data[i:i + h[0]])
        i += h[0]


class Clip:
    """One MP3 file as a list of frames of one format."""

    def __init__(self, path):
        with open(path, "rb") as f:
            data = f.read()
        self.frames, used = split_frames(data)
        if not self.frames or used != len(data):
            raise ValueError(f"{path}: not a clean run of MP3 frames ({used} of {len(data)} bytes)")
        first = frame_header(self.frames[0])
        _, samples, self.rate, self.channels, self.kbps = first
        for fr in self.frames:
            h = frame_header(fr)
            if h[1:] != first[1:]:
                raise ValueError(f"{path}: frames of more than one format")
        self.frame_s = samples / self.rate
        self.name = os.path.basename(path)
        self.bytes_set = set(self.frames)

    def __len__(self):
        return len(self.frames)


# --- audio -------------------------------------------------------------------

def make_audio(d):
    """Makes the three files in `d` if absent (atomically: concurrent
    servers sharing `d` each write a temp file and rename it)."""
    os.makedirs(d, exist_ok=True)
    for name, (rate, channels, kbps, freq) in CLIPS.items():
        dest = os.path.join(d, name)
        if os.path.exists(dest):
            continue
        for tool in ("sox", "lame"):
            if shutil.which(tool) is None:
                raise SystemExit(f"relay_server: {tool} is not installed (apt-get install sox lame)")
        samples = 1152 if rate >= 32000 else 576
        secs = 3 * PERIOD_FRAMES * samples / rate  # three periods; the middle one is kept
        with tempfile.TemporaryDirectory(dir=d, prefix=".make-") as tmp:
            wav = os.path.join(tmp, "in.wav")
            mp3 = os.path.join(tmp, "out.mp3")
            synth = ["synth", f"{secs}", "sine", f"{freq}", "gain", "-12"] if freq else ["trim", "0", f"{secs}"]
            subprocess.run(["sox", "-n", "-r", str(rate), "-c", str(channels), "-b", "16", wav] + synth,
                           check=True, stdout=subprocess.DEVNULL)
            lame = ["lame", "-S", "-t", "--cbr", "--nores", "-b", str(kbps), "--resample", f"{rate / 1000:g}",
                    "-m", "m" if channels == 1 else "j", wav, mp3]
            subprocess.run(lame, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            with open(mp3, "rb") as f:
                frames, _ = split_frames(f.read())
            if len(frames) < 2 * PERIOD_FRAMES:
                raise SystemExit(f"relay_server: lame made {len(frames)} frames for {name}")
            part = os.path.join(tmp, "part.mp3")
            with open(part, "wb") as f:
                f.write(b"".join(frames[PERIOD_FRAMES:2 * PERIOD_FRAMES]))
            os.replace(part, dest)
    clips = {name: Clip(os.path.join(d, name)) for name in CLIPS}
    a, b = clips["tone44.mp3"], clips["silence44.mp3"]
    if (a.rate, a.channels, a.kbps, len(a)) != (b.rate, b.channels, b.kbps, len(b)):
        raise SystemExit("relay_server: tone44.mp3 and silence44.mp3 differ in format")
    return clips


# --- state -------------------------------------------------------------------

class Conn:
    """One connection as /stats shows it."""

    def __init__(self, index):
        self.index = index
        self.opened = time.time()
        self.opened_mono = time.monotonic()
        self.closed = None
        self.bytes = 0
        self.status = 200
        self.end = None

    def as_json(self):
        return {"opened": self.opened, "closed": self.closed, "bytes": self.bytes,
                "status": self.status, "end": self.end}


class Streams:
    """Per path+query: the connections so far, and the first one's start."""

    def __init__(self):
        self.lock = threading.Lock()
        self.by_key = {}

    def open(self, key):
        with self.lock:
            conns = self.by_key.setdefault(key, [])
            c = Conn(len(conns))
            c.first_mono = conns[0].opened_mono if conns else c.opened_mono
            conns.append(c)
            return c

    def stats(self):
        with self.lock:
            return {k: [c.as_json() for c in v] for k, v in self.by_key.items()}

    def reset(self):
        with self.lock:
            self.by_key = {}


# --- what each path sends ----------------------------------------------------

class Plan:
    """For one connection: which frame comes next, and when to stop.
    `frame(t)` returns the frame starting at media time t (seconds of audio
    sent so far); `action(elapsed)` says 'stream', 'drop', 'stall' or
    'close' for the wall time since the connection began."""

    def __init__(self, kind, q, conn, clips):
        self.kind = kind
        self.q = q
        self.conn = conn
        self.clips = clips
        self.burst = qfloat(q, "burst", 0.0)
        self.after = qfloat(q, "after", 5.0)
        self.span = qfloat(q, "for", 60.0 if kind in ("stall", "trickle") else 5.0)
        self.times = qint(q, "times", 1)
        self.i = 0  # frames taken from the current clip
        self.switched = kind == "switch" and conn.index > 0

    def refused(self):
        return self.kind == "refuse" and self.conn.index < self.times

    def frame(self, t):
        tone, sil = self.clips["tone44.mp3"], self.clips["silence44.mp3"]
        if self.kind == "switch":
            if not self.switched and t >= self.after:
                self.switched, self.i = True, 0
            clip = self.clips["tone22.mp3"] if self.switched else tone
        elif self.kind == "silence":
            # The frame's place on the wall clock, from the first connection's start.
            at = self.conn.opened_mono + t - self.burst - self.conn.first_mono
            clip = sil if self.after <= at < self.after + self.span else tone
        else:
            clip = tone
        fr = clip.frames[self.i % len(clip)]
        self.i += 1
        if self.kind == "garbage":
            # Bytes at the stream's rate that never decode: no frame sync.
            fr = bytes((self.i * 7 + k * 13) % 251 for k in range(len(fr))).replace(b"\xff", b"\x00")
        return fr, clip.frame_s

    def action(self, elapsed):
        if self.kind == "drop" and self.conn.index < self.times and elapsed >= self.after:
            return "drop"
        if self.kind == "stall" and self.conn.index == 0 and elapsed >= self.after:
            return "close" if elapsed >= self.after + self.span else "stall"
        if self.kind == "trickle" and self.conn.index == 0 and elapsed >= self.after:
            return "close" if elapsed >= self.after + self.span else "trickle"
        return "stream"


def qfloat(q, k, default):
    try:
        return float(q[k][0]) if k in q else default
    except ValueError:
        return default


def qint(q, k, default):
    try:
        return int(q[k][0]) if k in q else default
    except ValueError:
        return default


KINDS = {"/ok.mp3": "ok", "/drop.mp3": "drop", "/stall.mp3": "stall", "/silence.mp3": "silence",
         "/switch.mp3": "switch", "/refuse.mp3": "refuse", "/trickle.mp3": "trickle",
         "/garbage.mp3": "garbage"}


def log(msg):
    sys.stderr.write(f"relay_server {time.strftime('%H:%M:%S')} {msg}\n")
    sys.stderr.flush()


class Handler(BaseHTTPRequestHandler):
    server_version = "relay_server/1"
    protocol_version = "HTTP/1.0"

    def log_message(self, fmt, *args):  # connections are logged by the stream loop
        pass

    def do_POST(self):
        if self.path.split("?")[0] == "/reset":
            self.server.streams.reset()
            log("reset")
            self.reply(200, "application/json", b"{}\n")
        else:
            self.reply(404, "text/plain", b"not found\n")

    def do_GET(self):
        parts = urllib.parse.urlsplit(self.path)
        if parts.path == "/stats":
            body = json.dumps(self.server.streams.stats(), indent=1).encode() + b"\n"
            return self.reply(200, "application/json", body)
        kind = KINDS.get(parts.path)
        if kind is None:
            return self.reply(404, "text/plain", b"not found\n")
        key = self.path
        q = urllib.parse.parse_qs(parts.query)
        icy = q.get("icy", ["0"])[0] == "1"
        conn = self.server.streams.open(key)
        plan = Plan(kind, q, conn, self.server.clips)
        peer = "%s:%d" % self.client_address[:2]
        log(f"open {key} #{conn.index + 1} from {peer}")
        proto = "ICY" if icy else "HTTP/1.0"
        sock = self.connection
        try:
            if plan.refused():
                conn.status, conn.end = 503, "refused"
                body = b"refused\n"
                sock.sendall((f"{proto} 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
                              f"Content-Length: {len(body)}\r\n\r\n").encode() + body)
                self.close(sock)
            else:
                head = (f"{proto} 200 OK\r\nContent-Type: audio/mpeg\r\nicy-name: cunxiang relay test {kind}\r\n"
                        f"icy-br: {self.server.clips['tone44.mp3'].kbps}\r\nCache-Control: no-cache\r\n"
                        f"Server: {self.server_version}\r\n\r\n")
                sock.sendall(head.encode())
                self.stream(sock, plan, conn)
        except OSError as e:
            conn.end = conn.end or ("client" if isinstance(e, (BrokenPipeError, ConnectionResetError)) else "error")
            self.close(sock)
        finally:
            if conn.closed is None:
                conn.closed = time.time()
            log(f"close {key} #{conn.index + 1} after {conn.closed - conn.opened:.2f} s, "
                f"{conn.bytes} bytes, end={conn.end}")

    def stream(self, sock, plan, conn):
        media = 0.0  # seconds of audio sent
        trickle = b""  # the frame being trickled, byte by byte
        while True:
            elapsed = time.monotonic() - conn.opened_mono
            act = plan.action(elapsed)
            # Send what is due (up to the cut, when there is one: a stream cut
            # after S seconds has carried S seconds of audio).
            rate = qfloat(plan.q, "rate", 1.0)
            due = elapsed * rate + plan.burst if act == "stream" else plan.after + plan.burst
            out = []
            while media < due:
                fr, dur = plan.frame(media)
                out.append(fr)
                media += dur
            if out:
                data = b"".join(out)
                sock.sendall(data)
                conn.bytes += len(data)
            if act == "drop":
                conn.end = "drop"
                if plan.q.get("how", ["rst"])[0] != "fin":
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close(sock, orderly=False)
                return
            if act == "trickle":
                # One byte of the stream per tick (10 B/s): never silent
                # for long, far too slow to play.
                if not trickle:
                    trickle, _ = plan.frame(media)
                sock.sendall(trickle[:1])
                trickle = trickle[1:]
                conn.bytes += 1
            if act == "close":
                conn.end = "stall"
                self.close(sock)
                return
            # Wait for the next tick, noticing a client that hangs up.
            nxt = conn.opened_mono + (int(elapsed / TICK) + 1) * TICK
            r, _, _ = select.select([sock], [], [], max(0.0, nxt - time.monotonic()))
            if r and not sock.recv(65536):
                conn.end = "client"
                self.close(sock)
                return

    def close(self, sock, orderly=True):
        try:
            if orderly:
                sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()

    def reply(self, code, ctype, body):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, clips):
        super().__init__(addr, Handler)
        self.clips = clips
        self.streams = Streams()

    def handle_error(self, request, client_address):
        log(f"error from {client_address}: {sys.exc_info()[1]!r}")


def serve(args):
    clips = make_audio(args.dir)
    srv = Server((args.bind, args.port), clips)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
    sys.stdout.write(f"PORT {srv.server_address[1]}\n")
    sys.stdout.flush()
    log(f"serving {args.dir} on {args.bind}:{srv.server_address[1]}")
    parent = os.getppid()
    while not stop.wait(0.5):
        if args.die_with_parent and os.getppid() != parent:
            log("parent gone, stopping")
            break
    srv.shutdown()
    srv.server_close()
    log("stopped")
    return 0


# --- self-test ---------------------------------------------------------------

class Got:
    """What a raw client saw: status line, headers, (seconds, bytes) chunks, how it ended."""

    def __init__(self):
        self.status = ""
        self.headers = {}
        self.chunks = []
        self.end = "open"
        self.ended_at = None

    @property
    def body(self):
        return b"".join(c for _, c in self.chunks)

    def bytes_by(self, t):
        return sum(len(c) for s, c in self.chunks if s <= t)

    def last_data(self):
        return self.chunks[-1][0] if self.chunks else None


def fetch(port, path, seconds, stop_after_close=None):
    """GETs `path` over a raw socket (urllib refuses `ICY 200 OK`) and reads
    for `seconds` or until the server closes."""
    g = Got()
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    t0 = time.monotonic()
    s.sendall(f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nIcy-MetaData: 0\r\n\r\n".encode())
    buf = b""
    try:
        while b"\r\n\r\n" not in buf:
            d = s.recv(65536)
            if not d:
                break
            buf += d
        head, _, rest = buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        g.status = lines[0]
        g.headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
        if rest:
            g.chunks.append((time.monotonic() - t0, rest))
        while True:
            left = seconds - (time.monotonic() - t0)
            if left <= 0:
                break
            s.settimeout(left)
            try:
                d = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                g.end, g.ended_at = "reset", time.monotonic() - t0
                break
            if not d:
                g.end, g.ended_at = "eof", time.monotonic() - t0
                break
            g.chunks.append((time.monotonic() - t0, d))
    finally:
        s.close()
    return g


def http(port, method, path):
    import urllib.request
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method, data=b"" if method == "POST" else None)
    with urllib.request.urlopen(req, timeout=5) as r:
        return r.status, r.read()


def self_test(args):
    import concurrent.futures
    tmp = None
    d = args.dir
    if d is None:
        tmp = tempfile.mkdtemp(prefix="relay-server-")
        d = tmp
    t = time.monotonic()
    p = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--port", "0", "--dir", d, "--die-with-parent"],
                         stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    fails = []
    passes = []

    out_lock = threading.Lock()

    def check(cond, what):
        with out_lock:
            (passes if cond else fails).append(what)
            sys.stdout.write(("ok    " if cond else "FAIL  ") + what + "\n")
            sys.stdout.flush()

    check(line.startswith("PORT ") and line.split()[1].isdigit(), f"prints one PORT line ({line.strip()!r}, "
          f"{time.monotonic() - t:.1f} s incl. making audio)")
    if fails:
        p.kill()
        return 1
    port = int(line.split()[1])
    clips = {n: Clip(os.path.join(d, n)) for n in CLIPS}
    tone, sil, t22 = clips["tone44.mp3"], clips["silence44.mp3"], clips["tone22.mp3"]
    check(len(tone) == PERIOD_FRAMES and tone.rate == 44100 and tone.channels == 2 and tone.kbps == 128,
          "tone44.mp3: 735 frames, 44.1 kHz stereo 128 kbps")
    check(t22.rate == 22050 and t22.channels == 1 and t22.kbps == 64, "tone22.mp3: 22.05 kHz mono 64 kbps")
    check(not (tone.bytes_set & sil.bytes_set), "tone and silence frames are told apart by their bytes")

    def frames_of(g):
        fr, used = split_frames(g.body)
        return fr, used == len(g.body)

    def classify(frames):
        """(media start s, 'tone'|'silence'|'tone22'|'?') per frame."""
        out, t = [], 0.0
        for f in frames:
            h = frame_header(f)
            kind = "tone" if f in tone.bytes_set else "silence" if f in sil.bytes_set else \
                "tone22" if f in t22.bytes_set else "?"
            out.append((t, kind))
            t += h[1] / h[2]
        return out

    def r2(x):
        return None if x is None else round(x, 2)

    def near(x, want, tol):
        return x is not None and abs(x - want) <= tol

    def t_ok():
        g = fetch(port, "/ok.mp3", 4.0)
        rate = (g.bytes_by(4.0) - g.bytes_by(1.0)) / 3.0
        frames, whole = frames_of(g)
        check(g.status == "HTTP/1.0 200 OK" and g.headers.get("content-type") == "audio/mpeg"
              and "icy-name" in g.headers and "content-length" not in g.headers,
              f"/ok.mp3: {g.status!r}, audio/mpeg, icy-name, no Content-Length")
        check(abs(rate - 16000) <= 1600, f"/ok.mp3 paced: {rate:.0f} B/s (want 16000 +-10%)")
        check(whole and all(k == "tone" for _, k in classify(frames)), f"/ok.mp3: {len(frames)} whole tone44 frames")
        if shutil.which("mpg123"):
            r = subprocess.run(["mpg123", "-q", "-t", "-"], input=g.body, capture_output=True)
            check(r.returncode == 0 and not r.stderr.strip(), f"/ok.mp3 decodes with mpg123 -t (rc {r.returncode})")
        return g

    def t_burst():
        g = fetch(port, "/ok.mp3?burst=2", 0.5)
        n = g.bytes_by(0.5)
        check(30000 <= n <= 16000 * 2.8, f"/ok.mp3?burst=2: {n} bytes in the first 0.5 s (want 2-2.6 s worth)")

    def t_icy():
        g = fetch(port, "/ok.mp3?icy=1", 0.5)
        check(g.status == "ICY 200 OK" and len(g.body) > 0, f"/ok.mp3?icy=1: status {g.status!r}")

    def t_drop():
        res = [fetch(port, "/drop.mp3?after=1&times=2", 3.0) for _ in range(3)]
        for i, g in enumerate(res[:2]):
            check(g.end in ("reset", "eof") and near(g.ended_at, 1.0, 0.4),
                  f"/drop.mp3 conn {i + 1} cut: {g.end} at {r2(g.ended_at)} s")
            check(frames_of(g)[1] and abs(len(g.body) - 16000) < 500,
                  f"/drop.mp3 conn {i + 1}: whole frames only, 1 s of audio ({len(g.body)} bytes)")
        check(res[2].end == "open" and res[2].bytes_by(3.0) > 40000,
              f"/drop.mp3 conn 3 streams on: {res[2].end}, {res[2].bytes_by(3.0)} bytes in 3 s")
        g = fetch(port, "/drop.mp3?after=1&how=fin", 3.0)
        check(g.end == "eof" and near(g.ended_at, 1.0, 0.4), f"/drop.mp3?how=fin: {g.end} at {r2(g.ended_at)} s")

    def t_stall():
        g = fetch(port, "/stall.mp3?after=1&for=2", 5.0)
        n = len(g.body)
        check(near(g.last_data(), 1.0, 0.3) and abs(n - 16000) < 500,
              f"/stall.mp3: {n} bytes (1 s of audio), the last at {g.last_data():.2f} s (want ~1)")
        check(g.end == "eof" and near(g.ended_at, 3.0, 0.4), f"/stall.mp3: closed ({g.end}) at {r2(g.ended_at)} s (want ~3)")
        g2 = fetch(port, "/stall.mp3?after=1&for=2", 2.5)
        rate = (g2.bytes_by(2.5) - g2.bytes_by(0.5)) / 2.0
        check(g2.end == "open" and abs(rate - 16000) <= 1600, f"/stall.mp3 conn 2 streams: {rate:.0f} B/s")

    def t_silence():
        a = fetch(port, "/silence.mp3?after=1&for=2", 1.6)
        ka = classify(frames_of(a)[0])
        bad = [(t, k) for t, k in ka if k != ("tone" if t < 1.0 - 1e-9 else "silence")]
        check(not bad and ka and ka[-1][1] == "silence",
              f"/silence.mp3 conn 1: tone to 1 s, then silence ({len(ka)} frames, {len(bad)} misplaced)")
        b = fetch(port, "/silence.mp3?after=1&for=2", 2.6)  # opened ~1.6 s after conn 1
        kb = classify(frames_of(b)[0])
        first_tone = next((t for t, k in kb if k == "tone"), None)
        runs = [k for i, (_, k) in enumerate(kb) if i == 0 or kb[i - 1][1] != k]
        check(runs == ["silence", "tone"] and near(first_tone, 3.0 - 1.6, 0.25),
              f"/silence.mp3 reconnect: {runs}, tone again at {r2(first_tone)} s of it (want ~1.4)")

    def t_switch():
        g = fetch(port, "/switch.mp3?after=1", 3.0)
        k = classify(frames_of(g)[0])
        runs = [x for i, (_, x) in enumerate(k) if i == 0 or k[i - 1][1] != x]
        at = next((t for t, x in k if x == "tone22"), None)
        check(runs == ["tone", "tone22"] and near(at, 1.0, 0.05), f"/switch.mp3: {runs}, tone22 from {r2(at)} s")
        rate = (g.bytes_by(3.0) - g.bytes_by(1.5)) / 1.5
        check(abs(rate - 8000) <= 800, f"/switch.mp3 after the switch: {rate:.0f} B/s (want 8000)")
        g2 = fetch(port, "/switch.mp3?after=1", 1.0)
        k2 = {x for _, x in classify(frames_of(g2)[0])}
        check(k2 == {"tone22"}, f"/switch.mp3 conn 2: {k2}")
        if shutil.which("mpg123"):
            r = subprocess.run(["mpg123", "-v", "-t", "-"], input=g.body, capture_output=True)
            err = r.stderr.decode(errors="replace")
            check("44100" in err and "22050" in err, "/switch.mp3: mpg123 -v reports 44100 then 22050 Hz")

    def t_refuse():
        res = [fetch(port, "/refuse.mp3?times=2", 1.0) for _ in range(3)]
        sts = [g.status for g in res]
        check(sts[:2] == ["HTTP/1.0 503 Service Unavailable"] * 2 and sts[2] == "HTTP/1.0 200 OK"
              and res[2].bytes_by(1.0) > 8000, f"/refuse.mp3?times=2: {sts}")

    results = {}
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        futs = {name: ex.submit(f) for name, f in
                [("ok", t_ok), ("burst", t_burst), ("icy", t_icy), ("drop", t_drop), ("stall", t_stall),
                 ("silence", t_silence), ("switch", t_switch), ("refuse", t_refuse)]}
        for name, f in futs.items():
            try:
                results[name] = f.result()
            except Exception as e:  # a crash in one case is a failure, not the end of the run
                check(False, f"{name}: {e!r}")

    time.sleep(0.3)  # let the last close lines land
    st, body = http(port, "GET", "/stats")
    stats = json.loads(body)
    drop = stats.get("/drop.mp3?after=1&times=2", [])
    check(len(drop) == 3 and all(c["closed"] for c in drop) and [c["end"] for c in drop[:2]] == ["drop", "drop"]
          and all(near(c["closed"] - c["opened"], 1.0, 0.3) for c in drop[:2]),
          f"/stats: drop has 3 connections, the first two cut after ~1 s "
          f"({[round(c['closed'] - c['opened'], 2) for c in drop]})")
    gaps = [round(drop[i + 1]["opened"] - drop[i]["closed"], 3) for i in range(len(drop) - 1)]
    check(all(0 <= x < 0.5 for x in gaps), f"/stats: next opened - closed = {gaps} s (the reconnect time measure)")
    ref = stats.get("/refuse.mp3?times=2", [])
    check([c["status"] for c in ref] == [503, 503, 200], f"/stats: refuse statuses {[c['status'] for c in ref]}")
    ok = stats.get("/ok.mp3", [])
    got = len(results["ok"].body) if "ok" in results else -1
    check(len(ok) == 1 and ok[0]["bytes"] >= got and ok[0]["bytes"] - got < 4000 and ok[0]["end"] == "client",
          f"/stats: /ok.mp3 bytes {ok[0]['bytes'] if ok else None} vs {got} received, end {ok[0]['end'] if ok else None}")
    check(len(stats) == 9, f"/stats: {len(stats)} streams (want 9)")
    try:
        http(port, "GET", "/nothing")
        check(False, "unknown path is 404")
    except Exception as e:
        check(getattr(e, "code", None) == 404, "unknown path is 404")
    http(port, "POST", "/reset")
    check(json.loads(http(port, "GET", "/stats")[1]) == {}, "POST /reset forgets everything")
    g = fetch(port, "/drop.mp3?after=1&times=2", 1.5)
    check(g.end in ("reset", "eof"), "after /reset, /drop.mp3 drops its first connection again")

    p.send_signal(signal.SIGTERM)
    try:
        rc = p.wait(timeout=5)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = None
    check(rc == 0, f"SIGTERM: exit {rc}")
    if tmp:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{len(passes)} passed, {len(fails)} failed")
    return 1 if fails else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--dir", help="where the audio is made and kept (required unless --self-test)")
    ap.add_argument("--die-with-parent", action="store_true",
                    help="stop when the parent process goes away (for tests that may not reap it)")
    ap.add_argument("--self-test", action="store_true", help="start a server, exercise every path, exit 0/1")
    args = ap.parse_args()
    if args.self_test:
        return self_test(args)
    if not args.dir:
        ap.error("--dir is required")
    return serve(args)


if __name__ == "__main__":
    sys.exit(main())
