#!/usr/bin/python3
"""Idle cost of the clock on screen: CPU and bytes written to the terminal by an idle patrol
TUI, before and after a change, in two phases on a real cluster.

`scripts/bench` runs it as its `idle-ages` step (bench/run.py calls [`run`] on the bench
cluster, with a release binary built at PATROL_BENCH_BEFORE, default 540a659, the commit
before the ticking ages and the sign of life, as "before"). By hand, on a 2-member sandbox
cluster of its own:

    bench/idle_ages.py --before /work/main/target/debug/patrol --after target/debug/patrol \
        [--windows 20] [--window 3] [--out target/bench/idle_ages.json]

Each binary runs alone in a 120x40 pseudo-terminal (TMUX unset: synchronized output on, so a
frame is one DEC 2026 begin marker) against the same healthy idle cluster, `--interval 1s`:
  1. "no age": the main view of the healthy cluster, no relative time on screen;
  2. "age shown": after a reload of the leader (harmless), the Operations panel's `Ns ago`
     (another reload before the 30 s the panel keeps a finished operation run out, between
     windows).
Each phase is `--windows` windows of `--window` seconds after a warm-up; per window: bytes
written to the terminal, frames (begin markers), CPU of all threads from
/proc/<pid>/task/*/schedstat. Figures are per idle minute (window scaled to 60 s); medians
with n and spread (bench/stats.py). Standard library only.
"""

import argparse
import json
import os
import pty
import select
import shutil
import signal
import subprocess
import sys
import termios
import fcntl
import struct
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stats import summary  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BEGIN = b"\x1b[?2026h"


def log(*a):
    print("idle_ages:", *a, file=sys.stderr, flush=True)


def cpu_ns(pid):
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            total += int(open(f"/proc/{pid}/task/{tid}/schedstat").read().split()[0])
        except OSError:
            pass
    return total


class Tui:
    """patrol in a pseudo-terminal; every byte it writes is kept with its arrival time."""

    def __init__(self, binary, config, audit):
        pid, fd = pty.fork()
        if pid == 0:
            os.environ["TMUX"] = ""
            os.environ["TERM"] = "xterm-256color"
            os.execv(binary, [binary, "-c", config, "--interval", "1s", "--audit-log", audit])
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        os.kill(pid, signal.SIGWINCH)
        self.pid, self.fd = pid, fd
        self.buf = bytearray()
        self.lock = threading.Lock()
        self.done = False
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        while not self.done:
            r, _, _ = select.select([self.fd], [], [], 0.2)
            if r:
                try:
                    b = os.read(self.fd, 65536)
                except OSError:
                    return
                if not b:
                    return
                with self.lock:
                    self.buf += b

    def raw(self):
        with self.lock:
            return bytes(self.buf)

    def keys(self, b):
        os.write(self.fd, b)

    def stop(self):
        try:
            self.keys(b"q")
            for _ in range(50):
                if os.waitpid(self.pid, os.WNOHANG)[0]:
                    break
                time.sleep(0.1)
            else:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
        except (OSError, ChildProcessError):
            pass
        self.done = True


# a finished operation leaves the panel 30 s after it settled (src/app/ops/mod.rs LINGER):
# the age phase sends the next reload before a window could outlast it
LINGER_S = 30.0


def reload(t):
    """A reload of the selected member (the leader): its panel line and `Ns ago` for 30 s."""
    t.keys(b"L")
    time.sleep(1.5)  # a person's pace: the send key right behind L is refused as a burst
    t.keys(b"y")
    time.sleep(3)


def phase(t, windows, window, refresh=None):
    """`windows` windows of `window` s; `refresh(t)` first, and again whenever the next window
    would end more than LINGER_S - 5 s after the last one (not inside a window)."""
    out = []
    since = None
    for _ in range(windows):
        if refresh and (since is None or time.monotonic() + window - since > LINGER_S - 5):
            refresh(t)
            since = time.monotonic()
        b0, c0 = len(t.raw()), cpu_ns(t.pid)
        time.sleep(window)
        raw = t.raw()
        b1, c1 = len(raw), cpu_ns(t.pid)
        seg = raw[b0:b1]
        out.append({
            "bytes_per_min": (b1 - b0) * 60 / window,
            "frames_per_min": seg.count(BEGIN) * 60 / window,
            "cpu_pct": (c1 - c0) / 1e9 / window * 100,
        })
    return out


def summarize(rows):
    return {k: summary([r[k] for r in rows]) for k in ("bytes_per_min", "frames_per_min", "cpu_pct")}


def run_binary(binary, config, tmp, windows, window, warmup):
    t = Tui(binary, config, os.path.join(tmp, f"audit-{os.getpid()}-{time.time():.0f}.jsonl"))
    try:
        time.sleep(warmup)
        log(binary, "phase 1: no age on screen")
        no_age = phase(t, windows, window)
        log(binary, "phase 2: the Operations panel's age on screen (a reload of the leader)")
        age = phase(t, windows, window, refresh=reload)
        return {"no_age": summarize(no_age), "age_shown": summarize(age),
                "raw": {"no_age": no_age, "age_shown": age}}
    finally:
        t.stop()


def run(binaries, config, workdir, windows, window, warmup):
    """Each (name, binary) in turn, alone, on the cluster of `config`: {name: {binary, no_age,
    age_shown, raw}} and the measurement's parameters."""
    res = {"window_s": window, "windows": windows, "warmup_s": warmup, "size": "120x40",
           "interval_s": 1, "loadavg_start": open("/proc/loadavg").read().split()[:3]}
    for name, b in binaries:
        res[name] = {"binary": b, **run_binary(b, config, workdir, windows, window, warmup)}
    res["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", required=True)
    ap.add_argument("--after", required=True)
    ap.add_argument("--windows", type=int, default=20)
    ap.add_argument("--window", type=float, default=3.0)
    ap.add_argument("--warmup", type=float, default=15.0)
    ap.add_argument("--base-port", default="25700")
    ap.add_argument("--out", default=os.path.join(ROOT, "target/bench/idle_ages.json"))
    a = ap.parse_args()
    tmp = f"/tmp/patrol-idle-ages-{os.getpid()}"
    env = dict(os.environ, PATROL_CLUSTER_DIR=tmp, PATROL_BASE_PORT=a.base_port, PATROL_MEMBERS="2")
    script = os.path.join(ROOT, "scripts/cluster")
    log("starting the sandbox cluster in", tmp)
    subprocess.run([script, "start"], env=env, check=True, stdout=subprocess.DEVNULL)
    try:
        config = os.path.join(tmp, "patronictl.yaml")
        res = run((("before", a.before), ("after", a.after)), config, tmp, a.windows, a.window,
                  a.warmup)
    finally:
        subprocess.run([script, "stop", "--purge", "--fast"], env=env, stdout=subprocess.DEVNULL)
        shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump(res, f, indent=1)
    for name in ("before", "after"):
        for ph in ("no_age", "age_shown"):
            s = res[name][ph]
            print(f"{name:6} {ph:9} " + "  ".join(
                f"{k} median {v['median']:.1f} (n={v['n']}, {v['min']:.1f}..{v['max']:.1f})"
                for k, v in s.items() if v))


if __name__ == "__main__":
    main()
