"""The scale benchmark: the registry's real paths beside DuckDB's own floor, one run per size.

    .venv/bin/python -m bench.run --size 100k          # 100k firms / 500k events
    .venv/bin/python -m bench.run --size 1m            # 1M firms / 5M events (long: run with nohup)
    .venv/bin/python -m bench.run --size smoke         # a few thousand events (CI, tests/test_bench_smoke.py)
    .venv/bin/python -m bench.run --table              # the markdown table of every result in bench/results/

Steps, each in its own child process (wall time and peak RSS are the step's alone, dbt included):

1. generate: bench.synthetic writes firms.csv, events.csv, events_night.csv (seeded);
2. ingest firms, ingest events: the real path (registry.ingest.ingest_file);
   bare read: DuckDB's read_csv of the same events file into a table (the floor of ingest);
   fast ingest: the vectorised prototype (bench/fast_ingest.py), for comparison;
3. full night for D: catalog, dbt build, publish (registry.pipeline.nightly); floor: bench/floor.sql,
   one hand-written DuckDB query computing the same payable total; totals compared per clause;
4. incremental night D+1: ingest the night's new events, then the night; then a dbt build for
   D+1 with nothing new to do.

Peak memory is read two ways: the largest single process of the step's tree (wait4's
ru_maxrss, exact) and the sum over the tree sampled from /proc every 0.2 s; a step whose tree
passes --mem-cap-gib is killed (its process group only) and recorded as such. The run stops
starting new steps after --deadline-min minutes. Results: bench/results/<label>.json and .md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO_ROOT / "bench" / "results"
SIZES: dict[str, dict[str, int]] = {
    "smoke": {"firms": 400, "events": 3_000, "night_events": 100},
    "100k": {"firms": 100_000, "events": 500_000, "night_events": 10_000},
    "1m": {"firms": 1_000_000, "events": 5_000_000, "night_events": 10_000},
}
AS_OF = dt.date(2026, 11, 1)
PAGE = os.sysconf("SC_PAGE_SIZE")
MIB = 1024 * 1024

REGISTRY_STEPS = {"ingest_firms", "ingest_events", "full_night", "incremental_night", "noop_dbt_build"}
TARGETS = {
    "ingest_vs_bare_read": "real ingest rows/s at least 0.5x DuckDB's bare read_csv",
    "full_night_vs_floor": "full nightly rebuild at most 3x the floor query",
    "incremental_vs_noop": "incremental night at most 1.5x a dbt build with nothing to do",
    "incremental_wall": "incremental night at most 20 s wall",
    "peak_memory": "peak resident memory of every step under 4 GiB (at 5M events)",
    "full_model_work_vs_floor": "a full rebuild's model work (full night's dbt build minus the do-nothing build) "
                                "at most 3x the floor",
    "noop_night": "a do-nothing night (`registry nightly` again, nothing new) under 5 s",
    "incremental_publish": "publish of an incremental night under 3 s (at 5M)",
}


@dataclass
class Step:
    name: str
    ok: bool = False
    wall_s: float | None = None  # the child process, start to exit (interpreter start and imports included)
    work_s: float | None = None  # the work itself, timed inside the child
    peak_rss_mib: float | None = None  # largest single process of the tree (ru_maxrss)
    peak_tree_rss_mib: float | None = None  # sum over the tree, sampled
    result: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def peak_mib(self) -> float | None:
        values = [v for v in (self.peak_rss_mib, self.peak_tree_rss_mib) if v is not None]
        return max(values) if values else None


def log(message: str) -> None:
    print(f"[{dt.datetime.now().strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _tree_rss(root: int) -> int:
    """Resident bytes of `root` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                stat = handle.read().decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        pid, ppid = int(entry.name), int(fields[1])
        children.setdefault(ppid, []).append(pid)
        rss[pid] = int(fields[21]) * PAGE
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total


def measure(name: str, argv: list[str], *, env: dict[str, str], log_file: Path, mem_cap: int,
            timeout_s: float, cwd: Path = REPO_ROOT) -> Step:
    """Run argv as its own process group; wall time, peak RSS (exact and sampled), kill at cap."""
    step = Step(name)
    result_file = log_file.with_suffix(".json")
    result_file.unlink(missing_ok=True)
    log(f"{name}: start")
    started = time.perf_counter()
    with log_file.open("w") as out:
        proc = subprocess.Popen([*argv, "--result", str(result_file)], env=env, stdout=out, stderr=out,
                                start_new_session=True, cwd=cwd)
        peak_tree, killed = 0, None
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            peak_tree = max(peak_tree, _tree_rss(proc.pid))
            elapsed = time.perf_counter() - started
            if killed is None and (peak_tree > mem_cap or elapsed > timeout_s):
                killed = (f"killed at {peak_tree / MIB:.0f} MiB (cap {mem_cap / MIB:.0f} MiB)" if peak_tree > mem_cap
                          else f"killed after {elapsed:.0f} s (time limit)")
                os.killpg(proc.pid, signal.SIGKILL)
            time.sleep(0.2)
        proc.returncode = os.waitstatus_to_exitcode(status)
    step.wall_s = round(time.perf_counter() - started, 2)
    step.peak_rss_mib = round(usage.ru_maxrss / 1024, 1)
    step.peak_tree_rss_mib = round(peak_tree / MIB, 1)
    if proc.returncode == 0 and result_file.exists():
        step.ok = True
        step.result = json.loads(result_file.read_text(encoding="utf-8"))
        step.work_s = round(step.result.get("seconds", step.wall_s), 2)
    else:
        tail = log_file.read_text(errors="replace")[-3000:]
        step.error = killed or f"exit {proc.returncode}: {tail.strip()[-1500:]}"
    log(f"{name}: {'ok' if step.ok else 'FAILED'} in {step.wall_s} s (work {step.work_s} s), "
        f"peak {step.peak_mib} MiB" + (f" -- {step.error[:300]}" if step.error else ""))
    return step


def split_csv(path: Path, rows_per_file: int, out_dir: Path) -> list[Path]:
    """The file as consecutive pieces of `rows_per_file` data rows, each with the header."""
    out_dir.mkdir(parents=True, exist_ok=True)
    pieces: list[Path] = []
    with path.open("rb") as handle:
        header = handle.readline()
        while True:
            lines = [line for _, line in zip(range(rows_per_file), handle, strict=False)]
            if not lines:
                break
            piece = out_dir / f"{path.stem}.part{len(pieces):03d}.csv"
            piece.write_bytes(header + b"".join(lines))
            pieces.append(piece)
    return pieces


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {"python": platform.python_version(), "kernel": platform.release(),
                            "cores": os.cpu_count()}
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        info["cpu"] = next(line.split(":", 1)[1].strip() for line in cpuinfo.splitlines()
                           if line.startswith("model name"))
        meminfo = Path("/proc/meminfo").read_text()
        kib = int(next(line.split()[1] for line in meminfo.splitlines() if line.startswith("MemTotal")))
        info["memory_gib"] = round(kib / 1024 / 1024, 1)
    except (OSError, StopIteration):
        pass
    info["load_average_at_start"] = os.getloadavg()
    try:
        import dbt.version
        import duckdb

        info["duckdb"] = duckdb.__version__
        info["dbt_core"] = dbt.version.__version__
    except ImportError:
        pass
    return info


def code_version(code_root: Path) -> dict[str, Any]:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    snapshot = code_root.resolve() != REPO_ROOT.resolve()
    stamp = code_root / ".bench_commit"
    commit = stamp.read_text().strip() if snapshot and stamp.exists() else git("rev-parse", "--short", "HEAD")
    return {"commit": commit, "code_root": str(code_root),
            "code": "snapshot of the commit (git archive) + bench/" if snapshot
            else "working tree", "working_tree_dirty": bool(git("status", "--porcelain")) and not snapshot}


def snapshot_head(into: Path) -> Path:
    """The committed tree (git archive HEAD), with this checkout's bench/ (harness, generator) laid over it."""
    shutil.rmtree(into, ignore_errors=True)
    into.mkdir(parents=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True,
                            check=True).stdout.strip()
    archive = subprocess.run(["git", "archive", commit], cwd=REPO_ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    # the harness and the generator (bench/), so that editing bench/ during a long run does not change it
    shutil.copytree(REPO_ROOT / "bench", into / "bench", ignore=shutil.ignore_patterns("results", "__pycache__"),
                    dirs_exist_ok=True)
    (into / ".bench_commit").write_text(commit + "\n")
    # as `make setup` does for the checkout: with PYTHONDONTWRITEBYTECODE set (this machine, CI) every
    # step's process would otherwise compile the registry from source (~0.15 s a process)
    subprocess.run([sys.executable, "-m", "compileall", "-q", "registry", "dags", "bench"], cwd=into, check=True)
    return into


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a is not None and b else None


def run(size: str, params: dict[str, int], work: Path, code_root: Path, *, mem_cap_gib: float,
        deadline_min: float, ingest_chunk_rows: int | None, fast_ingest: bool, label: str) -> dict[str, Any]:
    work.mkdir(parents=True, exist_ok=True)
    data, logs = work / "data", work / "logs"
    db = work / "registry.duckdb"
    marker = work / ".bench_workdir"
    leftovers = [e for e in work.iterdir() if e.name not in ("code", marker.name)]
    if leftovers and not marker.exists():
        raise SystemExit(f"refusing to clear {work}: it holds files this benchmark did not make "
                         f"({', '.join(e.name for e in leftovers[:5])}); pass an empty or a bench workdir")
    for stale in leftovers:  # a fresh start: databases, published snapshots, lists, dbt target, logs
        shutil.rmtree(stale) if stale.is_dir() and not stale.is_symlink() else stale.unlink()
    marker.write_text("made by bench/run.py; cleared at the start of every run\n")
    logs.mkdir()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(dict.fromkeys([str(code_root), str(REPO_ROOT)])),
           "REGISTRY_OUTPUT": str(work / "lists"), "DO_NOT_TRACK": "1",
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "GX_ANALYTICS_ENABLED": "false"}
    python = sys.executable
    mem_cap = int(mem_cap_gib * 1024 * MIB)
    deadline = time.perf_counter() + deadline_min * 60
    steps: dict[str, Step] = {}
    night = AS_OF + dt.timedelta(days=1)

    def step(name: str, argv: list[str]) -> Step:
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            steps[name] = Step(name, error="skipped: the run's deadline had passed")
            log(f"{name}: skipped (deadline)")
            return steps[name]
        # cwd = the code root: `python -m` puts the cwd first on sys.path, so `registry` comes from there
        steps[name] = measure(name, argv, env=env, log_file=logs / f"{len(steps):02d}_{name}.log",
                              mem_cap=mem_cap, timeout_s=remaining, cwd=code_root)
        return steps[name]

    gen = step("generate", [python, "-m", "bench.steps", "generate", str(params["firms"]), str(params["events"]),
                            str(params["night_events"]), str(data)])
    if not gen.ok:
        raise SystemExit(f"generation failed: {gen.error}")
    events_file, night_file = data / "events.csv", data / "events_night.csv"
    smoke = size == "smoke"
    if not smoke:  # (the smoke run lands firms and events in one process: one Great Expectations start-up)
        step("ingest_firms", [python, "-m", "bench.steps", "ingest", "firms", str(data / "firms.csv"), str(db)])
    step("bare_read", [python, "-m", "bench.steps", "bare-read", str(events_file), str(work / "bare.duckdb")])
    if fast_ingest:
        # the prototype checks the expectation suite in SQL (GX over a pandas frame of 5M rows needs 10 GiB)
        step("fast_ingest", [python, "-m", "bench.steps", "fast-ingest", str(events_file), str(work / "fast.duckdb"),
                             "sql"])
    if ingest_chunk_rows and params["events"] > ingest_chunk_rows:
        pieces = split_csv(events_file, ingest_chunk_rows, data / "pieces")
        parts = [step(f"ingest_events_part{n:03d}", [python, "-m", "bench.steps", "ingest", "events", str(p), str(db)])
                 for n, p in enumerate(pieces)]
        merged = Step("ingest_events", ok=all(p.ok for p in parts),
                      wall_s=round(sum(p.wall_s or 0 for p in parts), 2),
                      work_s=round(sum(p.work_s or 0 for p in parts), 2),
                      peak_rss_mib=max((p.peak_rss_mib or 0 for p in parts), default=None),
                      peak_tree_rss_mib=max((p.peak_tree_rss_mib or 0 for p in parts), default=None),
                      result={"read": sum(p.result.get("read", 0) for p in parts),
                              "landed": sum(p.result.get("landed", 0) for p in parts),
                              "chunked": f"{len(pieces)} files of {ingest_chunk_rows} rows"},
                      error="; ".join(p.error for p in parts if p.error) or None)
        for n in range(len(pieces)):
            steps.pop(f"ingest_events_part{n:03d}")
        steps["ingest_events"] = merged
    else:
        firms = ["firms", str(data / "firms.csv")] if smoke else []
        step("ingest_events", [python, "-m", "bench.steps", "ingest", *firms, "events", str(events_file), str(db)])
    if fast_ingest and steps["fast_ingest"].ok and steps["ingest_events"].ok:
        step("compare_ingest", [python, "-m", "bench.steps", "compare-ingest", str(db), str(work / "fast.duckdb")])
    models_only = ["--models-only"] if smoke else []  # smoke: `dbt run` (no data tests), to stay under a minute
    step("full_night", [python, "-m", "bench.steps", "nightly", str(db), AS_OF.isoformat(), *models_only])
    step("floor", [python, "-m", "bench.steps", "floor", str(db), AS_OF.isoformat()])
    step("incremental_night", [python, "-m", "bench.steps", "incremental", str(night_file), str(db),
                               night.isoformat(), *models_only])
    if not smoke:  # (same code path as the nights' builds; a third dbt start-up would push the smoke run past a minute)
        step("noop_dbt_build", [python, "-m", "bench.steps", "dbt-build", str(db), night.isoformat()])
    step("noop_night", [python, "-m", "bench.steps", "night-again", str(db), night.isoformat()])
    step("floor_after_incremental", [python, "-m", "bench.steps", "floor", str(db), night.isoformat()])
    step("floor_touched_firms", [python, "-m", "bench.steps", "floor-touched", str(db), night.isoformat(),
                                 str(night_file)])
    return summarise(size, params, steps, code_root, label, work)


def summarise(size: str, params: dict[str, int], steps: dict[str, Step], code_root: Path, label: str,
              work: Path) -> dict[str, Any]:
    s = steps

    def reported(name: str, key: str) -> Any:
        """What step `name` reported under `key`, when it ran and succeeded."""
        return s[name].result.get(key) if name in s and s[name].ok else None

    events_rows = params["events"]
    ingest, bare = s.get("ingest_events"), s.get("bare_read")
    fast = s.get("fast_ingest")
    ingest_rate = events_rows / ingest.work_s if ingest and ingest.ok and ingest.work_s else None
    bare_rate = events_rows / bare.work_s if bare and bare.ok and bare.work_s else None
    fast_rate = events_rows / fast.work_s if fast and fast.ok and fast.work_s else None
    full, floor = s.get("full_night"), s.get("floor")
    inc_night, noop = s.get("incremental_night"), s.get("noop_dbt_build")
    incremental_s = inc_night.work_s if inc_night and inc_night.ok else None
    incremental_wall = inc_night.wall_s if incremental_s is not None else None
    floor_result = floor.result if floor and floor.ok else {}
    # the target is about the registry's own steps (the generator and the prototype are the bench's)
    peaks = {name: st.peak_mib for name, st in s.items() if st.peak_mib is not None and name in REGISTRY_STEPS}
    measured = {
        "ingest_rows_per_s": round(ingest_rate) if ingest_rate else None,
        "bare_read_rows_per_s": round(bare_rate) if bare_rate else None,
        "fast_ingest_rows_per_s": round(fast_rate) if fast_rate else None,
        "full_night_s": full.work_s if full and full.ok else None,
        "full_night_dbt_build_s": round(full.result["parts"]["dbt_build"], 2) if full and full.ok else None,
        "floor_s": round(floor.work_s, 2) if floor and floor.ok and floor.work_s is not None else None,
        "floor_touched_firms_s": s["floor_touched_firms"].work_s
        if "floor_touched_firms" in s and s["floor_touched_firms"].ok else None,
        "incremental_night_s": round(incremental_s, 2) if incremental_s is not None else None,
        "incremental_night_wall_s": round(incremental_wall, 2) if incremental_wall is not None else None,
        "incremental_dbt_build_s": round(inc_night.result["parts"]["dbt_build"], 2)
        if inc_night and inc_night.ok else None,
        "noop_dbt_build_s": noop.work_s if noop and noop.ok else None,
        # the operator's do-nothing night: the whole process, start-up included
        "noop_night_s": s["noop_night"].wall_s if "noop_night" in s and s["noop_night"].ok else None,
        "incremental_publish_s": round(inc_night.result["parts"]["publish"], 2)
        if inc_night and inc_night.ok else None,
        "full_model_work_s": round(full.result["parts"]["dbt_build"] - noop.work_s, 2)
        if full and full.ok and noop and noop.ok else None,
        "max_peak_rss_mib": max(peaks.values()) if peaks else None,
        "max_peak_rss_step": max(peaks, key=lambda k: peaks[k]) if peaks else None,
    }
    ratios = {
        "ingest_vs_bare_read": ratio(ingest_rate, bare_rate),
        "fast_ingest_vs_bare_read": ratio(fast_rate, bare_rate),
        "full_night_vs_floor": ratio(measured["full_night_s"], measured["floor_s"]),
        "full_night_dbt_build_vs_floor": ratio(measured["full_night_dbt_build_s"], measured["floor_s"]),
        "incremental_vs_noop": ratio(measured["incremental_night_s"], measured["noop_dbt_build_s"]),
        "incremental_dbt_build_vs_noop": ratio(measured["incremental_dbt_build_s"], measured["noop_dbt_build_s"]),
        "full_model_work_vs_floor": ratio(measured["full_model_work_s"], measured["floor_s"]),
    }
    targets = {
        "ingest_vs_bare_read": None if ratios["ingest_vs_bare_read"] is None else ratios["ingest_vs_bare_read"] >= 0.5,
        "full_night_vs_floor": None if ratios["full_night_vs_floor"] is None else ratios["full_night_vs_floor"] <= 3,
        "incremental_vs_noop": None if ratios["incremental_vs_noop"] is None else ratios["incremental_vs_noop"] <= 1.5,
        "incremental_wall": None if incremental_wall is None else incremental_wall <= 20,
        "peak_memory": None if not peaks else max(peaks.values()) < 4096,
        "full_model_work_vs_floor": None if ratios["full_model_work_vs_floor"] is None
        else ratios["full_model_work_vs_floor"] <= 3,
        "noop_night": None if measured["noop_night_s"] is None else measured["noop_night_s"] < 5,
        "incremental_publish": None if measured["incremental_publish_s"] is None
        else measured["incremental_publish_s"] < 3,
    }
    totals = {
        "floor_total": floor_result.get("floor_total"),
        "model_total_covered": floor_result.get("model_total_covered"),
        "model_total": floor_result.get("model_total"),
        "list_total_first_night": full.result.get("list_total") if full and full.ok else None,
        "totals_agree": floor_result.get("totals_agree"),
        "all_clauses_agree": floor_result.get("all_clauses_agree"),
        "not_covered_by_floor": floor_result.get("not_covered"),
        "not_covered_why": floor_result.get("not_covered_why"),
        "differences_outside_floor": floor_result.get("differences_outside_floor"),
        "disagreements": floor_result.get("disagreements"),
        "fast_ingest_lands_the_same_facts": reported("compare_ingest", "same"),
        "incremental_totals_agree": reported("floor_after_incremental", "totals_agree"),
        "incremental_floor_total": reported("floor_after_incremental", "floor_total"),
        "incremental_all_clauses_agree": reported("floor_after_incremental", "all_clauses_agree"),
        "incremental_not_covered_by_floor": reported("floor_after_incremental", "not_covered"),
        "incremental_list_total": inc_night.result.get("list_total") if inc_night and inc_night.ok else None,
        "incremental_list_lines": inc_night.result.get("lines") if inc_night and inc_night.ok else None,
    }
    return {
        "label": label, "size": size, "params": params, "as_of": AS_OF.isoformat(),
        "ran_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "machine": {**machine(), "load_average_at_end": os.getloadavg()}, "code": code_version(code_root),
        "workdir": str(work), "measured": measured, "ratios": ratios, "targets": targets,
        "target_texts": TARGETS, "totals": totals,
        "steps": {name: {**asdict(st), "peak_mib": st.peak_mib} for name, st in s.items()},
    }


def rerender(path: Path) -> None:
    """Recompute ratios, targets and markdown of a stored result from its steps (keeps machine and code)."""
    old = json.loads(path.read_text(encoding="utf-8"))
    names = set(Step.__dataclass_fields__)
    steps = {name: Step(**{k: v for k, v in st.items() if k in names}) for name, st in old["steps"].items()}
    new = summarise(old["size"], old["params"], steps, Path(old["code"]["code_root"]), old["label"],
                    Path(old["workdir"]))
    for key in ("ran_at", "machine", "code"):
        new[key] = old[key]
    path.write_text(json.dumps(new, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    path.with_suffix(".md").write_text(markdown(new), encoding="utf-8")


def _fmt(value: Any, suffix: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.2f}{suffix}"
    if isinstance(value, int):
        return f"{value:,}{suffix}"
    return f"{value}{suffix}"


def _mark(ok: bool | None) -> str:
    return "" if ok is None else (" ✅" if ok else " ❌")


def _suite_label(result: dict[str, Any]) -> str:
    parts = result["steps"].get("fast_ingest", {}).get("result", {}).get("parts", {})
    return ", suite in SQL" if "suite_in_sql" in parts else ", GX on pandas" if "great_expectations" in parts else ""


def markdown(result: dict[str, Any]) -> str:
    m, r, t, tot = result["measured"], result["ratios"], result["targets"], result["totals"]
    p = result["params"]
    mach = result["machine"]
    lines = [
        f"### {p['firms']:,} firms / {p['events']:,} events ({result['label']})",
        "",
        f"Machine: {mach.get('cpu', '?')}, {mach.get('cores')} cores, {mach.get('memory_gib')} GiB; "
        f"Python {mach.get('python')}, DuckDB {mach.get('duckdb')}, dbt-core {mach.get('dbt_core')}; "
        f"load average at start {', '.join(f'{x:.2f}' for x in mach.get('load_average_at_start', []))}. "
        f"Code: {result['code']['code']} at {result['code']['commit']}. Ran {result['ran_at']}.",
        "",
        "| measure | registry | floor | ratio | target |",
        "|---|---|---|---|---|",
        f"| ingest events (rows/s) | {_fmt(m['ingest_rows_per_s'])} | {_fmt(m['bare_read_rows_per_s'])} (read_csv) "
        f"| {_fmt(r['ingest_vs_bare_read'])} | ≥ 0.5{_mark(t['ingest_vs_bare_read'])} |",
        f"| ingest, vectorised prototype{_suite_label(result)} (rows/s) | {_fmt(m['fast_ingest_rows_per_s'])} | "
        f"{_fmt(m['bare_read_rows_per_s'])} | {_fmt(r['fast_ingest_vs_bare_read'])} | (prototype) |",
        f"| full night (s): catalog + dbt build + publish | {_fmt(m['full_night_s'])} (build "
        f"{_fmt(m['full_night_dbt_build_s'])}) | {_fmt(m['floor_s'])} (one query) | "
        f"{_fmt(r['full_night_vs_floor'])} | ≤ 3{_mark(t['full_night_vs_floor'])} |",
        f"| incremental night (s): ingest {p['night_events']:,} + night | {_fmt(m['incremental_night_s'])} "
        f"(wall {_fmt(m['incremental_night_wall_s'])}) | {_fmt(m['noop_dbt_build_s'])} (dbt build, nothing new) | "
        f"{_fmt(r['incremental_vs_noop'])} | ≤ 1.5{_mark(t['incremental_vs_noop'])}, "
        f"≤ 20 s{_mark(t['incremental_wall'])} |",
        f"| full rebuild's model work (s): full night's dbt build - do-nothing build | "
        f"{_fmt(m.get('full_model_work_s'))} | {_fmt(m['floor_s'])} (one query) | "
        f"{_fmt(r.get('full_model_work_vs_floor'))} | ≤ 3{_mark(t.get('full_model_work_vs_floor'))} |",
        f"| do-nothing night (s): `registry nightly` again, process wall | {_fmt(m.get('noop_night_s'))} | | | "
        f"< 5{_mark(t.get('noop_night'))} |",
        f"| publish of the incremental night (s): ledger, files, snapshot, Parquet | "
        f"{_fmt(m.get('incremental_publish_s'))} | | | < 3 (at 5M){_mark(t.get('incremental_publish'))} |",
        f"| peak RSS, largest registry step (MiB) | {_fmt(m['max_peak_rss_mib'])} ({m.get('max_peak_rss_step')}) "
        f"| | | < 4096{_mark(t['peak_memory'])} |",
        "",
        f"Totals: floor {tot['floor_total']} vs models {tot['model_total_covered']} on the clauses the floor covers "
        f"({'agree' if tot['totals_agree'] else 'DISAGREE'}); models over all clauses {tot['model_total']}; "
        f"first list {tot['list_total_first_night']}; not covered by the floor: "
        f"{', '.join(tot['not_covered_by_floor'] or []) or 'none'}. After the incremental night: floor "
        f"{tot.get('incremental_floor_total')} ({'agrees' if tot.get('incremental_totals_agree') else 'DISAGREES'} "
        f"with the models); the night's list {tot.get('incremental_list_lines')} lines, "
        f"{tot.get('incremental_list_total')} yuan.",
        "",
        "| step | ok | work (s) | process wall (s) | peak RSS MiB (largest process / tree sampled) |",
        "|---|---|---|---|---|",
    ]
    for name, st in result["steps"].items():
        lines.append(f"| {name} | {'yes' if st['ok'] else 'NO: ' + (st['error'] or '')[:120]} | {_fmt(st['work_s'])} "
                     f"| {_fmt(st['wall_s'])} | {_fmt(st['peak_rss_mib'])} / {_fmt(st['peak_tree_rss_mib'])} |")
    if tot.get("disagreements"):
        lines += ["", "Clauses the floor covers where it and the models DISAGREE (count / total):", ""]
        for c in tot["disagreements"]:
            lines.append(f"- {c['clause_id']} ({c['amount_rule']}): floor "
                         f"{c['floor_count']} / {c['floor_total']}, models {c['model_count']} / {c['model_total']}")
    if tot.get("not_covered_why"):
        lines += ["", "Clauses the floor does not cover (models' figures only):", ""]
        lines += [f"- {clause}: {why}" for clause, why in tot["not_covered_why"].items()]
    return "\n".join(lines) + "\n"


def table(results_dir: Path = RESULTS_DIR) -> str:
    rows = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(results_dir.glob("*.json"))]
    rows = [r for r in rows if r.get("size") != "smoke"]
    head = ["| size | commit | ingest rows/s (real / read_csv / ratio) | full night s (registry / floor / ratio) "
            "| incremental night s (night / no-op build / ratio) | peak RSS MiB | totals agree |",
            "|---|---|---|---|---|---|---|"]
    for r in rows:
        m, q, t = r["measured"], r["ratios"], r["targets"]
        head.append(
            f"| {r['params']['firms']:,} firms / {r['params']['events']:,} events | {r['code']['commit']} | "
            f"{_fmt(m['ingest_rows_per_s'])} / {_fmt(m['bare_read_rows_per_s'])} / {_fmt(q['ingest_vs_bare_read'])}"
            f"{_mark(t['ingest_vs_bare_read'])} | {_fmt(m['full_night_s'])} / {_fmt(m['floor_s'])} / "
            f"{_fmt(q['full_night_vs_floor'])}{_mark(t['full_night_vs_floor'])} | {_fmt(m['incremental_night_s'])} / "
            f"{_fmt(m['noop_dbt_build_s'])} / {_fmt(q['incremental_vs_noop'])}{_mark(t['incremental_vs_noop'])}"
            f"{_mark(t['incremental_wall'])} | {_fmt(m['max_peak_rss_mib'])}{_mark(t['peak_memory'])} | "
            f"{r['totals']['totals_agree']} |")
    return "\n".join(head) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="100k")
    parser.add_argument("--firms", type=int)
    parser.add_argument("--events", type=int)
    parser.add_argument("--night-events", type=int)
    parser.add_argument("--workdir", type=Path, help="default var/bench/<label>")
    parser.add_argument("--results", type=Path, default=RESULTS_DIR, help="where <label>.json/.md go")
    parser.add_argument("--label", help="default <size>")
    parser.add_argument("--code", choices=["working-tree", "head"], default="working-tree",
                        help="run the registry from the working tree, or from a snapshot of HEAD (git archive) "
                             "when the working tree is mid-edit")
    parser.add_argument("--mem-cap-gib", type=float, default=10.0, help="kill a step whose process tree passes this")
    parser.add_argument("--deadline-min", type=float, default=45.0, help="start no step after this many minutes")
    parser.add_argument("--ingest-chunk-rows", type=int, help="feed the real ingest files of this many rows")
    parser.add_argument("--no-fast-ingest", action="store_true", help="skip the vectorised prototype")
    parser.add_argument("--table", action="store_true", help="print the table of all results and exit")
    parser.add_argument("--rerender", metavar="LABEL", help="recompute derived figures of results/LABEL.json")
    args = parser.parse_args(argv)
    if args.table:
        print(table(args.results))
        return 0
    if args.rerender:
        rerender(args.results / f"{args.rerender}.json")
        return 0
    params = dict(SIZES[args.size])
    for key in ("firms", "events", "night_events"):
        if getattr(args, key) is not None:
            params[key] = getattr(args, key)
    label = args.label or args.size
    work = (args.workdir or REPO_ROOT / "var" / "bench" / label).resolve()
    code_root = snapshot_head(work / "code") if args.code == "head" else REPO_ROOT
    log(f"benchmark {label}: {params} in {work}, code from {code_root}")
    result = run(args.size, params, work, code_root, mem_cap_gib=args.mem_cap_gib, deadline_min=args.deadline_min,
                 ingest_chunk_rows=args.ingest_chunk_rows, fast_ingest=not args.no_fast_ingest, label=label)
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / f"{label}.json").write_text(
        json.dumps(result, ensure_ascii=False, indent=2, default=lambda v: str(v) if isinstance(v, Decimal) else v)
        + "\n", encoding="utf-8")
    text = markdown(result)
    (args.results / f"{label}.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
