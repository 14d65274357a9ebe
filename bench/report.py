#!/usr/bin/python3
"""Writes docs/benchmarks.md from the results.json of bench/run.py.

    bench/report.py target/bench/results.json docs/benchmarks.md

The hand-written analysis in bench/analysis.md (what the profiles showed) is included as is.
Standard library only.
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def g(d, *path):
    for p in path:
        if d is None:
            return None
        d = d.get(p) if isinstance(d, dict) else None
    return d


def f_ms(x, digits=None):
    if x is None:
        return "n/a"
    if digits is None:
        digits = 2 if abs(x) < 10 else (1 if abs(x) < 100 else 0)
    return f"{x:.{digits}f} ms"


def f_mib(kib):
    if kib is None:
        return "n/a"
    return f"{kib / 1024:.1f} MiB"


def f_pct(x):
    return "n/a" if x is None else f"{x:.2f} %"


def f_rate(x):
    if x is None:
        return "n/a"
    return f"{x:,.0f}/s"


def mark(ok):
    if ok is None:
        return "n/a"
    return "**met**" if ok else "**missed**"


def le(x, limit):
    return None if x is None else x <= limit


def median(xs):
    if not xs:
        return None
    v = sorted(xs)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(out)


def main():
    src, dst = sys.argv[1], sys.argv[2]
    r = json.load(open(src))
    m = r.get("meta", {})
    ev = r.get("events", {})
    sw = r.get("switchover", {})
    ff = r.get("firstframe", {})
    ls = r.get("list", {})
    idle = r.get("idle", {})
    sc = r.get("scale", {})
    rd = r.get("render", {})

    ev_p = g(ev, "patrol", "summary")
    ev_c = g(ev, "patronictl", "summary")
    ev_f = g(ev, "floor", "summary")
    sw_p, sw_c, sw_f = g(sw, "patrol"), g(sw, "patronictl"), g(sw, "floor")
    r1000 = g(rd, "render/members_1000_120x40", "mean_ns")
    r1000s = g(rd, "render/members_1000_80x24", "mean_ns")
    r3 = g(rd, "render/members_3_120x40", "mean_ns")
    rns = g(rd, "render/namespace_200x5_120x40", "mean_ns")
    ms = lambda ns: None if ns is None else ns / 1e6  # noqa: E731
    list_ratio = g(ls, "ratio", "median")
    model = g(sc, "model") or {}
    big = g(sc, "tui_big") or {}
    upd_put = g(rd, "update/member_put_1000_members", "mean_ns")
    upd_rest = g(rd, "update/rest_answer_1000_members", "mean_ns")
    per_s = lambda ns: None if not ns else 1e9 / ns  # noqa: E731

    def pct_core(ns, n):
        return "n/a" if ns is None else f"{100 * ns * n / 1e9:.0f} %"

    def backlog(t):
        if not t:
            return "n/a"
        if t.get("backlog_ms") is None:
            return f"not shown within {t.get('timeout_s', 0):.0f} s"
        return f_ms(t["backlog_ms"])
    tui = g(sc, "tui") or {}
    lists = g(sc, "lists") or {}

    rows = [
        ["Event to screen, median", f_ms(g(ev_p, "median")), f_ms(g(ev_c, "median")),
         f_ms(g(ev_f, "median")), "≤ 15 ms", mark(le(g(ev_p, "median"), 15))],
        ["Event to screen, p95", f_ms(g(ev_p, "p95")), f_ms(g(ev_c, "p95")), f_ms(g(ev_f, "p95")),
         "≤ 40 ms", mark(le(g(ev_p, "p95"), 40))],
        ["Event to screen, p99", f_ms(g(ev_p, "p99")), f_ms(g(ev_c, "p99")), f_ms(g(ev_f, "p99")),
         "", ""],
        [f"Switchover: new leader on screen after etcd names it (median / max, {g(sw_p, 'n') or 0}"
         f" + {g(sw_c, 'n') or 0} switchovers)",
         f"{f_ms(g(sw_p, 'median'))} / {f_ms(g(sw_p, 'max'))}",
         f"{f_ms(g(sw_c, 'median'))} / {f_ms(g(sw_c, 'max'))}",
         f"{f_ms(g(sw_f, 'median'))} / {f_ms(g(sw_f, 'max'))}",
         "≤ 20 ms", mark(le(g(sw_p, "max"), 20))],
        ["Start to first complete frame (median; patrol: every member with REST data, "
         "patronictl: `list -W` table)",
         f_ms(g(ff, "patrol", "complete_ms", "median")),
         f_ms(g(ff, "patronictl", "complete_ms", "median")), "", "", ""],
        ["`list` wall time (median of interleaved pairs)",
         f_ms(g(ls, "patrol", "wall_ms", "median")), f_ms(g(ls, "patronictl", "wall_ms", "median")),
         "", "≤ 0.1 × patronictl",
         mark(le(list_ratio, 0.1)) + (f" ({list_ratio:.3f} ×)" if list_ratio is not None else "")],
        ["`list` peak RSS (max)", f_mib(g(ls, "patrol", "maxrss_kib", "max")),
         f_mib(g(ls, "patronictl", "maxrss_kib", "max")), "", "≤ 15 MiB",
         mark(le(g(ls, "patrol", "maxrss_kib", "max"), 15 * 1024))],
        [f"Idle CPU, watching 3 members for {g(idle, 'seconds') or '?'} s (1 s REST polling)",
         f_pct(g(idle, "patrol", "cpu_pct")), f_pct(g(idle, "patronictl", "cpu_pct")), "",
         "≤ 0.3 % of a core", mark(le(g(idle, "patrol", "cpu_pct"), 0.3))],
        ["Idle peak RSS", f_mib(g(idle, "patrol", "hwm_kib")), f_mib(g(idle, "patronictl", "hwm_kib")),
         "", "≤ 20 MiB", mark(le(g(idle, "patrol", "hwm_kib"), 20 * 1024))],
        ["Render one frame, 1000 members, 120x40 (criterion, TestBackend)", f_ms(ms(r1000), 2), "", "",
         "≤ 2 ms", mark(le(ms(r1000), 2))],
        [f"Scale: initial load of {sc.get('clusters', '?')} clusters x {sc.get('members', '?')} members "
         f"({sc.get('keys', '?')} keys)",
         f_ms(model.get("load_ms")) + " (whole namespace, one prefix get)",
         f_ms(g(lists, "patronictl_all", "wall_ms", "median")) + " (`list` of all clusters)", "", "", ""],
        [f"Scale: {model.get('burst', '?')}-update burst over the namespace: consumed / etcd accepted",
         f_rate(model.get("consumed_eps")), "", f_rate(model.get("write_eps")) + " (writes)", "", ""],
        ["Scale: backlog after the last write (namespace model / TUI on a 5-member cluster)",
         f"{f_ms(model.get('backlog_ms'))} / {f_ms(tui.get('backlog_ms'))}", "", "",
         "no backlog (≤ 50 ms)",
         mark(None if model.get("backlog_ms") is None or tui.get("backlog_ms") is None
              else max(model["backlog_ms"], tui["backlog_ms"]) <= 50)],
        [f"Scale: backlog after the last write, TUI on a {big.get('members', '?')}-member cluster",
         backlog(big), "", "", "no backlog (≤ 50 ms)",
         mark(False if big and big.get("backlog_ms") is None
              else le(big.get("backlog_ms"), 50))],
        ["Scale: one member-key event applied by `App::update`, 1000-member cluster (criterion)",
         f"{f_ms(ms(upd_put), 3)} (≤ {f_rate(per_s(upd_put))})", "", "", "", ""],
        ["Scale: one REST answer applied, 1000-member cluster (criterion); at 1 s polling",
         f"{f_ms(ms(upd_rest), 3)}; {pct_core(upd_rest, 1000)} of a core", "", "", "", ""],
        ["Scale: memory (namespace model peak / TUI peak under burst)",
         f"{f_mib(model.get('hwm_kib'))} / {f_mib(tui.get('hwm_kib'))}",
         f_mib(g(lists, "patronictl_all", "maxrss_kib", "max")) + " (`list` of all clusters)", "", "", ""],
    ]

    out = []
    w = out.append
    w("# Benchmarks")
    w("")
    w(f"Generated by `scripts/bench` on **{m.get('date', '?')}**"
      + (" with `--quick` (few samples: a check that the suite runs, not a measurement)" if r.get("quick") else "")
      + ". Do not edit by hand: rerun `scripts/bench` (the analysis section comes from `bench/analysis.md`).")
    w("")
    w(f"- **Machine:** {m.get('cpu', '?')}, {m.get('cores', '?')} cores, {m.get('mem_mib', '?')} MiB; "
      f"{m.get('os', '?')}, kernel {m.get('kernel', '?')}. Load average at start "
      f"{' '.join(m.get('loadavg_start') or [])}, at end {' '.join(m.get('loadavg_end') or [])}.")
    w(f"- **Versions:** {m.get('patrol', '?')} (commit {m.get('patrol_rev', '?')}), {m.get('rustc', '?')}; "
      f"{m.get('patronictl', '?')} on {m.get('python', '?')}; {m.get('etcd', '?')}; {m.get('postgres', '?')}.")
    w("- **Cluster:** `scripts/cluster` on 127.0.0.1: etcd (single node) + 3 Patroni + PostgreSQL 15, "
      "`ttl` 20, `loop_wait` 1; everything, viewers included, on the same 2 cores.")
    w("- **Floor:** a raw `etcdctl watch` printing the key into a terminal: the fastest any viewer can be.")
    w("")
    w("## Summary")
    w("")
    w(table(["measurement", "patrol", "patronictl", "floor", "target", "target met"], rows))
    w("")

    # ---------------------------------------------------------------- details
    w("## 1. Event to screen")
    w("")
    w("Each viewer runs in a pseudo-terminal (120x40) read through vt100. The bench writes a change to "
      "etcd at a random moment (a uniform pause after the previous change became visible: "
      f"{g(ev, 'patrol', 'gap_ms')} ms for patrol and the floor, {g(ev, 'patronictl', 'gap_ms')} ms for "
      "patronictl, whose 2 s refresh cycle it must cover), and a reader thread stamps the arrival of the "
      "bytes that make the change visible. Time is from just before the `put` call. The changes cycle "
      "through a member's state, a new member key, and the leader key, on a synthetic cluster `evbench` "
      "in the real cluster's etcd (Patroni keeps running beside it); its member keys carry no `api_url`, "
      "so this is the etcd-to-screen path alone. Each viewer process takes 30 changes (patronictl 34), "
      "and the sessions are interleaved (patrol, floor, patronictl, patrol, ...) so that all three meet "
      "the same background load.")
    w("")
    krows = []
    for name in ("patrol", "patronictl", "floor"):
        e = ev.get(name) or {}
        s = e.get("summary") or {}
        krows.append([e.get("viewer", name), s.get("n", 0), e.get("missed", "?"), f_ms(s.get("min")),
                      f_ms(s.get("median")), f_ms(s.get("p95")), f_ms(s.get("p99")), f_ms(s.get("max"))])
        for kind, ks in (e.get("by_kind") or {}).items():
            if ks:
                krows.append([f"  {kind}", ks.get("n"), "", f_ms(ks.get("min")), f_ms(ks.get("median")),
                              f_ms(ks.get("p95")), f_ms(ks.get("p99")), f_ms(ks.get("max"))])
    w(table(["viewer / change", "samples", "never shown", "min", "median", "p95", "p99", "max"], krows))
    w("")
    ps = [x for x in (g(ev, "patrol", "samples") or []) if x.get("ms") is not None]
    near = [x["ms"] for x in ps if x.get("screen_changed_before_ms") is not None
            and x["screen_changed_before_ms"] < 33]
    far = [x["ms"] for x in ps if not (x.get("screen_changed_before_ms") is not None
                                        and x["screen_changed_before_ms"] < 33)]
    acks = [x["put_ack_ms"] for v in ("patrol", "floor", "patronictl")
            for x in (g(ev, v, "samples") or []) if x.get("put_ack_ms") is not None]
    if acks:
        slow = [x for x in ps if x.get("put_ack_ms", 0) > 15]
        w(f"etcd itself acknowledged the writes in {f_ms(median(acks))} (median) but took more than 15 ms "
          f"for {sum(1 for a in acks if a > 15)} of {len(acks)} writes (max {f_ms(max(acks))}; a single-node "
          f"etcd on a shared disk); {len(slow)} of patrol's samples had such a slow write"
          + (f" (patrol's times for them: {', '.join(f_ms(x['ms']) for x in slow)})" if slow else "") + ".")
        w("")
    if ps:
        w(f"patrol draws up to 3 frames at once after a quiet moment and 30 a second in a sustained burst "
          f"(a token bucket). Of its {len(ps)} samples, {len(near)} came less than "
          f"33 ms after its screen had last changed (median {f_ms(median(near))}, max {f_ms(max(near) if near else None)}); "
          f"the other {len(far)} had a median of {f_ms(median(far))} and a max of {f_ms(max(far) if far else None)}.")
        w("")

    w("## 2. Switchover visibility")
    w("")
    w("A real switchover (`POST /switchover` to the leader's REST API). The reference moment is the "
      "bench's own etcd watch receiving the leader key's `put` naming the new leader; each viewer's time "
      "is from then until its screen shows the new leader (patrol's header, patronictl's Role column, "
      "the floor's printed value). Rounds alternate between patrol and `patronictl list -W`, so only one "
      "of the two heavy viewers runs at a time; the floor runs in every round.")
    w("")
    srows = []
    for x in sw.get("rounds", []):
        srows.append([x.get("viewer"), f"{x.get('from')} → {x.get('to')}", x.get("http_status"),
                      f_ms(x.get("post_to_etcd_ms")), f_ms(x.get("leader_key_deleted_before_ms")),
                      f_ms(x.get("screen_changed_before_ms")),
                      f_ms(x.get("viewer_ms")), f_ms(x.get("floor_ms"))])
    w(table(["viewer", "switchover", "HTTP", "request to new leader key", "old key deleted before",
             "viewer's screen last changed before", "viewer after etcd", "floor after etcd"], srows))
    w("")

    w("## 3. Start-up")
    w("")
    w("First frame: the real TUI from `exec` until every member's row shows `ok` in the API column "
      "(its REST answer is in); `patronictl list -W` until its first table lists every member. `list`: "
      "`patrol -c F list` against `patronictl -c F list`, output to /dev/null, wall time and peak RSS "
      "from `wait4`, pairs interleaved with the order alternating, after one unmeasured run of each.")
    w("")
    fp, fc = ff.get("patrol") or {}, ff.get("patronictl") or {}
    w(table(["", "patrol", "patronictl"], [
        ["first output (median)", f_ms(g(fp, "first_output_ms", "median")), f_ms(g(fc, "first_output_ms", "median"))],
        ["members listed (median)", f_ms(g(fp, "members_listed_ms", "median")), f_ms(g(fc, "complete_ms", "median"))],
        ["complete frame (median / max)",
         f"{f_ms(g(fp, 'complete_ms', 'median'))} / {f_ms(g(fp, 'complete_ms', 'max'))}",
         f"{f_ms(g(fc, 'complete_ms', 'median'))} / {f_ms(g(fc, 'complete_ms', 'max'))}"],
        ["RSS at that moment (max VmHWM)", f_mib(g(fp, "hwm_kib", "max")), f_mib(g(fc, "hwm_kib", "max"))],
        [f"`list` wall time (median / p95, {g(ls, 'patrol', 'wall_ms', 'n') or 0} pairs)",
         f"{f_ms(g(ls, 'patrol', 'wall_ms', 'median'))} / {f_ms(g(ls, 'patrol', 'wall_ms', 'p95'))}",
         f"{f_ms(g(ls, 'patronictl', 'wall_ms', 'median'))} / {f_ms(g(ls, 'patronictl', 'wall_ms', 'p95'))}"],
        ["`list` CPU time (median)", f_ms(g(ls, "patrol", "cpu_ms", "median")),
         f_ms(g(ls, "patronictl", "cpu_ms", "median"))],
        ["`list` peak RSS (median / max)",
         f"{f_mib(g(ls, 'patrol', 'maxrss_kib', 'median'))} / {f_mib(g(ls, 'patrol', 'maxrss_kib', 'max'))}",
         f"{f_mib(g(ls, 'patronictl', 'maxrss_kib', 'median'))} / {f_mib(g(ls, 'patronictl', 'maxrss_kib', 'max'))}"],
        ["`list` wall-time ratio patrol / patronictl (median / max)",
         f"{g(ls, 'ratio', 'median') or 0:.3f} / {g(ls, 'ratio', 'max') or 0:.3f}", ""],
    ]))
    w("")

    w("## 4. Idle cost")
    w("")
    w(f"patrol's TUI (`--interval 1s`: each member's REST API polled every second, live lag) and "
      f"`patronictl list -W`, side by side on the healthy 3-member cluster, each in its own 120x40 "
      f"pseudo-terminal; CPU is user + system time from /proc over {g(idle, 'seconds') or '?'} s after "
      f"{g(idle, 'warmup_s') or '?'} s of warm-up (10 ms clock ticks), RSS is VmHWM.")
    w("")
    ip, ic = idle.get("patrol") or {}, idle.get("patronictl") or {}
    w(table(["", "patrol", "patronictl list -W"], [
        ["CPU, % of one core", f_pct(ip.get("cpu_pct")), f_pct(ic.get("cpu_pct"))],
        ["CPU seconds in the window", f"{ip.get('cpu_s', 0) or 0:.2f} s", f"{ic.get('cpu_s', 0) or 0:.2f} s"],
        ["peak RSS (VmHWM)", f_mib(ip.get("hwm_kib")), f_mib(ic.get("hwm_kib"))],
        ["bytes written to the terminal per second", f"{ip.get('bytes_per_s', 0):.0f}", f"{ic.get('bytes_per_s', 0):.0f}"],
        ["terminal writes per second", f"{ip.get('writes_per_s', 0):.1f}", f"{ic.get('writes_per_s', 0):.1f}"],
    ]))
    w("")

    w("## 5. Scale")
    w("")
    w(f"A synthetic namespace `/bench-scale/` in the same etcd: {sc.get('clusters', '?')} clusters x "
      f"{sc.get('members', '?')} member keys, plus `leader`, `config` and `initialize` each "
      f"({sc.get('keys', '?')} keys, written in {sc.get('populate_s', 0) or 0:.1f} s); member keys point "
      "their `api_url` at the real members, so patrol's pollers do real work. Two runs:")
    w("")
    w("- **Namespace model:** patrol's model (`runtime::Headless` watching the whole namespace, the same "
      "tasks, channel and `App::update` as the TUI) in a child process. Load = start to every cluster "
      f"loaded. Then {model.get('burst', '?')} member-key updates spread over all clusters, written with "
      "32 in flight, and a last sentinel key; consumed = updates / (first write to sentinel applied); "
      "backlog = sentinel acknowledged by etcd to sentinel applied.")
    w("- **TUI:** the real binary on cluster `c000` while that one cluster takes the whole burst "
      f"({tui.get('burst', '?')} updates of its 5 member keys) and then the sentinel (a new member key); "
      "backlog = sentinel acknowledged to the sentinel on screen.")
    w(f"- **TUI at {big.get('members', '?')} members:** the same on a cluster `big` of "
      f"{big.get('members', '?')} member keys without `api_url` (no REST polling), "
      f"{big.get('burst', '?')} updates spread over its members; the sentinel shows as the member count "
      "in the header.")
    w("")
    w(table(["", "value"], [
        ["namespace load (start to all clusters in the model)", f_ms(model.get("load_ms"))],
        ["model RSS before start / after load / peak after burst",
         f"{f_mib(model.get('rss_before_kib'))} / {f_mib(model.get('rss_loaded_kib'))} / {f_mib(model.get('hwm_kib'))}"],
        ["burst written in / etcd accepted", f"{model.get('write_s', 0) or 0:.2f} s / {f_rate(model.get('write_eps'))}"],
        ["consumed by the model", f_rate(model.get("consumed_eps"))],
        ["backlog after the last write (model)", f_ms(model.get("backlog_ms"))],
        ["`App::update` alone on the same burst (capacity)", f_rate(model.get("update_only_eps"))],
        ["TUI: burst written in / accepted", f"{tui.get('write_s', 0) or 0:.2f} s / {f_rate(tui.get('write_eps'))}"],
        ["TUI: backlog after the last write", f_ms(tui.get("backlog_ms"))],
        ["TUI: CPU during the burst", f"{tui.get('cpu_s', 0) or 0:.2f} s ({(tui.get('cpu_pct_of_core') or 0):.0f} % of a core)"],
        ["TUI: bytes to the terminal during the burst", f"{tui.get('bytes_to_terminal', 0):,}"],
        ["TUI: peak RSS", f_mib(tui.get("hwm_kib"))],
        [f"TUI on {big.get('members', '?')} members (no REST): burst written in / accepted",
         f"{big.get('write_s', 0) or 0:.2f} s / {f_rate(big.get('write_eps'))}"],
        [f"TUI on {big.get('members', '?')} members: backlog after the last write", backlog(big)],
        [f"TUI on {big.get('members', '?')} members: consumed", f_rate(big.get("consumed_eps"))],
        [f"TUI on {big.get('members', '?')} members: CPU during the burst",
         f"{big.get('cpu_s', 0) or 0:.2f} s ({(big.get('cpu_pct_of_core') or 0):.0f} % of a core)"],
        [f"TUI on {big.get('members', '?')} members: peak RSS", f_mib(big.get("hwm_kib"))],
        [f"`patronictl list` of all {g(lists, 'patronictl_all', 'clusters') or '?'} clusters (median)",
         f"{f_ms(g(lists, 'patronictl_all', 'wall_ms', 'median'))}, peak RSS {f_mib(g(lists, 'patronictl_all', 'maxrss_kib', 'max'))}"],
        ["`list c000` in this namespace: patrol / patronictl (median)",
         f"{f_ms(g(lists, 'one_cluster', 'patrol', 'wall_ms', 'median'))} / "
         f"{f_ms(g(lists, 'one_cluster', 'patronictl', 'wall_ms', 'median'))}"],
    ]))
    w("")
    w("Render cost per frame (criterion, `ratatui::backend::TestBackend`, mean; a frame is "
      "`Terminal::draw`: rows derived from the state, layout, widgets, diff):")
    w("")
    rrows = []
    for k, v in sorted(rd.items()):
        rrows.append([f"`{k}`", f_ms(v["mean_ns"] / 1e6, 3),
                      f"{f_ms(v['mean_ci_ns'][0] / 1e6, 3)} … {f_ms(v['mean_ci_ns'][1] / 1e6, 3)}"])
    w(table(["benchmark", "mean", "95 % CI"], rrows))
    w("")
    _ = (r3, rns, r1000s)

    analysis = os.path.join(HERE, "analysis.md")
    if os.path.exists(analysis):
        w(open(analysis).read().rstrip())
        w("")
    w("## Rerun")
    w("")
    w("```sh")
    w("scripts/bench          # set up, build, start a cluster in /tmp, run everything, rewrite this file")
    w("scripts/bench --quick  # a few samples of each: does the suite work?")
    w("```")
    w("")
    w("Raw results: `target/bench/results.json` (and one JSON file per step beside it). The pieces: "
      "`benches/live.rs` (screens, switchover, scale), `benches/render.rs` (criterion), `bench/run.py` "
      "(process-level figures, the driver), `bench/report.py` (this file). Per-step durations: "
      + ", ".join(f"{k} {v.get('took_s')} s" for k, v in (r.get("steps") or {}).items()) + ".")
    w("")
    os.makedirs(os.path.dirname(os.path.abspath(dst)), exist_ok=True)
    open(dst, "w").write("\n".join(out))


if __name__ == "__main__":
    main()
