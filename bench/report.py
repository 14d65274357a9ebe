#!/usr/bin/python3
"""Writes docs/benchmarks.md from the results.json of bench/run.py.

    bench/report.py target/bench/results.json docs/benchmarks.md

Every sentence that states a result is computed from results.json; the hand-written analysis
in bench/analysis.md (what the profiles showed) is included as is. Percentiles and medians are
those of bench/stats.py (linear interpolation between ranks). A figure is judged against its
target only when it rests on at least MIN_N samples. Standard library only.
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from stats import median  # noqa: E402

# the fewest samples a figure judged against a target may rest on
MIN_N = 20


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


def f_pct(x, digits=2):
    return "n/a" if x is None else f"{x:.{digits}f} %"


def f_rate(x):
    if x is None:
        return "n/a"
    return f"{x:,.0f}/s"


def f_n(s):
    return str(g(s, "n") or 0)


def spread(s, fmt=f_ms):
    """min · p25–p75 · max of a stats.summary."""
    if not s:
        return "n/a"
    return f"{fmt(s['min'])} · {fmt(s['p25'])}–{fmt(s['p75'])} · {fmt(s['max'])}"


def verdict(x, limit, n, extra_ok=True, why=""):
    """met / missed, or why the figure is not judged (too few samples, too coarse a clock)."""
    if x is None:
        return "n/a"
    if (n or 0) < MIN_N:
        return f"not judged (n = {n or 0} < {MIN_N})"
    if not extra_ok:
        return f"not judged ({why})"
    return "**met**" if x <= limit else "**missed**"


def faster(a, b):
    """How a compares with b in words: 'N × faster', 'N × slower', 'the same'."""
    if a is None or not b or not a:
        return "n/a"
    r = b / a
    if 0.95 <= r <= 1.05:
        return "about the same"
    return f"{r:.1f} × faster" if r > 1 else f"{1 / r:.1f} × slower"


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(out)


def timeout(x, t, fmt=f_ms):
    return fmt(x) if x is not None else f"not within {t or 0:.0f} s"


def fig_s(x):
    """A figure of the incident steps (`{"summary": ..., "timeouts": k}`): its summary."""
    return g(x, "summary")


def every_one(x, limit):
    """Judged on every sample (the max), a timed-out sample counting as missed."""
    s = fig_s(x)
    n = (g(s, "n") or 0) + (g(x, "timeouts") or 0)
    if s is None and not n:
        return "n/a"
    if n < MIN_N:
        return f"not judged (n = {n} < {MIN_N})"
    if g(x, "timeouts"):
        return "**missed**"
    return verdict(g(s, "max"), limit, n)


def med_max(x, fmt=f_ms):
    """`median (max)`, and how many timed out."""
    s = fig_s(x)
    if not s:
        return "n/a" if not g(x, "timeouts") else f"{g(x, 'timeouts')} timed out"
    t = g(x, "timeouts") or 0
    return f"{fmt(s['median'])} ({fmt(s['max'])})" + (f"; {t} timed out" if t else "")


def ia_growth(ia, phase):
    """Frames a minute the idle-ages step's after binary drew more than its before binary in
    one phase (medians); after's own median when there was no before binary."""
    a = g(ia, "after", phase, "frames_per_min", "median")
    if a is None:
        return None
    b = g(ia, "before", phase, "frames_per_min", "median")
    return a - (b or 0)


def main():
    src, dst = sys.argv[1], sys.argv[2]
    r = json.load(open(src))
    m = r.get("meta", {})
    cl = m.get("cluster") or {}
    ev = r.get("events", {})
    sw = r.get("switchover", {})
    ff = r.get("firstframe", {})
    ls = r.get("list", {})
    idle = r.get("idle", {})
    sc = r.get("scale", {})
    rd = r.get("render", {})
    jk = r.get("junk", {})

    ev_p = g(ev, "patrol", "summary")
    ev_c = g(ev, "patronictl", "summary")
    ev_f = g(ev, "floor", "summary")
    sw_p, sw_c, sw_f = g(sw, "patrol"), g(sw, "patronictl"), g(sw, "floor")
    r1000 = rd.get("render/members_1000_120x40") or {}
    ms = lambda ns: None if ns is None else ns / 1e6  # noqa: E731
    ns_ms = lambda s: None if not s else {k: (v / 1e6 if k != "n" else v) for k, v in s.items()}  # noqa: E731
    list_ratio = g(ls, "ratio")
    tui = g(sc, "tui") or {}
    big = g(sc, "tui_big") or {}
    lists = g(sc, "lists", "one_cluster") or {}
    upd_put = g(rd, "update/member_put_1000_members", "mean_ns")
    upd_rest = g(rd, "update/rest_answer_1000_members", "mean_ns")
    ip, ic = idle.get("patrol") or {}, idle.get("patronictl") or {}
    tick_s = 1 / (idle.get("clk_tck") or 100)
    tick_share = (tick_s / ip["cpu_s"]) if ip.get("cpu_s") else None
    idle_n = g(ip, "cpu_windows_pct", "n")
    cfg = cl.get("config") or {}
    jr, jf, jd = jk.get("running") or {}, jk.get("fresh") or {}, jk.get("deleted") or {}
    jt = jk.get("timeout_s")
    ev2 = r.get("events_v2") or {}
    ev2_p, ev2_c, ev2_f = g(ev2, "patrol", "summary"), g(ev2, "patronictl", "summary"), g(ev2, "floor", "summary")
    idle2 = r.get("idle_v2") or {}
    ip2, ic2 = idle2.get("patrol") or {}, idle2.get("patronictl") or {}
    idle2_n = g(ip2, "cpu_windows_pct", "n")
    ek = r.get("etcdkill") or {}
    ek_s = ek.get("summary")
    tm = r.get("term") or {}
    tm_on, tm_off, tm_tmux = tm.get("direct_sync_on") or {}, tm.get("direct_sync_off") or {}, tm.get("tmux") or {}
    rl = r.get("release") or {}
    ia = r.get("idle_ages") or {}
    ia_fa = g(ia, "after", "age_shown", "frames_per_min")
    cr = r.get("crash") or {}
    rs = r.get("replica_stop") or {}
    hx = r.get("haproxy") or {}
    ir = r.get("idle_rules") or {}
    cr_goal = (cr.get("interval_ms") or 1000) + 200
    cr_p = cr.get("predictions") or {}
    cr_n = sum(cr_p.get(k, 0) for k in ("right", "wrong", "undecided"))

    rows = [
        ["Event to screen, median", f_n(ev_p), f_ms(g(ev_p, "median")), spread(ev_p),
         f_ms(g(ev_c, "median")), f_ms(g(ev_f, "median")), "≤ 15 ms",
         verdict(g(ev_p, "median"), 15, g(ev_p, "n"))],
        ["Event to screen, p95", f_n(ev_p), f_ms(g(ev_p, "p95")), "", f_ms(g(ev_c, "p95")),
         f_ms(g(ev_f, "p95")), "≤ 40 ms", verdict(g(ev_p, "p95"), 40, g(ev_p, "n"))],
        ["Event to screen, p99", f_n(ev_p), f_ms(g(ev_p, "p99")), "", f_ms(g(ev_c, "p99")),
         f_ms(g(ev_f, "p99")), "", ""],
        [f"Switchover: new leader on screen after etcd names it, max (median) "
         f"({f_n(sw_p)} + {f_n(sw_c)} switchovers)",
         f_n(sw_p), f"{f_ms(g(sw_p, 'max'))} ({f_ms(g(sw_p, 'median'))})", spread(sw_p),
         f"{f_ms(g(sw_c, 'max'))} ({f_ms(g(sw_c, 'median'))})",
         f"{f_ms(g(sw_f, 'max'))} ({f_ms(g(sw_f, 'median'))})",
         "≤ 20 ms, every one", verdict(g(sw_p, "max"), 20, g(sw_p, "n"))],
        ["Start to first complete frame, median (patrol: every member with REST data; "
         "patronictl: `list -W` table)", f_n(g(ff, "patrol", "complete_ms")),
         f_ms(g(ff, "patrol", "complete_ms", "median")), spread(g(ff, "patrol", "complete_ms")),
         f_ms(g(ff, "patronictl", "complete_ms", "median")), "", "", ""],
        ["`list` wall time, median of the per-pair ratio patrol / patronictl", f_n(list_ratio),
         f"{g(list_ratio, 'median'):.3f} × ({f_ms(g(ls, 'patrol', 'wall_ms', 'median'))})"
         if g(list_ratio, "median") is not None else "n/a",
         spread(g(ls, "patrol", "wall_ms")), f_ms(g(ls, "patronictl", "wall_ms", "median")), "",
         "≤ 0.1 × patronictl", verdict(g(list_ratio, "median"), 0.1, g(list_ratio, "n"))],
        ["`list` peak RSS, max over the runs", f_n(g(ls, "patrol", "maxrss_kib")),
         f_mib(g(ls, "patrol", "maxrss_kib", "max")), spread(g(ls, "patrol", "maxrss_kib"), f_mib),
         f_mib(g(ls, "patronictl", "maxrss_kib", "max")), "", "≤ 15 MiB",
         verdict(g(ls, "patrol", "maxrss_kib", "max"), 15 * 1024, g(ls, "patrol", "maxrss_kib", "n"))],
        [f"Idle CPU over {idle.get('seconds', '?')} s, % of a core (n = {idle.get('window_s', '?')} s windows; "
         "patrol polls REST every 1 s, patronictl `list -w 1` reads etcd every 1 s and polls no REST)",
         str(idle_n or 0), f_pct(ip.get("cpu_pct"), 3), spread(ip.get("cpu_windows_pct"), lambda x: f_pct(x, 3)),
         f_pct(ic.get("cpu_pct"), 3), "", "≤ 0.3 % of a core",
         verdict(ip.get("cpu_pct"), 0.3, idle_n, tick_share is not None and tick_share < 0.05,
                 "one clock tick is 5 % or more of the figure")],
        ["Idle TUI with an age on screen (the Operations panel's `Ns ago`): frames a minute more than "
         f"before (commit {ia.get('before_rev') or 'n/a'}), medians of {ia.get('window_s', '?')} s windows "
         "(after's median); section 4b", f_n(ia_fa),
         f"{ia_growth(ia, 'age_shown'):+,.0f} ({g(ia_fa, 'median'):,.0f})" if ia_fa else "n/a",
         spread(ia_fa, lambda x: f"{x:,.0f}"),
         "", "", "≤ +60 (one a second)",
         verdict(ia_growth(ia, "age_shown"), 60,
                 min(g(ia_fa, "n") or 0, g(ia, "before", "age_shown", "frames_per_min", "n") or 0))],
        ["Idle peak RSS (VmHWM; n = RSS samples)", f_n(ip.get("rss_windows_kib")), f_mib(ip.get("hwm_kib")),
         spread(ip.get("rss_windows_kib"), f_mib), f_mib(ic.get("hwm_kib")), "", "≤ 20 MiB",
         verdict(ip.get("hwm_kib"), 20 * 1024, g(ip, "rss_windows_kib", "n"))],
        ["Render one frame, 1000 members, 120x40 (criterion mean, TestBackend; n = criterion samples)",
         f_n(r1000.get("samples_ns")), f_ms(ms(r1000.get("mean_ns")), 2),
         spread(ns_ms(r1000.get("samples_ns")), lambda x: f_ms(x, 2)), "", "", "≤ 2 ms",
         verdict(ms(r1000.get("mean_ns")), 2, g(r1000, "samples_ns", "n"))],
        [f"Scale: backlog after a {tui.get('burst', '?')}-update burst, TUI on a {tui.get('members', '?')}-member "
         "cluster (each polled every 1 s), max (median)", f_n(tui.get("backlog_ms")),
         f"{f_ms(g(tui, 'backlog_ms', 'max'))} ({f_ms(g(tui, 'backlog_ms', 'median'))})"
         + (f"; {tui['missed']} not shown within {tui.get('timeout_s', 0):.0f} s" if tui.get("missed") else ""),
         spread(tui.get("backlog_ms")), "", "", "no backlog (≤ 50 ms), every burst",
         "**missed**" if tui.get("missed") else verdict(g(tui, "backlog_ms", "max"), 50, g(tui, "backlog_ms", "n"))],
        [f"Scale: backlog after a {big.get('burst', '?')}-update burst, TUI on a {big.get('members', '?')}-member "
         "cluster (no REST), max (median)", f_n(big.get("backlog_ms")),
         f"{f_ms(g(big, 'backlog_ms', 'max'))} ({f_ms(g(big, 'backlog_ms', 'median'))})"
         + (f"; {big['missed']} not shown within {big.get('timeout_s', 0):.0f} s" if big.get("missed") else ""),
         spread(big.get("backlog_ms")), "", "", "no backlog (≤ 50 ms), every burst",
         "**missed**" if big.get("missed") else verdict(g(big, "backlog_ms", "max"), 50, g(big, "backlog_ms", "n"))],
        [f"Scale: `list c000` in a namespace of {sc.get('clusters', '?')} clusters, median (both list the same cluster)",
         f_n(g(lists, "patrol", "wall_ms")), f_ms(g(lists, "patrol", "wall_ms", "median")),
         spread(g(lists, "patrol", "wall_ms")), f_ms(g(lists, "patronictl", "wall_ms", "median")), "", "", ""],
        ["Scale: `App::update` alone on one member-key event, 1000-member cluster (criterion; no etcd, no drawing)",
         f_n(g(rd, "update/member_put_1000_members", "samples_ns")), f_ms(ms(upd_put), 3), "", "", "", "", ""],
        ["Scale: `App::update` alone on one REST answer, 1000-member cluster (criterion; the HTTP request "
         "itself is not in it)", f_n(g(rd, "update/rest_answer_1000_members", "samples_ns")),
         f_ms(ms(upd_rest), 3), "", "", "", "", ""],
        [f"Junk: {jk.get('keys', '?')} junk member keys + {jk.get('big', '?')} of "
         f"{f_mib((jk.get('big_bytes') or 0) / 1024)}: a real change to screen during the flood (1 flood)",
         "1" if jr else "0", timeout(jr.get("change_to_screen_ms"), jt) if jr else jk.get("error", "n/a"),
         "", "", "", "", "not judged (n = 1)"],
        ["Junk: patrol peak RSS / peak open fds during the flood", "1" if jr else "0",
         f"{f_mib(jr.get('hwm_kib'))} / {jr.get('fds_peak', 'n/a')}", "", "", "", "", "not judged (n = 1)"],
        ["etcd v2: event to screen, median (floor: a raw v2 long poll, `curl ...?wait=true&stream=true`)",
         f_n(ev2_p), f_ms(g(ev2_p, "median")), spread(ev2_p), f_ms(g(ev2_c, "median")),
         f_ms(g(ev2_f, "median")), "≤ 15 ms", verdict(g(ev2_p, "median"), 15, g(ev2_p, "n"))],
        ["etcd v2: event to screen, p95", f_n(ev2_p), f_ms(g(ev2_p, "p95")), "", f_ms(g(ev2_c, "p95")),
         f_ms(g(ev2_f, "p95")), "≤ 40 ms", verdict(g(ev2_p, "p95"), 40, g(ev2_p, "n"))],
        [f"etcd v2: idle CPU over {idle2.get('seconds', '?')} s, % of a core (Patroni rewrites `leader` and "
         "`members/*` every loop: each rewrite is an event patrol receives)", str(idle2_n or 0),
         f_pct(ip2.get("cpu_pct"), 3), spread(ip2.get("cpu_windows_pct"), lambda x: f_pct(x, 3)),
         f_pct(ic2.get("cpu_pct"), 3), "", "", ""],
        ["etcd member patrol watches SIGKILLed (a follower): to the next change on screen, median (max)",
         f_n(ek.get("killed_follower")),
         f"{f_ms(g(ek, 'killed_follower', 'median'))} ({f_ms(g(ek, 'killed_follower', 'max'))})"
         + (f"; {ek['missed']} never shown" if ek.get("missed") else ""),
         spread(ek.get("killed_follower")), "", "", "", ""],
        ["etcd member patrol watches SIGKILLed (any, the raft leader too): from etcd acknowledging the "
         "next write to the screen, median (max); section 8", f_n(ek.get("after_put_ack")),
         f"{f_ms(g(ek, 'after_put_ack', 'median'))} ({f_ms(g(ek, 'after_put_ack', 'max'))})",
         spread(ek.get("after_put_ack")), "", "", "", ""],
        ["Bytes to the terminal per idle minute, 120x40: straight (sync on) / inside tmux (what its client "
         "sends on)", "1" if tm else "0",
         f"{tm_on.get('bytes_per_min', 0):,.0f} / {tm_tmux.get('bytes_per_min', 0):,.0f}" if tm else "n/a",
         "", "", "", "", ""],
        ["Leader crash (Patroni SIGKILL, PostgreSQL stopped): the leader's rule in the health badge, "
         "from the kill, median (max); patronictl: its table showing anything wrong; section 11",
         f_n(fig_s(cr.get("patrol_rule"))), med_max(cr.get("patrol_rule")), spread(fig_s(cr.get("patrol_rule"))),
         med_max(cr.get("patronictl_any")), "", f"≤ {f_ms(cr_goal)} (one REST interval + 0.2 s), every one",
         every_one(cr.get("patrol_rule"), cr_goal)],
        ["Leader crash: the predicted next leader on screen, from the kill, median (max); patronictl: "
         "its leader row no longer `Leader running`", f_n(fig_s(cr.get("patrol_next_leader"))),
         med_max(cr.get("patrol_next_leader")), spread(fig_s(cr.get("patrol_next_leader"))),
         med_max(cr.get("patronictl_leader")), "", f"≤ {f_ms(cr_goal)}, every one",
         every_one(cr.get("patrol_next_leader"), cr_goal)],
        ["Leader crash: the prediction first shown named the member elected (a race names each "
         "member in it)", str(cr_n),
         f"{cr_p.get('right', 0)} of {cr_n}" + (f" ({cr_p.get('a_race', 0)} a race)" if cr_p.get("a_race") else ""),
         "", "", "", "right every time",
         "n/a" if not cr_n else f"not judged (n = {cr_n} < {MIN_N})" if cr_n < MIN_N
         else "**met**" if cr_p.get("right", 0) == cr_n else "**missed**"],
        ["Stopped replica (Patroni SIGTERM): its rule in the health badge, median (max); patronictl: "
         "its row no longer `streaming`", f_n(fig_s(rs.get("patrol_rule"))), med_max(rs.get("patrol_rule")),
         spread(fig_s(rs.get("patrol_rule"))), med_max(rs.get("patronictl")), "", "", ""],
        ["HAProxy stops routing writes to the leader (MAINT): the routing view showing it, median (max); "
         f"patronictl: anything within {(hx.get('hold_ms') or 0) / 1000:.0f} s",
         f_n(fig_s(hx.get("patrol_changed"))), med_max(hx.get("patrol_changed")),
         spread(fig_s(hx.get("patrol_changed"))),
         (f"never ({g(hx, 'patronictl', 'timeouts')} of {g(hx, 'patronictl', 'timeouts')}: it cannot see HAProxy)"
          if g(hx, "patronictl", "timeouts") and not fig_s(hx.get("patronictl")) else med_max(hx.get("patronictl"))),
         "", "", ""],
        [f"Idle CPU with the health rules (after) against commit {ir.get('before_rev') or 'n/a'} (before), "
         "side by side: median of the per-round ratio after / before (after's median); section 12",
         f_n(ir.get("ratio")),
         f"{g(ir, 'ratio', 'median'):.3f} × ({f_pct(g(ir, 'after', 'cpu_pct', 'median'), 3)})"
         if g(ir, "ratio", "median") is not None else ir.get("error", "n/a"),
         spread(ir.get("ratio"), lambda x: f"{x:.3f}"), "", "", "≤ 1.10 × (within 10 %)",
         verdict(g(ir, "ratio", "median"), 1.10, g(ir, "ratio", "n"))],
        ["Release binary: size / `--version` start-up, median", f_n(rl.get("version_wall_ms")),
         f"{f_mib((rl.get('binary_bytes') or 0) / 1024)} / {f_ms(g(rl, 'version_wall_ms', 'median'))}" if rl else "n/a",
         spread(rl.get("version_wall_ms")), "", "", "", ""],
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
    revs = {(v or {}).get("rev") for v in (r.get("steps") or {}).values()}
    if len(revs) > 1:
        w("- **Steps run at different commits:** some steps were rerun alone (`PATROL_BENCH_ONLY`); "
          "each step's commit and date are listed under *Rerun* (no commit listed: the full run "
          "before per-step commits were recorded, at commit 463e9e3 on 2026-12-02 01:51 UTC).")
    w(f"- **Cluster:** `scripts/cluster` on 127.0.0.1: {cl.get('etcd_members', '?')} etcd member(s) + "
      f"{cl.get('members', '?')} Patroni members with PostgreSQL, `ttl` {cfg.get('ttl', '?')}, "
      f"`loop_wait` {cfg.get('loop_wait', '?')}; everything, viewers included, on the same "
      f"{m.get('cores', '?')} cores.")
    w("- **Floor:** a raw `etcdctl watch` printing the key into a terminal: how fast the key reaches "
      "a terminal with no viewer logic at all.")
    w(f"- **Figures:** medians and percentiles interpolate between ranks (Hyndman & Fan type 7, as R and "
      f"NumPy; `bench/stats.py`, `benches/stats/mod.rs`). *n* is the number of samples; *spread* is "
      f"min · p25–p75 · max. A figure is judged against its target only on n ≥ {MIN_N}; "
      "patrol's and patronictl's columns are the same statistic over the same work.")
    w("")
    w("## Summary")
    w("")
    w(table(["measurement", "n", "patrol", "patrol spread", "patronictl", "floor", "target", "target met"], rows))
    w("")

    # ---------------------------------------------------------------- details
    w("## 1. Event to screen")
    w("")
    per_session = {}
    for name in ("patrol", "patronictl", "floor"):
        smp = g(ev, name, "samples") or []
        sessions = {x.get("session") for x in smp}
        per_session[name] = (len(smp), len(sessions))

    def sessions_text(name):
        n, k = per_session.get(name, (0, 0))
        return f"{n} changes in {k} sessions" if k else "no samples"
    w("Each viewer runs in a pseudo-terminal (120x40) read through vt100. The bench writes a change to "
      "etcd at a random moment (a uniform pause after the previous change became visible: "
      f"{g(ev, 'patrol', 'gap_ms')} ms for patrol and the floor, {g(ev, 'patronictl', 'gap_ms')} ms for "
      "patronictl, whose refresh cycle it must cover), and a reader thread stamps the arrival of the "
      "bytes that make the change visible. Time is from just before the `put` call. The changes cycle "
      "through a member's state, a new member key, and the leader key, on a synthetic cluster `evbench` "
      "in the real cluster's etcd (Patroni keeps running beside it); its member keys carry no `api_url`, "
      f"so this is the etcd-to-screen path alone. patrol took {sessions_text('patrol')}, the floor "
      f"{sessions_text('floor')}, patronictl {sessions_text('patronictl')} (one viewer process per "
      "session), the sessions interleaved (patrol, floor, patronictl, patrol, ...) so that all three "
      "meet the same background load.")
    w("")
    krows = []
    for name in ("patrol", "patronictl", "floor"):
        e = ev.get(name) or {}
        s = e.get("summary") or {}
        krows.append([e.get("viewer", name), s.get("n", 0), e.get("missed", "?"), f_ms(s.get("min")),
                      f_ms(s.get("p25")), f_ms(s.get("median")), f_ms(s.get("p75")), f_ms(s.get("p95")),
                      f_ms(s.get("p99")), f_ms(s.get("max"))])
        for kind, ks in (e.get("by_kind") or {}).items():
            if ks:
                krows.append([f"  {kind}", ks.get("n"), "", f_ms(ks.get("min")), f_ms(ks.get("p25")),
                              f_ms(ks.get("median")), f_ms(ks.get("p75")), f_ms(ks.get("p95")),
                              f_ms(ks.get("p99")), f_ms(ks.get("max"))])
    w(table(["viewer / change", "n", "never shown", "min", "p25", "median", "p75", "p95", "p99", "max"], krows))
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
        n_slow = sum(1 for a in acks if a > 15)
        w(f"etcd itself acknowledged the writes in {f_ms(median(acks))} (median); it took more than 15 ms "
          f"for {n_slow} of {len(acks)} writes (max {f_ms(max(acks))}); {len(slow)} of patrol's samples "
          "had such a slow write"
          + (f" (patrol's times for them: {', '.join(f_ms(x['ms']) for x in slow)})" if slow else "") + ".")
        w("")
    if ps:
        w(f"Of patrol's {len(ps)} samples, {len(near)} came less than 33 ms after its screen had last "
          f"changed (median {f_ms(median(near))}, max {f_ms(max(near) if near else None)}); the other "
          f"{len(far)} had a median of {f_ms(median(far))} and a max of {f_ms(max(far) if far else None)} "
          "(frames are paced by `FrameBudget`, src/runtime/frames.rs).")
        w("")

    w("## 2. Switchover visibility")
    w("")
    w("A real switchover (`POST /switchover` to the leader's REST API). The reference moment is the "
      "bench's own etcd watch receiving the leader key's `put` naming the new leader; each viewer's time "
      "is from then until its screen shows the new leader (patrol's header, patronictl's Role column, "
      "the floor's printed value). Rounds alternate between patrol and `patronictl list -W`, so only one "
      f"of the two heavy viewers runs at a time; the floor runs in every round: {f_n(sw_p)} rounds "
      f"with patrol, {f_n(sw_c)} with patronictl, {f_n(sw_f)} floor samples.")
    w("")
    w(table(["viewer", "n", "min", "p25", "median", "p75", "max"], [
        [name, f_n(s), f_ms(g(s, "min")), f_ms(g(s, "p25")), f_ms(g(s, "median")), f_ms(g(s, "p75")),
         f_ms(g(s, "max"))]
        for name, s in (("patrol", sw_p), ("patronictl list -W", sw_c), ("etcdctl watch", sw_f),
                        ("request to new leader key", g(sw, "switchover_ms")))]))
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
    fp, fc = ff.get("patrol") or {}, ff.get("patronictl") or {}
    w(f"First frame ({f_n(fp.get('complete_ms'))} runs of each, interleaved): the real TUI from `exec` "
      "until every member's row shows `ok` in the API column (its REST answer is in); `patronictl list "
      "-W` until its first table lists every member. `list`: `patrol -c F list` against `patronictl -c F "
      f"list` ({f_n(g(ls, 'patrol', 'wall_ms'))} interleaved pairs, the order alternating, after one "
      "unmeasured run of each), output to /dev/null, wall time and peak RSS from `wait4`. The work is not "
      "quite the same: `patrol list` also asks every member's REST API for its live state, "
      "`patronictl list` reads etcd only.")
    w("")
    w(table(["", "patrol", "patronictl"], [
        ["first output (median)", f_ms(g(fp, "first_output_ms", "median")), f_ms(g(fc, "first_output_ms", "median"))],
        ["members listed (median)", f_ms(g(fp, "members_listed_ms", "median")), f_ms(g(fc, "complete_ms", "median"))],
        ["complete frame: median (spread)",
         f"{f_ms(g(fp, 'complete_ms', 'median'))} ({spread(fp.get('complete_ms'))})",
         f"{f_ms(g(fc, 'complete_ms', 'median'))} ({spread(fc.get('complete_ms'))})"],
        ["RSS at that moment (max VmHWM)", f_mib(g(fp, "hwm_kib", "max")), f_mib(g(fc, "hwm_kib", "max"))],
        ["`list` wall time: median (spread)",
         f"{f_ms(g(ls, 'patrol', 'wall_ms', 'median'))} ({spread(g(ls, 'patrol', 'wall_ms'))})",
         f"{f_ms(g(ls, 'patronictl', 'wall_ms', 'median'))} ({spread(g(ls, 'patronictl', 'wall_ms'))})"],
        ["`list` CPU time (median)", f_ms(g(ls, "patrol", "cpu_ms", "median")),
         f_ms(g(ls, "patronictl", "cpu_ms", "median"))],
        ["`list` peak RSS: median / max",
         f"{f_mib(g(ls, 'patrol', 'maxrss_kib', 'median'))} / {f_mib(g(ls, 'patrol', 'maxrss_kib', 'max'))}",
         f"{f_mib(g(ls, 'patronictl', 'maxrss_kib', 'median'))} / {f_mib(g(ls, 'patronictl', 'maxrss_kib', 'max'))}"],
        ["`list` wall-time ratio patrol / patronictl: median (spread)",
         f"{g(list_ratio, 'median') or 0:.3f} ({spread(list_ratio, lambda x: f'{x:.3f}')})", ""],
        ["`list`: patrol compared with patronictl (medians)",
         faster(g(ls, "patrol", "wall_ms", "median"), g(ls, "patronictl", "wall_ms", "median")), ""],
    ]))
    w("")

    w("## 4. Idle cost")
    w("")
    agree = None
    if ip.get("cpu_s") is not None and ip.get("cpu_ticks_s") is not None:
        agree = abs(ip["cpu_s"] - ip["cpu_ticks_s"]) <= 2 * tick_s
    w(f"patrol's TUI (`--interval 1s`: each member's REST API polled every second, the etcd watch, "
      f"the lease query, the clock: everything the process does) and `patronictl list -w 1` (etcd read "
      f"every second; it polls no REST API, so it does less work), side by side on the healthy cluster, "
      f"each in its own 120x40 pseudo-terminal, for {idle.get('seconds', '?')} s after "
      f"{idle.get('warmup_s', '?')} s of warm-up. CPU is the time on a CPU of all the process's threads "
      f"from `/proc/<pid>/task/<tid>/schedstat` (nanoseconds), summed over {idle_n or 0} windows of "
      f"{idle.get('window_s', '?')} s. Cross-check from `/proc/<pid>/stat` ({1000 * tick_s:.0f} ms ticks, "
      f"threads that ended included): patrol {f_pct(ip.get('cpu_ticks_pct'), 3)}, "
      + ("within two ticks of the schedstat figure" if agree else "**not** within two ticks of the schedstat "
         "figure (threads that ended between two samples are missing from schedstat)" if agree is False else "n/a")
      + (f"; one tick is {100 * tick_share:.1f} % of patrol's CPU time in the span"
         + (" (under 5 %)." if tick_share < 0.05 else " (5 % or more: the figure is not judged).")
         if tick_share is not None else "."))
    w("")
    w(table(["", "patrol", "patronictl list -w 1"], [
        ["CPU, % of one core (whole span)", f_pct(ip.get("cpu_pct"), 3), f_pct(ic.get("cpu_pct"), 3)],
        [f"CPU per {idle.get('window_s', '?')} s window: median (spread)",
         f"{f_pct(g(ip, 'cpu_windows_pct', 'median'), 3)} ({spread(ip.get('cpu_windows_pct'), lambda x: f_pct(x, 3))})",
         f"{f_pct(g(ic, 'cpu_windows_pct', 'median'), 3)} ({spread(ic.get('cpu_windows_pct'), lambda x: f_pct(x, 3))})"],
        ["CPU seconds in the span (schedstat / ticks)",
         f"{ip.get('cpu_s') or 0:.3f} s / {ip.get('cpu_ticks_s') or 0:.2f} s",
         f"{ic.get('cpu_s') or 0:.3f} s / {ic.get('cpu_ticks_s') or 0:.2f} s"],
        ["peak RSS (VmHWM)", f_mib(ip.get("hwm_kib")), f_mib(ic.get("hwm_kib"))],
        ["bytes written to the terminal per second", f"{ip.get('bytes_per_s', 0):.0f}", f"{ic.get('bytes_per_s', 0):.0f}"],
        ["terminal writes per second", f"{ip.get('writes_per_s', 0):.1f}", f"{ic.get('writes_per_s', 0):.1f}"],
    ]))
    w("")

    w("## 4b. The clock on screen: idle cost before and after the ticking ages")
    w("")
    ia_before, ia_after = ia.get("before") or {}, ia.get("after") or {}
    if ia_after:
        w(f"An idle patrol TUI alone in a {ia.get('size', '120x40')} pseudo-terminal with synchronized "
          "output on (a frame is one DEC 2026 begin marker), `--interval 1s`, on the healthy cluster, "
          f"after {ia.get('warmup_s', '?')} s of warm-up: {ia.get('windows', '?')} windows of "
          f"{ia.get('window_s', '?')} s with no relative time on screen, then {ia.get('windows', '?')} "
          "with the Operations panel's `Ns ago` on screen (a reload of the leader, sent again between "
          "windows before the 30 s the panel keeps a finished operation run out). Each binary runs "
          "alone, one after the other: "
          + (f"before = commit {ia.get('before_rev')} (release, built by `scripts/bench`: before the "
             "ticking ages and the header's sign of life), " if ia_before else "no before binary in this run, ")
          + f"after = commit {ia.get('after_rev', '?')}. Per idle minute (each window scaled to 60 s), "
          f"median (min · p25–p75 · max); CPU from schedstat, all threads. Load average "
          f"{' '.join(ia.get('loadavg_start') or [])} at the start, "
          f"{' '.join(ia.get('loadavg_end') or [])} at the end.")
        w("")
        num = lambda d: lambda x: f"{x:,.{d}f}"  # noqa: E731
        ia_rows = []
        for name, b in (("before", ia_before), ("after", ia_after)):
            for ph, label in (("no_age", "no age shown"), ("age_shown", "an age shown")):
                x = b.get(ph) or {}
                if x:
                    ia_rows.append([f"{name}, {label}", f_n(x.get("frames_per_min")),
                                    f"{num(0)(g(x, 'frames_per_min', 'median'))} ({spread(x.get('frames_per_min'), num(0))})",
                                    f"{num(0)(g(x, 'bytes_per_min', 'median'))} ({spread(x.get('bytes_per_min'), num(0))})",
                                    f"{num(2)(g(x, 'cpu_pct', 'median'))} ({spread(x.get('cpu_pct'), num(2))})"])
        w(table(["", "n", "frames / min", "bytes / min", "CPU, % of a core"], ia_rows))
        w("")
        fa = g(ia_after, "age_shown", "frames_per_min")
        fn = g(ia_after, "no_age", "frames_per_min")
        w("The target (issue 18): with an age on screen at most one frame a second more than before, "
          "and no frame for an age that is not on screen; judged on the medians (a window can hold "
          "frames for what really changed: a lag, an event). With no age shown the header's sign of "
          "life (`as of HH:MM:SS`, the time of the last confirmation from etcd and REST) still moves, "
          "at most once a second while confirmations arrive: after does not have a screen without a "
          "clock.")
        w("")
        ia_judged = []
        for ph, label in (("age_shown", "an age shown"), ("no_age", "no age shown")):
            a_ = g(ia_after, ph, "frames_per_min")
            b_ = g(ia_before, ph, "frames_per_min")
            grow = ia_growth(ia, ph)
            n = min(g(a_, "n") or 0, g(b_, "n") or 0) if b_ else g(a_, "n")
            ia_judged.append([label, f"{num(0)(g(b_, 'median'))}" if b_ else "n/a",
                              f"{num(0)(g(a_, 'median'))}",
                              f"{grow:+,.0f}" if grow is not None else "n/a",
                              "≤ +60 (one a second)", verdict(grow, 60, n)])
        w(table(["frames a minute, median", "before", "after", "after − before", "target", ""], ia_judged))
        w("")
    else:
        w("Not run.")
        w("")

    w("## 5. Scale")
    w("")
    w(f"A synthetic namespace `/bench-scale/` in the same etcd: {sc.get('clusters', '?')} clusters x "
      f"{sc.get('members', '?')} member keys, plus `leader`, `config` and `initialize` each "
      f"({sc.get('keys', '?')} keys, written in {sc.get('populate_s', 0) or 0:.1f} s); member keys point "
      "their `api_url` at the real members. patrol watches one cluster's prefix, as the binary does:")
    w("")
    w(f"- **TUI:** the real binary on cluster `c000` ({tui.get('members', '?')} members, each polled every "
      f"second) while that one cluster takes {tui.get('reps', '?')} bursts of {tui.get('burst', '?')} "
      "updates of its member keys (32 writes in flight), each burst followed by a new member key (the "
      "sentinel); backlog = sentinel acknowledged by etcd to the header's member count showing it.")
    w(f"- **TUI at {big.get('members', '?')} members:** the same on a cluster `big` of "
      f"{big.get('members', '?')} member keys without `api_url` (no REST polling).")
    w(f"- **`list c000`:** `patrol list c000` against `patronictl list c000` in this namespace, "
      f"{f_n(g(lists, 'patrol', 'wall_ms'))} interleaved pairs.")
    w("")

    def burst_rows(t, label):
        return [
            [f"{label}: bursts measured / not shown within {t.get('timeout_s', 0) or 0:.0f} s",
             f"{f_n(t.get('backlog_ms'))} / {t.get('missed', 'n/a')}"],
            [f"{label}: etcd accepted (median of bursts)", f_rate(g(t, "write_eps", "median"))],
            [f"{label}: consumed (median of bursts)", f_rate(g(t, "consumed_eps", "median"))],
            [f"{label}: backlog after the last write: median (spread)",
             f"{f_ms(g(t, 'backlog_ms', 'median'))} ({spread(t.get('backlog_ms'))})"],
            [f"{label}: CPU while busy", f"{t.get('cpu_s', 0) or 0:.2f} s in {t.get('busy_s', 0) or 0:.1f} s "
             f"({(t.get('cpu_pct_of_core') or 0):.0f} % of a core)"],
            [f"{label}: bytes to the terminal", f"{t.get('bytes_to_terminal', 0) or 0:,}"],
            [f"{label}: peak RSS", f_mib(t.get("hwm_kib"))],
        ]
    w(table(["", "value"],
            burst_rows(tui, f"TUI on {tui.get('members', '?')} members")
            + burst_rows(big, f"TUI on {big.get('members', '?')} members (no REST)")
            + [["`list c000`: patrol / patronictl, median",
                f"{f_ms(g(lists, 'patrol', 'wall_ms', 'median'))} / "
                f"{f_ms(g(lists, 'patronictl', 'wall_ms', 'median'))} (patrol "
                f"{faster(g(lists, 'patrol', 'wall_ms', 'median'), g(lists, 'patronictl', 'wall_ms', 'median'))})"],
               ["`list c000`: peak RSS patrol / patronictl, max",
                f"{f_mib(g(lists, 'patrol', 'maxrss_kib', 'max'))} / {f_mib(g(lists, 'patronictl', 'maxrss_kib', 'max'))}"]]))
    w("")
    w("Render and update cost (criterion, `ratatui::backend::TestBackend`; a frame is `Terminal::draw`: "
      "rows derived from the state, layout, widgets, diff; `update/*` is `App::update` alone, without "
      "etcd, HTTP or drawing):")
    w("")
    rrows = []
    for k, v in sorted(rd.items()):
        s = ns_ms(v.get("samples_ns"))
        rrows.append([f"`{k}`", f_n(s), f_ms(v["mean_ns"] / 1e6, 3),
                      f"{f_ms(v['mean_ci_ns'][0] / 1e6, 3)} … {f_ms(v['mean_ci_ns'][1] / 1e6, 3)}",
                      spread(s, lambda x: f_ms(x, 3))])
    w(table(["benchmark", "n", "mean", "95 % CI of the mean", "spread of the samples"], rrows))
    w("")

    w("## 6. Junk in the cluster's prefix")
    w("")
    if jk.get("error"):
        w(f"The step failed: `{jk['error']}`.")
        w("")
    elif jk:
        w(f"{jk.get('keys', '?')} junk member keys (each `api_url` a port that refuses connections) and "
          f"{jk.get('big', '?')} member keys of {jk.get('big_bytes', 0):,} bytes each (1 KiB under etcd's "
          f"1.5 MiB request limit), {jk.get('junk_bytes', 0):,} bytes in all, written at once (transactions "
          f"of 100 puts, 16 in flight: {jk.get('write_s', 0) or 0:.1f} s) into the real cluster's prefix "
          f"({jk.get('real_members', '?')} real members; etcd then held {jk.get('etcd_members', '?')} "
          "member keys). Right after, a real change: the `config` key gains `\"pause\": true` (what "
          "`patronictl pause` writes), which patrol shows as MAINTENANCE MODE. Then a fresh patrol is "
          "started with the junk in place, and the junk is deleted. One flood: these figures are not "
          f"judged against a target. Every wait is bounded by {jt or 0:.0f} s; a timeout is a result.")
        w("")
        w(table(["", "value"], [
            ["patrol running: the real change on screen after its `put`",
             timeout(jr.get("change_to_screen_ms"), jt)],
            ["patrol running: header's member count equals etcd's, after the first junk write",
             timeout(jr.get("count_equal_ms"), jt)
             + ("" if jr.get("count_equal_ms") is not None else f" (it showed {jr.get('members_shown_at_end')})")],
            ["patrol running: header said `live` while behind etcd",
             "yes" if jr.get("said_live_while_behind") else "no"],
            ["patrol running: peak RSS (VmHWM) before / after",
             f"{f_mib(jr.get('hwm_before_kib'))} / {f_mib(jr.get('hwm_kib'))}"],
            ["patrol running: open fds before / peak", f"{jr.get('fds_before', 'n/a')} / {jr.get('fds_peak', 'n/a')}"],
            ["patrol running: CPU during the flood", f"{jr.get('cpu_s', 0) or 0:.2f} s"],
            ["fresh patrol: start to every member key loaded",
             timeout(jf.get("load_ms"), jt) if jf.get("loaded") else f"did not load within {jt or 0:.0f} s"],
            ["fresh patrol: the next real change (`pause` off) on screen",
             timeout(jf.get("unpause_to_screen_ms"), jt) if jf.get("loaded") else "not tried (not loaded)"],
            ["fresh patrol: peak RSS / peak open fds", f"{f_mib(jf.get('hwm_kib'))} / {jf.get('fds_peak', 'n/a')}"],
            ["junk deleted: header back to the real members", timeout(jd.get("count_back_ms"), jt)],
        ]))
        w("")
        if jf.get("header_at_end") and not jf.get("loaded"):
            w("The fresh patrol's header when the wait ended:")
            w("")
            w("```")
            w(jf["header_at_end"])
            w("```")
            w("")
    else:
        w("Not run.")
        w("")

    bu = r.get("burst", {})
    w("## 6b. A burst of new member keys")
    w("")
    if bu.get("error"):
        w(f"The step failed: `{bu['error']}`.")
        w("")
    elif bu.get("cases"):
        w("A running patrol (without log followers, and with `--logs file:<cluster dir>/{member}/log/"
          "patroni.log`) on a copy of the real cluster's keys under a scope of its own (`<scope>-burst`: "
          "its members keep their `api_url`, so patrol polls the real REST APIs; Patroni, which makes "
          "a replication slot for every member key of its own scope, is not flooded), then N new "
          "member keys written at once into that scope (transactions of 100 puts, 16 in flight), "
          "then a real change: the copy's `config` key gains "
          "`\"pause\": true`, which patrol shows as MAINTENANCE MODE. Measured: from that `put` to the "
          "screen showing it; what the header said from the burst's first write until then (the share "
          "of that time in each state) and in how many runs it said `live` more than 1 s after the "
          "change was written and before it was shown; peak RSS (VmHWM); idle CPU over "
          "the 10 s starting 3 s after the header counts every member. The keys are deleted and etcd "
          "compacted after each run. "
          f"Targets are judged only with n ≥ {MIN_N}.")
        w("")
        rows = []
        for c in bu["cases"]:
            n = c.get("keys")
            cs = c.get("change_to_screen_ms") or {}
            goal = 2000 if n == 30000 else 10000 if n == 100000 else None
            states = {}
            for run in c.get("runs", []):
                for k, v in (run.get("header_ms") or {}).items():
                    states[k] = states.get(k, 0) + v
            total = sum(states.values()) or 1
            said = ", ".join(f"{k} {100 * v / total:.0f} %" for k, v in sorted(states.items(), key=lambda kv: -kv[1]))
            hw = c.get("hwm_kib") or {}
            ic = c.get("idle_cpu_pct") or {}
            rows.append([
                f"{n:,}", "yes" if c.get("logs") else "no", f_n(cs) + (f" ({c['timeouts']} timed out)" if c.get("timeouts") else ""),
                f_ms(cs.get("median")), spread(cs),
                (f"≤ {goal / 1000:.0f} s: " + verdict(cs.get("median"), goal, cs.get("n"))) if goal else "",
                said or "n/a", str(c.get("said_live_while_behind", "?")),
                f_mib(hw.get("median")) + ("" if n != 30000 else " (≤ 60 MiB: " + verdict(
                    (hw.get("median") or 0) / 1024, 60, hw.get("n")) + ")"),
                (f_pct(ic.get("median")) if ic else "n/a") + " (≤ 0.5 %: " + verdict(ic.get("median"), 0.5, ic.get("n")) + ")",
            ])
        w(table(["keys", "--logs", "n", "change to screen, median", "spread (min · p25–p75 · max)", "target",
                 "header meanwhile", "runs saying live while behind", "peak RSS, median", "idle CPU, median"], rows))
        w("")
    else:
        w("Not run.")
        w("")

    w("## 7. etcd v2")
    w("")
    if ev2 or idle2:
        w("A second cluster whose Patroni members use the etcd v2 API (`etcd:` sections, "
          "`PATROL_DCS=etcd scripts/cluster`), on the same machine. Event to screen is the bench of "
          "section 1 on the v2 key space (writes are v2 `PUT`s); the floor is a raw v2 long poll kept "
          "open (`curl .../v2/keys/...?wait=true&recursive=true&stream=true`) printing into a terminal; "
          "patronictl is `list -W` on the same v2 cluster. Idle is section 4's measurement on the v2 "
          "cluster: in v2 Patroni rewrites its `leader` and `members/*` keys with a TTL on every loop "
          "(`loop_wait` 1 s), so patrol receives events while nothing changes; a rewrite that changes "
          "only the index must cost almost nothing (no redraw, no event in the log).")
        w("")
        v2rows = []
        for name in ("patrol", "patronictl", "floor"):
            e = ev2.get(name) or {}
            s2 = e.get("summary") or {}
            if s2:
                v2rows.append([e.get("viewer", name), s2.get("n", 0), e.get("missed", "?"), f_ms(s2.get("min")),
                               f_ms(s2.get("p25")), f_ms(s2.get("median")), f_ms(s2.get("p75")),
                               f_ms(s2.get("p95")), f_ms(s2.get("p99")), f_ms(s2.get("max"))])
        if v2rows:
            w(table(["viewer", "n", "never shown", "min", "p25", "median", "p75", "p95", "p99", "max"], v2rows))
            w("")
        if idle2:
            w(table(["", "patrol", "patronictl list -w 1"], [
                ["CPU, % of one core (whole span)", f_pct(ip2.get("cpu_pct"), 3), f_pct(ic2.get("cpu_pct"), 3)],
                [f"CPU per {idle2.get('window_s', '?')} s window: median (spread)",
                 f"{f_pct(g(ip2, 'cpu_windows_pct', 'median'), 3)} ({spread(ip2.get('cpu_windows_pct'), lambda x: f_pct(x, 3))})",
                 f"{f_pct(g(ic2, 'cpu_windows_pct', 'median'), 3)} ({spread(ic2.get('cpu_windows_pct'), lambda x: f_pct(x, 3))})"],
                ["the same on the v3 cluster (section 4)", f_pct(ip.get("cpu_pct"), 3), f_pct(ic.get("cpu_pct"), 3)],
                ["peak RSS (VmHWM)", f_mib(ip2.get("hwm_kib")), f_mib(ic2.get("hwm_kib"))],
                ["bytes written to the terminal per second", f"{ip2.get('bytes_per_s', 0):.0f}",
                 f"{ic2.get('bytes_per_s', 0):.0f}"],
            ]))
            w("")
    else:
        w("Not run.")
        w("")

    w("## 8. The etcd member patrol watches is killed")
    w("")
    if ek.get("error"):
        w(f"The step failed: `{ek['error']}`.")
        w("")
    elif ek_s:
        w("A cluster of its own with a 3-member etcd (`PATROL_ETCD_MEMBERS=3 scripts/cluster`) and a "
          "synthetic cluster `killbench` without `api_url`s (the etcd path alone). Each sample: patrol "
          "live on some member, a pause of 0.5–1.5 s, then that member is SIGKILLed and at once a change "
          "is written through the others; the time runs from just before the kill until patrol's screen "
          "shows the change. When the killed member was the raft leader, etcd holds every write for an "
          "election, so the write's own acknowledgement is shown apart. The killed member is restarted "
          "before the next sample.")
        w("")
        w(table(["", "n", "min", "p25", "median", "p75", "p95", "max"], [
            [label, f_n(x), f_ms(g(x, "min")), f_ms(g(x, "p25")), f_ms(g(x, "median")), f_ms(g(x, "p75")),
             f_ms(g(x, "p95")), f_ms(g(x, "max"))]
            for label, x in (("kill to screen, every sample", ek_s),
                             ("  a follower was killed", ek.get("killed_follower")),
                             ("  the raft leader was killed", ek.get("killed_raft_leader")),
                             ("after the write was acknowledged (patrol's part)", ek.get("after_put_ack")))]))
        w("")
        acks = [x.get("put_ack_ms") for x in ek.get("samples", []) if x.get("put_ack_ms") is not None]
        if acks:
            lead = [x.get("put_ack_ms") for x in ek.get("samples", [])
                    if x.get("killed_raft_leader") and x.get("put_ack_ms") is not None]
            w(f"The write after the kill was acknowledged in {f_ms(median(acks))} (median), "
              f"max {f_ms(max(acks))}; samples never shown within 30 s: {ek.get('missed', 0)}."
              + (f" When the raft leader was killed ({len(lead)} samples), etcd took {f_ms(median(lead))} "
                 "(median) to acknowledge it: a write that reached a follower waits for the dead "
                 "leader until etcd's request timeout (\"request timed out, possibly due to previous "
                 "leader failure\"), and the bench retries it then. That is etcd's time, not patrol's: "
                 "the row after the acknowledgement is patrol's part." if lead else ""))
            w("")
    else:
        w("Not run.")
        w("")

    w("## 9. Bytes to the terminal")
    w("")
    if tm:
        w(f"Three idle patrol TUIs at once on the healthy cluster, 120x40, `--interval 1s`, for "
          f"{tm.get('seconds', '?')} s after {tm.get('warmup_s', '?')} s of warm-up: two straight into a "
          "pseudo-terminal, with synchronized output (DEC mode 2026) on, as `--sync-output auto` picks "
          f"outside tmux, and off; one inside tmux ({tm.get('tmux_version', '?')}, own socket, status line off), "
          "where `auto` is off, counting what the tmux client writes to its terminal: the bytes that "
          "cross an SSH link. A frame is what lies between two DEC 2026 begin markers (sync on only); "
          "a burst is a run of reads less than 20 ms apart (what a terminal gets as one update). "
          "An idle screen changes only where a figure on it changes (the lock's seconds, a lag, the "
          "trend column), so the three see different changes: compare bytes per frame or burst more "
          "than the totals.")
        w("")

        def trow(label, x):
            b = x.get("bursts") or {}
            fr = x.get("frames") or {}
            return [label, f"{x.get('bytes_per_min', 0):,.0f}", f"{x.get('bytes', 0):,}",
                    f"{fr.get('n', '')}", f"{fr.get('median', 0):,.0f}" if fr else "",
                    f"{fr.get('max', 0):,.0f}" if fr else "",
                    b.get("n", 0), f"{b.get('median', 0):,.0f}" if b else "n/a", f"{b.get('max', 0):,.0f}" if b else "n/a"]
        w(table(["terminal", "bytes per minute", "bytes in all", "frames", "bytes per frame, median",
                 "max", "bursts", "bytes per burst, median", "max"],
                [trow("pty, sync on", tm_on), trow("pty, sync off", tm_off), trow("tmux client", tm_tmux)]))
        w("")
    else:
        w("Not run.")
        w("")

    w("## 10. The release binary")
    w("")
    if rl:
        w(f"`target/release/patrol` (`strip = true`, thin LTO): {rl.get('binary_bytes', 0):,} bytes "
          f"({f_mib((rl.get('binary_bytes') or 0) / 1024)}); it links glibc dynamically and needs "
          f"GLIBC_{rl.get('glibc_max') or '?'} at most (`objdump -T`)"
          + (f"; the package `{rl['deb']}` is {f_mib(rl['deb_bytes'] / 1024)}" if rl.get("deb") else
             "; no package newer than the binary was found (`scripts/release` builds it)")
          + f". Start-up: `patrol --version`, exec to exit, {f_n(rl.get('version_wall_ms'))} runs after one "
          f"unmeasured: median {f_ms(g(rl, 'version_wall_ms', 'median'))} ({spread(rl.get('version_wall_ms'))}), "
          f"peak RSS {f_mib(g(rl, 'version_maxrss_kib', 'max'))}. To a first complete frame on a live cluster: "
          "section 3.")
        w("")
    else:
        w("Not run.")
        w("")

    w("## 11. Incidents: a crashed leader, a stopped replica, HAProxy (issue 19)")
    w("")
    w("Each on a sandbox of its own (`scripts/cluster`: one etcd, 3 Patroni members with PostgreSQL, "
      "HAProxy in front), so that crashing and unrouting members leaves the shared cluster alone. patrol "
      "runs with `--interval 1s` and `patronictl list -W` (a redraw every 2 s) watches the same cluster at "
      "the same time: both meet the same incident. Times run from just before the signal or the command; "
      "each sample waits for both screens to show the healthy cluster, then a random 0.5–2.5 s (against "
      "the poll and the redraw). A sample that never shows is counted as timed out, never dropped. "
      f"Targets are judged only with n ≥ {MIN_N}.")
    w("")

    def failed_text(x):
        k = x.get("failed") or 0
        if k:
            w(f"{k} sample(s) failed before their incident (the cluster did not settle, or a command "
              "failed; each with why in the step's JSON): they are in no figure above and the "
              "cluster was restored before the next.")
            w("")

    def inc_table(items):
        rows_ = []
        for label, x in items:
            s_ = fig_s(x) or {}
            rows_.append([label, s_.get("n", 0), (x or {}).get("timeouts", 0), f_ms(s_.get("min")),
                          f_ms(s_.get("p25")), f_ms(s_.get("median")), f_ms(s_.get("p75")),
                          f_ms(s_.get("p95")), f_ms(s_.get("max"))])
        return table(["", "n", "timed out", "min", "p25", "median", "p75", "p95", "max"], rows_)

    w("### 11a. The leader crashes")
    w("")
    if cr.get("error"):
        w(f"The step failed: `{cr['error']}`.")
        w("")
    elif cr.get("samples"):
        w("The leader's Patroni is SIGKILLed and its PostgreSQL stopped at once (`scripts/cluster "
          "kill-member`: the node is gone); whoever leads is the one killed; afterwards it is started "
          "again and rejoins as a replica. patrol: its health badge naming the leader's rule "
          "(`leader-rest-down`: the leader holds the lock but its REST API fails, with the seconds "
          "until the lock expires; or `no leader`), and its Cluster pane naming the next leader "
          "(`next leader   pg2 or pg3 (a race: same position and priority)`). patronictl: its table "
          "showing anything but the healthy picture (the replicas no longer `streaming` counts), and "
          "its leader row no longer `Leader running` (or another member as Leader). Elected: etcd's "
          "leader key naming another member (polled every 50 ms).")
        w("")
        w(inc_table([("patrol: the leader's rule in the badge", cr.get("patrol_rule")),
                     ("patrol: the next leader named", cr.get("patrol_next_leader")),
                     ("patronictl: anything wrong", cr.get("patronictl_any")),
                     ("patronictl: the leader row wrong", cr.get("patronictl_leader")),
                     ("etcd: a new leader elected", cr.get("elected"))]))
        w("")
        failed_text(cr)
        w(f"The prediction first shown named the elected member in {cr_p.get('right', 0)} of {cr_n} "
          f"crashes ({cr_p.get('wrong', 0)} wrong, {cr_p.get('undecided', 0)} with no prediction or no "
          f"election); it named one member {cr_p.get('one_name', 0)} times and a race "
          f"{cr_p.get('a_race', 0)} times (replicas at the same position and priority race for the "
          "leader key in Patroni: patrol names the race rather than guess, and any member of it counts "
          f"as right, as patrol's own event log counts it). patrol's event log said `right` "
          f"{cr_p.get('patrol_said_right', 0)} times and `wrong` {cr_p.get('patrol_said_wrong', 0)} times.")
        w("")
        w(table(["#", "killed", "predicted", "elected", "right", "patrol's event log"],
                [[i + 1, x.get("leader"), " or ".join(x.get("predicted") or []) or "none shown",
                  x.get("elected") or "none", {True: "yes", False: "**no**"}.get(x.get("right"), "n/a"),
                  x.get("patrol_said") or "n/a"] if not x.get("error") else [i + 1, "failed", "", "", "", ""]
                 for i, x in enumerate(cr["samples"])]))
        w("")
    else:
        w("Not run.")
        w("")

    w("### 11b. A replica stops")
    w("")
    if rs.get("error"):
        w(f"The step failed: `{rs['error']}`.")
        w("")
    elif rs.get("samples"):
        w("A replica's Patroni gets SIGTERM (what `systemctl stop` sends: it stops PostgreSQL, then "
          "writes `stopped` into its member key); the replicas take turns. patrol: its health badge "
          "naming the replica (`pg2 stopped`, or its REST API failing, whichever comes first). "
          "patronictl: the replica's row no longer `streaming`. Then the replica is started again; "
          "the rule clearing is timed from the start command (PostgreSQL's start-up is in it).")
        w("")
        w(inc_table([("patrol: the replica's rule in the badge", rs.get("patrol_rule")),
                     ("patronictl: its row not streaming", rs.get("patronictl")),
                     ("patrol: the rule cleared, from the start command", rs.get("cleared"))]))
        w("")
        failed_text(rs)
    else:
        w("Not run.")
        w("")

    w("### 11c. HAProxy stops routing writes to the leader")
    w("")
    if hx.get("error"):
        w(f"The step failed: `{hx['error']}`.")
        w("")
    elif hx.get("samples"):
        w("The leader's server in HAProxy's read-write listener is put into MAINT through the runtime "
          "API socket (`set server rw/<leader> state maint`), then made ready again after "
          f"{(hx.get('hold_ms') or 0) / 1000:.0f} s. One patrol with the sandbox's `--haproxy` "
          f"(`{hx.get('haproxy', '?')}`) and its routing view (`b`) open, and one `patronictl list -W`, "
          "watch all samples. patrol: the view showing `rw … → nowhere` (HAProxy's stats read every "
          "second), and the judged finding `✗ rw routes writes nowhere: the leader … is MAINT there` "
          "once HAProxy's own check window (`inter` × rise/fall) has passed. patronictl reads only "
          "etcd: it cannot show this at all.")
        w("")
        w(inc_table([("patrol: the routing view shows the change", hx.get("patrol_changed")),
                     ("patrol: the finding judged (after the check window)", hx.get("patrol_judged")),
                     ("patronictl: anything", hx.get("patronictl"))]))
        w("")
    else:
        w("Not run.")
        w("")

    w("## 12. Idle CPU with the health rules")
    w("")
    if ir.get("error"):
        w(f"Not measured: {ir['error']}.")
        w("")
    elif ir.get("runs"):
        w(f"The rules are always on, so the comparison is with the commit before they landed "
          f"({ir.get('before_rev', '?')}, built in release by `scripts/bench`) against this one "
          f"({ir.get('after_rev', '?')}). Both TUIs watch the shared healthy cluster side by side "
          f"(`--interval 1s`, 120x40), {ir.get('rounds', '?')} rounds of fresh processes (the start order "
          f"alternating), each measured over {ir.get('seconds', '?')} s after {ir.get('warmup_s', '?')} s "
          "of warm-up from the threads' schedstat; the ratio is taken per round, so a noisy minute "
          "falls on both sides.")
        w("")
        b_, a_ = g(ir, "before", "cpu_pct"), g(ir, "after", "cpu_pct")
        w(table(["", "n", "failed", "min", "p25", "median", "p75", "max"], [
            [label, g(x, "n") or 0, fail, fmt(g(x, "min")), fmt(g(x, "p25")), fmt(g(x, "median")),
             fmt(g(x, "p75")), fmt(g(x, "max"))]
            for label, x, fail, fmt in (
                (f"before ({ir.get('before_rev', '?')}), % of a core", b_, g(ir, "before", "failed"),
                 lambda v: f_pct(v, 3)),
                (f"after ({ir.get('after_rev', '?')}), % of a core", a_, g(ir, "after", "failed"),
                 lambda v: f_pct(v, 3)),
                ("after / before, per round", ir.get("ratio"), "",
                 lambda v: "n/a" if v is None else f"{v:.3f}"))]))
        w("")
        w(f"Target: within 10 % of before (the median ratio ≤ 1.10): "
          f"{verdict(g(ir, 'ratio', 'median'), 1.10, g(ir, 'ratio', 'n'))}.")
        w("")
    else:
        w("Not run.")
        w("")

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
      "`benches/live.rs` (screens, switchover, scale, junk), `benches/render.rs` (criterion), `bench/run.py` "
      "(process-level figures, the driver), `bench/stats.py` (percentiles), `bench/report.py` (this file). "
      "Per-step durations: "
      + ", ".join(f"{k} {v.get('took_s')} s" + (f" (commit {v['rev']}, {v['date']})" if v.get("rev") else "")
                  for k, v in (r.get("steps") or {}).items()) + ".")
    w("")
    os.makedirs(os.path.dirname(os.path.abspath(dst)), exist_ok=True)
    open(dst, "w").write("\n".join(out))


if __name__ == "__main__":
    main()
