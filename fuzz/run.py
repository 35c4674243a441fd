"""Run the fuzz targets with a seed and a budget, and print what each run did.

    .venv/bin/python fuzz/run.py                      # every target, 2 minutes each
    .venv/bin/python fuzz/run.py warc audit --minutes 10 --seed 7
    .venv/bin/python fuzz/run.py rulebook --runs 20000 --keep

Targets run one after another, each in its own process (libFuzzer owns the process
and exits it). Per target it prints executions, exec/s, distinct inputs, libFuzzer's
coverage (`cov:` edges, `ft:` features), the corpus, and the outcome: `ok`, or a
`crash`, `timeout` (one input over --timeout seconds), `oom` (over --rss-limit-mb),
`hang` (the process stopped answering), with the reproducer's path. The memory limit is
enforced here, on the process's current RSS: libFuzzer's own check reads the peak RSS,
which on Linux a child inherits from a large parent (e.g. pytest). With `--keep`, new
inputs accumulate in fuzz/work/<target>/, so long runs build on each other; otherwise
they are dropped. Crash, timeout and OOM reproducers are always kept in
fuzz/crashes/<target>/ (ignored by git).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# target → largest input libFuzzer may generate (bytes)
TARGETS = {"pages": 16384, "extract": 16384, "warc": 16384, "lists": 4096,
           "archives": 8192, "rulebook": 8192, "audit": 16384}
OUTCOMES = {"fuzz target exited": "crash", "deadly signal": "crash", "timeout": "timeout",
            "out-of-memory": "oom"}
POLL_SECONDS = 0.05  # how often the child's memory is looked at
_STATUS = re.compile(r"^#(\d+)\s+(\w+)\s+(?:cov: (\d+) ft: (\d+) )?corp: (\d+)/(\S+)")


@dataclass
class Result:
    """What one fuzzing run did; `outcome` is ok, crash, timeout, oom, hang or error."""

    target: str
    outcome: str
    executions: int = 0
    distinct: int = 0
    seconds: float = 0.0
    exec_per_sec: float = 0.0
    cov: int = 0
    ft: int = 0
    corpus: int = 0
    corpus_size: str = ""
    reproducer: str | None = None
    reproducer_base64: str | None = None
    detail: str = ""

    def line(self) -> str:
        text = (f"{self.target:9} {self.outcome:8} execs {self.executions:>8}  "
                f"distinct {self.distinct:>8}  {self.exec_per_sec:8.1f} exec/s  "
                f"cov {self.cov:>5} ft {self.ft:>6}  corpus {self.corpus} ({self.corpus_size})"
                f"  {self.seconds:.0f} s")
        if self.reproducer:
            text += f"\n          reproducer: {self.reproducer}"
        return text


def run_target(target: str, *, seed: int = 1, runs: int | None = None,
               seconds: int | None = None, timeout: int = 10, rss_limit_mb: int = 2048,
               keep: bool = False, artifacts: Path | None = None,
               extra: tuple[str, ...] = (), env: dict[str, str] | None = None) -> Result:
    """Fuzz one target in a child process and summarise the run.

    Reproducers of crashes, timeouts and OOMs go to `artifacts` (default
    fuzz/crashes/<target>/, ignored by git), which outlives the run.
    """
    if not (HERE / f"{target}.py").is_file() or target in ("harness", "run", "seeds"):
        raise ValueError(f"unknown target {target!r}; known: {', '.join(TARGETS)}")
    scratch = Path(tempfile.mkdtemp(prefix=f"fuzz-{target}-"))
    crashes = artifacts or HERE / "crashes" / target
    try:
        return _run(target, scratch, crashes, seed, runs, seconds, timeout, rss_limit_mb, keep,
                    extra, env or {})
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _run(target: str, scratch: Path, crashes: Path, seed: int, runs: int | None,
         seconds: int | None, timeout: int, rss_limit_mb: int, keep: bool,
         extra: tuple[str, ...], more_env: dict[str, str]) -> Result:
    grown = HERE / "work" / target if keep else scratch / "corpus"
    grown.mkdir(parents=True, exist_ok=True)
    crashes.mkdir(parents=True, exist_ok=True)
    # -rss_limit_mb=0: libFuzzer's check reads ru_maxrss, the *peak* RSS, which a child
    # inherits across exec (from the parent's peak under vfork, its current RSS under fork),
    # so a child of a big pytest was "out of memory" before its first input; _watch()
    # enforces the limit on the current RSS instead. -malloc_limit_mb (one allocation over
    # the limit, caught where a sanitizer provides malloc hooks) kept at its old default.
    flags = [f"-seed={seed}", f"-timeout={timeout}", "-rss_limit_mb=0",
             f"-malloc_limit_mb={rss_limit_mb}", f"-max_len={TARGETS.get(target, 4096)}",
             f"-artifact_prefix={crashes}/", "-print_final_stats=1", "-reload=0"]
    dictionary = HERE / "dicts" / f"{target}.dict"
    if dictionary.exists():
        flags.append(f"-dict={dictionary}")
    if runs is not None:
        flags.append(f"-runs={runs}")
    if seconds is not None:
        flags.append(f"-max_total_time={seconds}")
    env = dict(os.environ, TMPDIR=str(scratch), PYTHONHASHSEED="0",
               COMPLIANCE_FUZZ_STATS=str(scratch / "stats.json"),
               COMPLIANCE_FUZZ_CURRENT=str(scratch / "current"), **more_env)
    seeds = HERE / "corpus" / target
    command = [sys.executable, "-m", f"fuzz.{target}", *flags, *extra, str(grown),
               *([str(seeds)] if seeds.is_dir() else [])]
    # the process's own limits catch one slow input; this one a process that stops answering
    wall = (seconds or 0) + 120 + (timeout * 2 if runs else 0) + (runs or 0) * timeout
    started = time.monotonic()
    with open(scratch / "log", "wb") as log:
        child = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log,
                                 stderr=subprocess.STDOUT)
        stopped, used_mb = _watch(child, rss_limit_mb, started + wall)
    result = _summary(target, (scratch / "log").read_text("utf-8", "replace"), scratch)
    result.seconds = time.monotonic() - started
    if stopped == "hang":
        result.outcome = "hang"
        _attach_current(result, scratch, crashes / "hang-input")
    elif stopped == "oom":
        # killed mid-input, libFuzzer wrote nothing: the harness's copy of the input is it
        result.outcome = "oom"
        current = scratch / "current"
        name = hashlib.sha1(current.read_bytes()).hexdigest() if current.exists() else "input"
        _attach_current(result, scratch, crashes / f"oom-{name}")
        log_tail = (scratch / "log").read_text("utf-8", "replace")[-4000:]
        result.detail = (f"out-of-memory: the process used {used_mb} MB, over the "
                         f"{rss_limit_mb} MB limit (--rss-limit-mb); killed by run.py\n"
                         f"{log_tail}")
    if not result.exec_per_sec and result.seconds:
        result.exec_per_sec = result.executions / result.seconds
    return result


def _watch(child: subprocess.Popen[bytes], rss_limit_mb: int,
           deadline: float) -> tuple[str | None, int]:
    """Wait for `child`, killing it when its current RSS passes the limit or it outlives
    `deadline`; say why it was killed ("oom", "hang" or None) and the RSS last seen (MB).

    The RSS of the child and its descendants, not ru_maxrss: the peak is inherited.
    """
    watched = psutil.Process(child.pid)
    used_mb = 0
    try:
        while True:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=POLL_SECONDS)
                return None, used_mb
            used_mb = _rss_mb(watched)
            if rss_limit_mb and used_mb > rss_limit_mb:
                return "oom", used_mb
            if time.monotonic() > deadline:
                return "hang", used_mb
    finally:
        if child.returncode is None:  # stopped here, or interrupted: leave nothing running
            for process in [*_descendants(watched), watched]:  # listed before orphaned
                with contextlib.suppress(psutil.Error):
                    process.kill()
            child.wait()


def _descendants(process: psutil.Process) -> list[psutil.Process]:
    try:
        return process.children(recursive=True)
    except psutil.Error:  # ended meanwhile
        return []


def _rss_mb(process: psutil.Process) -> int:
    """Current resident memory of `process` and its descendants, in MB (0 once it ended)."""
    total = 0
    for one in [process, *_descendants(process)]:
        with contextlib.suppress(psutil.Error):
            total += one.memory_info().rss
    return total >> 20


def _summary(target: str, log: str, scratch: Path) -> Result:
    result = Result(target, "ok")
    for line in log.splitlines():
        status = _STATUS.match(line)
        if status:
            if status.group(3):
                result.cov, result.ft = int(status.group(3)), int(status.group(4))
            result.corpus, result.corpus_size = int(status.group(5)), status.group(6)
        elif line.startswith("stat::number_of_executed_units:"):
            result.executions = int(line.split(":")[-1])
        elif line.startswith("stat::average_exec_per_sec:"):
            result.exec_per_sec = float(line.split(":")[-1])
        elif line.startswith("SUMMARY: libFuzzer:"):
            what = line.split(":", 2)[-1].strip()
            result.outcome = next((o for k, o in OUTCOMES.items() if what.startswith(k)), "error")
        elif "Test unit written to " in line:
            written = Path(line.split("Test unit written to ", 1)[1].strip())
            if not written.name.startswith("slow-unit-"):  # slow but within -timeout: no fault
                _attach(result, written)
    if result.outcome != "ok":
        result.detail = _failure_text(log)
    elif "Done " not in log and "stat::number_of_executed_units" not in log:
        result.outcome, result.detail = "error", log[-4000:]
    stats = scratch / "stats.json"
    if stats.exists():
        counted = json.loads(stats.read_text(encoding="utf-8"))
        result.distinct = counted["distinct"]
        result.executions = result.executions or counted["executions"]
    return result


def _attach(result: Result, path: Path) -> None:
    result.reproducer = str(path)
    if path.exists():
        result.reproducer_base64 = base64.b64encode(path.read_bytes()).decode()


def _attach_current(result: Result, scratch: Path, kept: Path) -> None:
    """Keep the input the harness recorded as being tried when the child was killed."""
    current = scratch / "current"
    if current.exists():
        shutil.copyfile(current, kept)
        _attach(result, kept)


def _failure_text(log: str) -> str:
    """The traceback (or libFuzzer's report) of the failing input, without the status lines."""
    marks = [log.find(m) for m in ("=== Uncaught Python exception: ===", "ALARM: working",
                                    "ERROR: libFuzzer")]
    start = min((m for m in marks if m >= 0), default=max(0, len(log) - 6000))
    return log[start:start + 6000]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("targets", nargs="*", help=f"default: all ({', '.join(TARGETS)})")
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument("--runs", type=int, help="executions per target")
    budget.add_argument("--minutes", type=float, help="time per target (default 2)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=int, default=10, help="seconds one input may take")
    parser.add_argument("--rss-limit-mb", type=int, default=2048, help="memory of the process")
    parser.add_argument("--keep", action="store_true",
                        help="grow fuzz/work/<target> across runs")
    parser.add_argument("--json", action="store_true", help="one JSON object per target")
    args = parser.parse_args(argv)
    seconds = None if args.runs else int((args.minutes or 2) * 60)
    failed = 0
    for target in args.targets or list(TARGETS):
        result = run_target(target, seed=args.seed, runs=args.runs, seconds=seconds,
                            timeout=args.timeout, rss_limit_mb=args.rss_limit_mb, keep=args.keep)
        print(json.dumps(asdict(result)) if args.json else result.line(), flush=True)
        if result.outcome != "ok":
            failed += 1
            if not args.json:
                print(result.detail, flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
