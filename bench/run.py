#!/usr/bin/python3
"""Runs patrol's benchmark suite against a running local cluster and writes results.json.

Called by scripts/bench (which sets up, builds and starts the cluster); can be rerun by hand:

    bench/run.py --config /tmp/patrol-bench/patronictl.yaml --patrol target/release/patrol \
        --live target/release/deps/live-HASH --patronictl .venv/bin/patronictl --out target/bench

Process-level figures (wall time, peak RSS from wait4, CPU from /proc) are taken here; the
screen-level ones (event to screen, switchover, first frame, scale) by the `live` bench
binary (benches/live.rs), the per-frame ones by criterion (benches/render.rs).
Standard library only.
"""

import argparse
import fcntl
import json
import os
import platform
import re
import struct
import subprocess
import sys
import termios
import threading
import time
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stats import summary  # noqa: E402  (bench/stats.py: the one percentile definition)

CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(*a):
    print("bench:", *a, file=sys.stderr, flush=True)


def loadavg():
    try:
        return open("/proc/loadavg").read().split()[:3]
    except OSError:
        return None


def proc_stat(pid):
    """(cpu seconds, VmHWM KiB, VmRSS KiB) of a live process."""
    cpu = None
    try:
        rest = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        cpu = (int(rest[11]) + int(rest[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        pass
    hwm = rss = None
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
            elif line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    except OSError:
        pass
    return cpu, hwm, rss


def task_cpu_ns(pid):
    """{tid: CPU ns} of every thread of a live process, from /proc/<pid>/task/<tid>/schedstat
    (its first field: time on a CPU, in nanoseconds; /proc/<pid>/stat counts 10 ms ticks)."""
    out = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            out[tid] = int(open(f"/proc/{pid}/task/{tid}/schedstat").read().split()[0])
        except (OSError, IndexError, ValueError):
            pass
    return out


def cpu_ns_between(t0, t1):
    """CPU ns spent between two task_cpu_ns snapshots: threads born in between count from
    zero; a thread that ended in between is lost (the per-thread figures go with it)."""
    return sum(v - t0.get(tid, 0) for tid, v in t1.items())


def run_measured(argv, env=None):
    """Wall seconds, peak RSS KiB, CPU seconds and exit code of one run (wait4 rusage)."""
    with open(os.devnull, "wb") as null, open(os.devnull, "rb") as nin:
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, stdin=nin, stdout=null, stderr=subprocess.PIPE, env=env)
        err = p.stderr.read()
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        p.stderr.close()
    if p.returncode != 0:
        log(f"{argv[0]} exited {p.returncode}: {err.decode(errors='replace')[:300]}")
    return {
        "wall_ms": wall * 1000,
        "maxrss_kib": ru.ru_maxrss,
        "cpu_ms": (ru.ru_utime + ru.ru_stime) * 1000,
        "rc": p.returncode,
    }


class PtyProc:
    """A process on a pseudo-terminal of 120x40 whose output is drained and counted."""

    def __init__(self, argv, env=None, cols=120, rows=40):
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        e = dict(os.environ if env is None else env)
        e.setdefault("TERM", "xterm-256color")

        def ctty():
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.p = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, preexec_fn=ctty, env=e, close_fds=True
        )
        os.close(slave)
        self.bytes = 0
        self.chunks = 0
        self.lock = threading.Lock()
        self.t = threading.Thread(target=self._drain, daemon=True)
        self.t.start()

    def _drain(self):
        while True:
            try:
                b = os.read(self.master, 65536)
            except OSError:
                return
            if not b:
                return
            with self.lock:
                self.bytes += len(b)
                self.chunks += 1

    def counters(self):
        with self.lock:
            return self.bytes, self.chunks

    def send(self, data):
        try:
            os.write(self.master, data)
        except OSError:
            pass

    def stop(self, quit_key=False):
        if quit_key and self.p.poll() is None:
            self.send(b"q")
            try:
                self.p.wait(timeout=3)
            except subprocess.TimeoutExpired:
                pass
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()
        try:
            os.close(self.master)
        except OSError:
            pass


class PtyRecorder(PtyProc):
    """A PtyProc that also keeps each read's arrival time and bytes, to split the stream into
    frames (DEC 2026 begin markers) or bursts (reads closer together than a gap)."""

    def __init__(self, argv, env=None, cols=120, rows=40):
        self.reads = []
        super().__init__(argv, env=env, cols=cols, rows=rows)

    def _drain(self):
        while True:
            try:
                b = os.read(self.master, 65536)
            except OSError:
                return
            if not b:
                return
            with self.lock:
                self.bytes += len(b)
                self.chunks += 1
                self.reads.append((time.monotonic(), b))

    def since(self, t0, t1):
        with self.lock:
            return [(t, b) for t, b in self.reads if t0 <= t < t1]


SYNC_BEGIN = b"\x1b[?2026h"


def frames_by_marker(reads):
    """Sizes of the frames in a stream that brackets each frame in DEC 2026 (sync on): the
    bytes from one begin marker to the next. The part before the first marker is left out."""
    data = b"".join(b for _, b in reads)
    parts = data.split(SYNC_BEGIN)
    return [len(SYNC_BEGIN) + len(x) for x in parts[1:]]


def bursts(reads, gap=0.02):
    """Sizes of the bursts in a stream: reads less than `gap` seconds apart are one burst (what
    a terminal receives as one update when nothing marks the frames)."""
    out, last = [], None
    for t, b in reads:
        if last is not None and t - last < gap:
            out[-1] += len(b)
        else:
            out.append(len(b))
        last = t
    return out


def term(a, seconds=60, warmup=5):
    """Bytes patrol's idle TUI sends to its terminal, three ways at once on the same cluster:
    straight into a pseudo-terminal with synchronized output on (what `auto` picks outside
    tmux) and off, and inside tmux (`auto` is off there) counting what the tmux client writes
    to its own terminal, the bytes that cross an SSH link. tmux runs on its own socket with
    its status line off, so the figure is patrol's screen alone."""
    base = [a.patrol, "-c", a.config, "--interval", "1s"]
    env = {k: v for k, v in os.environ.items() if k not in ("TMUX", "TMUX_PANE", "STY", "NO_COLOR")}
    env["TERM"] = "xterm-256color"
    sock = f"patrol-bench-{os.getpid()}"
    conf = os.path.join(a.out, "tmux.conf")
    with open(conf, "w") as f:
        f.write("set -g status off\nset -g default-terminal tmux-256color\n")
    inner = " ".join(base)
    viewers = {
        "direct_sync_on": PtyRecorder(base + ["--sync-output", "on"], env=env),
        "direct_sync_off": PtyRecorder(base + ["--sync-output", "off"], env=env),
        "tmux": PtyRecorder(["tmux", "-L", sock, "-f", conf, "new-session", inner], env=env),
    }
    try:
        time.sleep(warmup)
        t0 = time.monotonic()
        time.sleep(seconds)
        t1 = time.monotonic()
        res = {"seconds": seconds, "warmup_s": warmup, "tmux_version": cmd_out(["tmux", "-V"])}
        for k, v in viewers.items():
            reads = v.since(t0, t1)
            total = sum(len(b) for _, b in reads)
            r = {
                "alive": v.p.poll() is None,
                "bytes": total,
                "bytes_per_min": total * 60.0 / (t1 - t0),
                "reads": len(reads),
                "bursts": summary(bursts(reads)),
            }
            if k == "direct_sync_on":
                r["frames"] = summary(frames_by_marker(reads))
            res[k] = r
        return res
    finally:
        for k, v in viewers.items():
            v.stop(quit_key=k != "tmux")
        subprocess.run(["tmux", "-L", sock, "kill-server"], stderr=subprocess.DEVNULL)


def release(a, n):
    """The release binary's size, the newest glibc symbol version it needs, and its start-up
    time: `patrol --version` from exec to exit (no config read, no terminal), n runs."""
    st = os.stat(a.patrol)
    glibc = None
    try:
        out = subprocess.run(["objdump", "-T", a.patrol], capture_output=True, text=True).stdout
        nums = {tuple(int(x) for x in v.split(".")) for v in re.findall(r"GLIBC_([0-9]+(?:\.[0-9]+)*)", out)}
        glibc = ".".join(map(str, max(nums))) if nums else None
    except OSError:
        pass
    run_measured([a.patrol, "--version"])
    runs = [run_measured([a.patrol, "--version"]) for _ in range(n)]
    target = os.path.dirname(os.path.dirname(os.path.abspath(a.patrol)))
    debs = sorted((os.path.join(target, "debian", f) for f in os.listdir(os.path.join(target, "debian"))
                   if f.endswith(".deb")), key=os.path.getmtime) if os.path.isdir(os.path.join(target, "debian")) else []
    deb = debs[-1] if debs and os.path.getmtime(debs[-1]) >= st.st_mtime else None
    return {
        "binary_bytes": st.st_size,
        "glibc_max": glibc,
        "deb": os.path.basename(deb) if deb else None,
        "deb_bytes": os.path.getsize(deb) if deb else None,
        "version_wall_ms": summary([r["wall_ms"] for r in runs]),
        "version_maxrss_kib": summary([r["maxrss_kib"] for r in runs]),
        "failed": sum(1 for r in runs if r["rc"] != 0),
    }


# ------------------------------------------------------------------------------ steps


def step_live(a, sub, out, *extra, tolerant=False, config=None):
    """One subcommand of the live bench binary. `tolerant`: a failure is recorded as the
    step's result ({"error": ...}) instead of ending the suite. `config`: another cluster's
    (the etcd v2 one)."""
    path = os.path.join(a.out, out)
    argv = [a.live, sub, "--config", config or a.config, "--patrol", a.patrol, "--patronictl", a.patronictl,
            "--out", path, *map(str, extra)]
    log(" ".join(argv[1:2] + [str(x) for x in extra]))
    t = time.time()
    if tolerant:
        if os.path.exists(path):
            os.unlink(path)
        p = subprocess.run(argv, stderr=subprocess.PIPE, text=True)
        sys.stderr.write(p.stderr)
        if p.returncode != 0 or not os.path.exists(path):
            return {"error": (p.stderr.strip().splitlines() or ["exit %d" % p.returncode])[-1][:400],
                    "_took_s": time.time() - t}
    else:
        subprocess.run(argv, check=True)
    d = json.load(open(path))
    d["_took_s"] = time.time() - t
    return d


def list_pairs(a, n, extra_patrol=(), extra_ctl=(), config=None):
    """`patrol list` against `patronictl list`, pairs interleaved, the order alternating."""
    cfg = config or a.config
    pa = [a.patrol, "-c", cfg, "list", *extra_patrol]
    pc = [a.patronictl, "-c", cfg, "list", *extra_ctl]
    # one unmeasured run each: page cache, .pyc files
    run_measured(pa)
    run_measured(pc)
    rows = []
    for i in range(n):
        order = [("patrol", pa), ("patronictl", pc)] if i % 2 == 0 else [("patronictl", pc), ("patrol", pa)]
        r = {}
        for name, argv in order:
            r[name] = run_measured(argv)
        r["ratio"] = r["patrol"]["wall_ms"] / r["patronictl"]["wall_ms"]
        rows.append(r)
    res = {"pairs": rows}
    for name in ("patrol", "patronictl"):
        res[name] = {
            "wall_ms": summary([r[name]["wall_ms"] for r in rows]),
            "maxrss_kib": summary([r[name]["maxrss_kib"] for r in rows]),
            "cpu_ms": summary([r[name]["cpu_ms"] for r in rows]),
            "failed": sum(1 for r in rows if r[name]["rc"] != 0),
        }
    res["ratio"] = summary([r["ratio"] for r in rows])
    return res


def idle(a, seconds, window=5.0, warmup=5.0, config=None):
    """patrol's TUI (REST polled every second) and `patronictl list -w 1` (etcd read every
    second, no REST) watching the healthy cluster side by side. CPU in windows of `window`
    seconds from the threads' schedstat (ns); the whole span also from /proc/<pid>/stat ticks
    (which count threads that ended, too) as a cross-check."""
    cfg = config or a.config
    viewers = {
        "patrol": PtyProc([a.patrol, "-c", cfg, "--interval", "1s"]),
        "patronictl": PtyProc([a.patronictl, "-c", cfg, "list", "-w", "1"]),
    }
    time.sleep(warmup)
    pids = {k: v.p.pid for k, v in viewers.items()}
    start = {k: (time.monotonic(), proc_stat(pid), viewers[k].counters()) for k, pid in pids.items()}
    snaps = {k: [(time.monotonic(), task_cpu_ns(pid), proc_stat(pid)[2])] for k, pid in pids.items()}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(max(0.0, min(window, deadline - time.monotonic())))
        for k, pid in pids.items():
            snaps[k].append((time.monotonic(), task_cpu_ns(pid), proc_stat(pid)[2]))
    res = {"seconds": seconds, "window_s": window, "warmup_s": warmup, "clk_tck": CLK_TCK}
    for k, v in viewers.items():
        t1, (cpu1, hwm, rss), (b1, c1) = time.monotonic(), proc_stat(pids[k]), v.counters()
        t0, (cpu0, _, _), (b0, c0) = start[k]
        ss = snaps[k]
        win = [100.0 * cpu_ns_between(x[1], y[1]) / 1e9 / (y[0] - x[0]) for x, y in zip(ss, ss[1:])]
        cpu_ns = sum(cpu_ns_between(x[1], y[1]) for x, y in zip(ss, ss[1:]))
        span = ss[-1][0] - ss[0][0]
        res[k] = {
            "alive": v.p.poll() is None,
            # the figure: schedstat over the whole span (the sum of the windows)
            "cpu_pct": 100.0 * cpu_ns / 1e9 / span if span > 0 else None,
            "cpu_s": cpu_ns / 1e9,
            "cpu_windows_pct": summary(win),
            # cross-check: 10 ms ticks, whole process (threads that ended included)
            "cpu_ticks_pct": 100.0 * (cpu1 - cpu0) / (t1 - t0) if cpu0 is not None and cpu1 is not None else None,
            "cpu_ticks_s": (cpu1 - cpu0) if cpu0 is not None and cpu1 is not None else None,
            "threads_end": len(ss[-1][1]),
            "rss_windows_kib": summary([x[2] for x in ss if x[2] is not None]),
            "hwm_kib": hwm,
            "rss_kib": rss,
            "bytes_per_s": (b1 - b0) / (t1 - t0),
            "writes_per_s": (c1 - c0) / (t1 - t0),
        }
    viewers["patrol"].stop(quit_key=True)
    viewers["patronictl"].stop()
    return res


def idle_pair(a, bins, rounds, seconds, warmup=5.0):
    """Idle CPU of two patrol binaries (`bins`: [(label, path)], e.g. before and after a
    change) watching the healthy cluster side by side, so that both meet the same minutes of
    the machine: `rounds` fresh pairs (the start order alternating), each measured over
    `seconds` after `warmup`, CPU from the threads' schedstat (ns). One sample per process
    run; a run whose process died is counted as failed, never averaged in."""
    runs = []
    for i in range(rounds):
        order = bins if i % 2 == 0 else list(reversed(bins))
        viewers = {}
        try:
            for label, path in order:
                viewers[label] = PtyProc([path, "-c", a.config, "--interval", "1s"])
            time.sleep(warmup)
            t0 = time.monotonic()
            s0 = {k: task_cpu_ns(v.p.pid) for k, v in viewers.items()}
            time.sleep(seconds)
            t1 = time.monotonic()
            s1 = {k: task_cpu_ns(v.p.pid) for k, v in viewers.items()}
            row = {}
            for k, v in viewers.items():
                row[k] = {"alive": v.p.poll() is None,
                          "cpu_pct": 100.0 * cpu_ns_between(s0[k], s1[k]) / 1e9 / (t1 - t0)}
            runs.append(row)
            log(f"idle pair {i + 1}/{rounds}: " + ", ".join(f"{k} {x['cpu_pct']:.3f} %" for k, x in row.items()))
        finally:
            for v in viewers.values():
                v.stop(quit_key=True)
    res = {"seconds": seconds, "warmup_s": warmup, "rounds": rounds, "runs": runs,
           "labels": [label for label, _ in bins]}
    for label, _ in bins:
        ok = [r[label]["cpu_pct"] for r in runs if r.get(label, {}).get("alive")]
        res[label] = {"cpu_pct": summary(ok), "failed": len(runs) - len(ok)}
    if len(bins) == 2:
        (b, _), (c, _) = bins
        res["ratio"] = summary([r[c]["cpu_pct"] / r[b]["cpu_pct"] for r in runs
                                if r[b]["alive"] and r[c]["alive"] and r[b]["cpu_pct"] > 0])
    return res


def scale_lists(a, scale, n):
    """`list c000` in the scale namespace: patrol against patronictl, the same cluster."""
    return {"one_cluster": list_pairs(a, n, extra_patrol=("c000",), extra_ctl=("c000",),
                                      config=scale["scale_config"])}


def criterion(a):
    """`cargo bench --bench render`, then criterion's estimates (ns)."""
    log("criterion: cargo bench --bench render")
    env = dict(os.environ)
    subprocess.run(["cargo", "bench", "--quiet", "--bench", "render", "--", "--noplot"],
                   check=True, cwd=a.repo, env=env, stdout=sys.stderr)
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(a.repo, "target"))
    out = {}
    base = os.path.join(target, "criterion")
    for group in ("render", "update", "rows"):
        gdir = os.path.join(base, group)
        if not os.path.isdir(gdir):
            continue
        for bench in sorted(os.listdir(gdir)):
            f = os.path.join(gdir, bench, "new", "estimates.json")
            if os.path.exists(f):
                e = json.load(open(f))
                per_iter = []
                sf = os.path.join(gdir, bench, "new", "sample.json")
                if os.path.exists(sf):
                    smp = json.load(open(sf))
                    per_iter = [t / i for t, i in zip(smp.get("times", []), smp.get("iters", [])) if i]
                out[f"{group}/{bench}"] = {
                    # criterion's samples: each the mean time of one batch of iterations
                    "samples_ns": summary(per_iter),
                    "median_ns": e["median"]["point_estimate"],
                    "mean_ns": e["mean"]["point_estimate"],
                    "mean_ci_ns": [e["mean"]["confidence_interval"]["lower_bound"],
                                   e["mean"]["confidence_interval"]["upper_bound"]],
                }
    return out


def cmd_out(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=20).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


def meta(a):
    cpu = None
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = None
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) // 1024
    except OSError:
        pass
    rev = cmd_out(["git", "-C", a.repo, "rev-parse", "--short", "HEAD"])
    dirty = cmd_out(["git", "-C", a.repo, "status", "--porcelain", "--untracked-files=no"])
    pg = cmd_out([os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin") + "/postgres", "--version"])
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "mem_mib": mem,
        "kernel": platform.release(),
        "os": (open("/etc/os-release").read().split("PRETTY_NAME=")[1].split("\n")[0].strip('"')
               if os.path.exists("/etc/os-release") else None),
        "patrol": cmd_out([a.patrol, "--version"]),
        "patrol_rev": (rev or "?") + ("+dirty" if dirty else ""),
        "rustc": cmd_out(["rustc", "--version"]),
        "patronictl": cmd_out([a.patronictl, "version"]),
        "etcd": (cmd_out(["etcd", "--version"]) or "").split("\n")[0],
        "etcdctl": (cmd_out(["etcdctl", "version"]) or "").split("\n")[0],
        "postgres": pg,
        "python": (cmd_out([os.path.join(os.path.dirname(a.patronictl), "python"), "--version"])),
        "loadavg_start": loadavg(),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True, help="patronictl.yaml of the running cluster")
    ap.add_argument("--patrol", required=True)
    ap.add_argument("--live", required=True, help="the live bench binary")
    ap.add_argument("--patronictl", required=True)
    ap.add_argument("--out", required=True, help="directory for results")
    ap.add_argument("--repo", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap.add_argument("--config-v2", default="", help="patronictl.yaml of an etcd v2 cluster (events-v2, idle-v2)")
    ap.add_argument("--before-patrol", default="", help="patrol built at --before-rev (idle-ages)")
    ap.add_argument("--before-rev", default="", help="the commit --before-patrol was built at")
    ap.add_argument("--rules-before-patrol", default="", help="patrol built before the health rules (idle-rules)")
    ap.add_argument("--rules-before-rev", default="", help="the commit --rules-before-patrol was built at")
    ap.add_argument("--quick", action="store_true", help="few samples: check the suite works")
    ap.add_argument("--only", default="", help="comma-separated steps to run (default: all)")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    q = a.quick
    only = set(filter(None, a.only.split(",")))

    def want(step):
        return not only or step in only

    res_path = os.path.join(a.out, "results.json")
    res = json.load(open(res_path)) if only and os.path.exists(res_path) else {}
    res["meta"] = meta(a)
    res["meta"]["cluster"] = step_live(a, "info", "info.json", tolerant=True)
    res["quick"] = q
    steps = res.setdefault("steps", {})

    def done(name, t0):
        # the commit and date each step ran at: a rerun of some steps keeps the others' figures
        steps[name] = {"took_s": round(time.time() - t0, 1), "loadavg_after": loadavg(),
                       "rev": res["meta"].get("patrol_rev"), "date": res["meta"].get("date")}
        json.dump(res, open(res_path, "w"), indent=1)

    if want("render"):
        t = time.time()
        res["render"] = criterion(a)
        done("render", t)
    if want("events"):
        t = time.time()
        res["events"] = step_live(a, "events", "events.json", "--samples", 15 if q else 150,
                                  "--slow-samples", 9 if q else 102, "--per-session", 15 if q else 30,
                                  "--slow-per-session", 9 if q else 34)
        done("events", t)
    if want("switchover"):
        t = time.time()
        res["switchover"] = step_live(a, "switchover", "switchover.json", "--rounds", 4 if q else 40)
        done("switchover", t)
    if want("startup"):
        t = time.time()
        res["firstframe"] = step_live(a, "firstframe", "firstframe.json", "--pairs", 2 if q else 8)
        log("list pairs")
        res["list"] = list_pairs(a, 3 if q else 20)
        done("startup", t)
    if want("idle"):
        t = time.time()
        # one 10 ms tick must stay under 5 % of the figure: 180 s at 0.3 % of a core is 540 ms
        secs = 20 if q else 180
        log(f"idle {secs} s")
        res["idle"] = idle(a, secs)
        done("idle", t)
    if want("idle-ages"):
        t = time.time()
        # the clock on screen: frames, bytes and CPU of an idle TUI with no age and with an
        # age shown, before the ticking ages and the sign of life (--before-patrol) and now
        import idle_ages
        bins = ([("before", a.before_patrol)] if a.before_patrol else []) + [("after", a.patrol)]
        windows = 5 if q else 20
        log(f"idle ages: {', '.join(n for n, _ in bins)}, 2 phases of {windows} windows of 3 s each")
        ia = res["idle_ages"] = idle_ages.run(bins, a.config, a.out, windows, 3.0, 5.0 if q else 15.0)
        ia["before_rev"] = a.before_rev if a.before_patrol else None
        ia["after_rev"] = res["meta"].get("patrol_rev")
        done("idle-ages", t)
    if want("scale"):
        t = time.time()
        sc = res["scale"] = step_live(a, "scale", "scale.json", "--workdir", a.out,
                                      "--clusters", 200, "--members", 5, "--burst", 2000 if q else 10000,
                                      "--reps", 3 if q else 20, "--keep-namespace", 1)
        log("list c000 in the scale namespace")
        sc["lists"] = scale_lists(a, sc, 3 if q else 20)
        step_live(a, "scale-clean", "scale-clean.json")
        done("scale", t)
    if want("junk"):
        t = time.time()
        res["junk"] = step_live(a, "junk", "junk.json", "--keys", 2000 if q else 10000, "--big", 3,
                                "--timeout", 30 if q else 60, tolerant=True)
        done("junk", t)
    if want("burst"):
        t = time.time()
        # sizes and samples: PATROL_BENCH_BURST_SIZES / PATROL_BENCH_BURST_SAMPLES (20 samples
        # for a figure judged against a target; fewer only to see the step work)
        sizes = os.environ.get("PATROL_BENCH_BURST_SIZES", "2000,5000" if q else "10000,30000,100000")
        samples = int(os.environ.get("PATROL_BENCH_BURST_SAMPLES", "2" if q else "20"))
        res["burst"] = step_live(a, "burst", "burst.json", "--sizes", sizes, "--samples", samples,
                                 "--idle", 5 if q else 10, "--timeout", 120, tolerant=True)
        done("burst", t)
    # etcd v2 (`etcd:` sections): the same event-to-screen bench on the v2 key space, the
    # floor a raw v2 watch (curl ...?wait=true), and idle CPU while Patroni rewrites its keys
    # every loop (each rewrite is a v2 event patrol receives)
    if want("events-v2") and a.config_v2:
        t = time.time()
        res["events_v2"] = step_live(a, "events", "events-v2.json", "--samples", 15 if q else 150,
                                     "--slow-samples", 9 if q else 102, "--per-session", 15 if q else 30,
                                     "--slow-per-session", 9 if q else 34, config=a.config_v2)
        done("events-v2", t)
    if want("idle-v2") and a.config_v2:
        t = time.time()
        secs = 20 if q else 180
        log(f"idle (etcd v2) {secs} s")
        res["idle_v2"] = idle(a, secs, config=a.config_v2)
        done("idle-v2", t)
    if want("term"):
        t = time.time()
        secs = 20 if q else 180
        log(f"terminal bytes, idle {secs} s (direct sync on/off, inside tmux)")
        res["term"] = term(a, secs)
        done("term", t)
    if want("release"):
        t = time.time()
        log("release binary: size, glibc, --version start-up")
        res["release"] = release(a, 5 if q else 30)
        done("release", t)
    if want("etcdkill"):
        t = time.time()
        # its own 3-member etcd (scripts/cluster): one kill, restart and wait per sample
        res["etcdkill"] = step_live(a, "etcdkill", "etcdkill.json", "--samples", 3 if q else 20,
                                    tolerant=True)
        done("etcdkill", t)
    # issue 19: the health rules, the next-leader prediction and HAProxy, each on a sandbox
    # of its own (crashing and unrouting members would disturb the shared cluster); samples:
    # PATROL_BENCH_INCIDENT_SAMPLES (20: a figure judged against a target needs 20)
    inc = int(os.environ.get("PATROL_BENCH_INCIDENT_SAMPLES", "3" if q else "20"))
    if want("crash"):
        t = time.time()
        res["crash"] = step_live(a, "crash", "crash.json", "--samples", inc, tolerant=True)
        done("crash", t)
    if want("replica-stop"):
        t = time.time()
        res["replica_stop"] = step_live(a, "replica-stop", "replica-stop.json", "--samples", inc,
                                        tolerant=True)
        done("replica-stop", t)
    if want("haproxy"):
        t = time.time()
        res["haproxy"] = step_live(a, "haproxy", "haproxy.json", "--samples", inc, "--hold", 6,
                                   tolerant=True)
        done("haproxy", t)
    if want("idle-rules"):
        t = time.time()
        # idle CPU with the health rules on (they always are) against the commit before them
        rounds = int(os.environ.get("PATROL_BENCH_IDLE_ROUNDS", "3" if q else "20"))
        secs = 10 if q else 30
        if not a.rules_before_patrol:
            res["idle_rules"] = {"error": "no patrol built before the rules (--rules-before-patrol)"}
        else:
            log(f"idle, before ({a.rules_before_rev}) and after the health rules side by side: "
                f"{rounds} rounds of {secs} s")
            ir = res["idle_rules"] = idle_pair(a, [("before", a.rules_before_patrol), ("after", a.patrol)],
                                               rounds, secs)
            ir["before_rev"] = a.rules_before_rev
            ir["after_rev"] = res["meta"].get("patrol_rev")
        done("idle-rules", t)
    res["meta"]["loadavg_end"] = loadavg()
    json.dump(res, open(res_path, "w"), indent=1)
    log(f"results in {res_path}")


if __name__ == "__main__":
    main()
