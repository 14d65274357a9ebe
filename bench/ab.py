#!/usr/bin/python3
"""A/B of two patrol binaries on the same running cluster, interleaved: is B slower than A?

Called by scripts/bench-ab (which builds both revisions and starts the cluster); by hand:

    bench/ab.py --config CLUSTER/patronictl.yaml --a OLD/patrol --b NEW/patrol \
        --live target/release/deps/live-HASH --patronictl .venv/bin/patronictl --out target/bench-ab

The same measuring code (one `live` bench binary, one Python process) drives both binaries, so
only the binary differs. Every step alternates A and B in rounds, the order flipping each round,
so that a noisy minute on the machine (an etcd fsync stall, a cron job) lands on both sides
instead of on one run. Steps:

- events: event-to-screen, `live events --viewers patrol,floor` per round and side; the floor (a
  raw etcd watch) runs in the same session as each side, so its figure says how noisy that
  side's minutes were.
- startup: first frame (`live firstframe`, patrol's half) and `patrol list` wall time.
- junk: the junk flood's change-to-screen, a few runs per side (each run is one sample).

Writes results.json and a Markdown table (ab.md) with n, median, p25-p75, p95, p99 and max of
each side. Standard library only.
"""

import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import log, run_measured  # noqa: E402
from stats import summary  # noqa: E402


def live(a, side, sub, name, *extra):
    """One run of a `live` subcommand with side's binary as patrol; its JSON, or None."""
    binary = {"a": a.a, "b": a.b}[side]
    path = os.path.join(a.out, name)
    if os.path.exists(path):
        os.unlink(path)
    argv = [a.live, sub, "--config", a.config, "--patrol", binary, "--patronictl", a.patronictl,
            "--out", path, *map(str, extra)]
    log(sub, {"a": a.a_label, "b": a.b_label}[side], *map(str, extra))
    p = subprocess.run(argv)
    if p.returncode != 0 or not os.path.exists(path):
        log(f"{sub} failed (exit {p.returncode})")
        return None
    return json.load(open(path))


def rounds(n):
    """Side order per round: A B, B A, A B, ..."""
    return [("a", "b") if i % 2 == 0 else ("b", "a") for i in range(n)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--a", required=True, help="the patrol binary before")
    ap.add_argument("--b", required=True, help="the patrol binary after")
    ap.add_argument("--a-label", default="A")
    ap.add_argument("--b-label", default="B")
    ap.add_argument("--live", required=True)
    ap.add_argument("--patronictl", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--rounds", type=int, default=6, help="event rounds per side")
    ap.add_argument("--per-round", type=int, default=30, help="event samples per round and side")
    ap.add_argument("--list-pairs", type=int, default=30)
    ap.add_argument("--frame-rounds", type=int, default=5, help="first-frame rounds (4 runs each)")
    ap.add_argument("--junk-runs", type=int, default=2, help="junk runs per side (0: skip)")
    ap.add_argument("--only", default="", help="comma-separated: events,startup,junk")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    only = set(filter(None, a.only.split(",")))
    want = lambda s: not only or s in only  # noqa: E731
    bins = {"a": a.a, "b": a.b}
    labels = {"a": a.a_label, "b": a.b_label}
    res = {"labels": labels, "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
           "loadavg_start": open("/proc/loadavg").read().split()[:3]}
    raw = {s: {} for s in "ab"}

    def put(side, key, xs):
        raw[side].setdefault(key, []).extend(x for x in xs if x is not None)

    if want("events"):
        for r, order in enumerate(rounds(a.rounds)):
            for side in order:
                d = live(a, side, "events", f"events-{r}-{side}.json", "--viewers",
                         "patrol,floor", "--samples", a.per_round, "--per-session", a.per_round)
                if d is None:
                    continue
                for who in ("patrol", "floor"):
                    rows = d.get(who, {}).get("samples", [])
                    put(side, f"events.{who}.ms", [x.get("ms") for x in rows])
                    put(side, f"events.{who}.missed", [1 for x in rows if x.get("ms") is None])
    if want("startup"):
        for r, order in enumerate(rounds(a.frame_rounds)):
            for side in order:
                d = live(a, side, "firstframe", f"firstframe-{r}-{side}.json", "--pairs", 2)
                if d is None:
                    continue
                for row in d.get("runs", []):
                    if row.get("viewer") == "patrol":
                        for k in ("first_output_ms", "members_listed_ms", "complete_ms"):
                            put(side, f"firstframe.{k}", [row.get(k)])
        argv = {s: [bins[s], "-c", a.config, "list"] for s in "ab"}
        for s in "ab":
            run_measured(argv[s])  # page cache
        log(f"list pairs x{a.list_pairs}")
        for order in rounds(a.list_pairs):
            for side in order:
                m = run_measured(argv[side])
                if m["rc"] == 0:
                    put(side, "list.wall_ms", [m["wall_ms"]])
                    put(side, "list.cpu_ms", [m["cpu_ms"]])
                    put(side, "list.maxrss_kib", [m["maxrss_kib"]])
    if want("junk") and a.junk_runs > 0:
        for r, order in enumerate(rounds(a.junk_runs)):
            for side in order:
                d = live(a, side, "junk", f"junk-{r}-{side}.json", "--keys", 10000, "--big", 3,
                         "--timeout", 60)
                if d is None:
                    continue
                run = d.get("running", {})
                put(side, "junk.change_to_screen_ms", [run.get("change_to_screen_ms")])
                put(side, "junk.hwm_kib", [run.get("hwm_kib")])
                put(side, "junk.fds_peak", [run.get("fds_peak")])
                put(side, "junk.fresh_load_ms", [d.get("fresh", {}).get("load_ms")])
    res["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    res["raw"] = raw
    keys = sorted(set(raw["a"]) | set(raw["b"]))
    res["summary"] = {k: {s: summary(raw[s].get(k, [])) for s in "ab"} for k in keys}
    json.dump(res, open(os.path.join(a.out, "results.json"), "w"), indent=1)

    def fmt(s):
        if not s:
            return "-"
        f = (lambda x: f"{x:.0f}") if s["max"] >= 1000 else (lambda x: f"{x:.2f}")
        return (f"n={s['n']} med {f(s['median'])} [{f(s['p25'])}-{f(s['p75'])}] "
                f"p95 {f(s['p95'])} p99 {f(s['p99'])} max {f(s['max'])}")

    lines = [f"| figure | {labels['a']} | {labels['b']} |", "|---|---|---|"]
    for k in keys:
        if k.endswith(".missed"):
            lines.append(f"| {k} | {len(raw['a'].get(k, []))} | {len(raw['b'].get(k, []))} |")
        else:
            lines.append(f"| {k} | {fmt(res['summary'][k]['a'])} | {fmt(res['summary'][k]['b'])} |")
    md = "\n".join(lines) + "\n"
    open(os.path.join(a.out, "ab.md"), "w").write(md)
    print(md)
    log(f"results in {a.out}/results.json, table in {a.out}/ab.md")


if __name__ == "__main__":
    main()
