"""The Spark engine: the same `audit_page`, mapped over WARC (or page) files by PySpark.

One task per input file. The rulebook travels to executors inside the task
closure (it is small and validated once on the driver); the dispatch index, a
read-only SQLite file, is shipped with `SparkContext.addFile` and opened once
per executor process. Executors write findings and errors as JSONL and Parquet
to the output folder; the driver streams the page results back in input order
(pages without findings arrive stripped of their bytes and text) so that the
audit store and the reports are written exactly as by the local engine.

Runs with `--engine spark [--master URL]` or through `spark-submit`, handed the file
compliance/spark_submit.py (see `python -m compliance.engines.spark --help`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..ingest.pages import iter_pages
from ..model import Page, PageError, PageResult
from ..report.records import error_record, finding_record
from ..rulebook import Rulebook
from .local import PAGE_TIME_LIMIT, audit_with_limit, open_index, slim

LOCAL_SCHEMES = ("", "file")
_EXECUTOR_INDEX: dict[str, Any] = {}


def is_local(uri: str) -> bool:
    return urlsplit(uri).scheme in LOCAL_SCHEMES or len(urlsplit(uri).scheme) == 1  # C:\…


def local_path(uri: str) -> Path:
    parts = urlsplit(uri)
    return Path(parts.path) if parts.scheme == "file" else Path(uri)


def _executor_index(index_name: str | None) -> Any:
    if not index_name:
        return None
    if index_name not in _EXECUTOR_INDEX:
        from pyspark import SparkFiles

        _EXECUTOR_INDEX[index_name] = open_index(SparkFiles.get(index_name))
    return _EXECUTOR_INDEX[index_name]


def audit_file(path: Path, rulebook: Rulebook, audit_time: dt.datetime, index: Any,
               limit: float | None) -> Iterator[PageResult | PageError]:
    """Every page in one input file (a WARC, a page, a folder), audited."""
    try:
        pages: Iterable[Page | PageError] = list(iter_pages([path]))
    except Exception as exc:  # an unreadable input file is one error, not a failed job
        yield PageError(str(path), None, "load", f"{type(exc).__name__}: {exc}")
        return
    for page in pages:
        if isinstance(page, Page | PageError):
            yield slim(audit_with_limit(page, rulebook, audit_time, index, limit))
        else:
            yield page  # a page gone (404/410) or a skipped record: the driver's store decides


def _partition(uris: Iterable[str], rulebook: Rulebook, audit_time: dt.datetime,
               index_name: str | None, limit: float | None) -> Iterator[PageResult | PageError]:
    index = _executor_index(index_name)
    for uri in uris:
        yield from audit_file(local_path(uri), rulebook, audit_time, index, limit)


def _remote_partition(files: Iterable[tuple[str, bytes]], rulebook: Rulebook,
                      audit_time: dt.datetime, index_name: str | None,
                      limit: float | None) -> Iterator[PageResult | PageError]:
    """Hadoop-readable inputs (hdfs://, s3a://) arrive as bytes; audit them from a temp file."""
    index = _executor_index(index_name)
    for uri, content in files:
        suffix = "".join(Path(urlsplit(uri).path).suffixes[-2:])
        with tempfile.TemporaryDirectory() as tmp:
            local = Path(tmp) / f"input{suffix}"
            local.write_bytes(content)
            for result in audit_file(local, rulebook, audit_time, index, limit):
                yield _renamed(result, uri, str(local))


def _renamed(result: Any, uri: str, local: str) -> Any:
    """Results name the input URI, not the executor's temporary copy."""
    if isinstance(result, PageResult):
        page = dataclasses.replace(result.page, source=result.page.source.replace(local, uri))
        return dataclasses.replace(result, page=page)
    return dataclasses.replace(result, source=result.source.replace(local, uri))


def _rows(result: Any, audit_id: str) -> Iterator[tuple[str, str]]:
    if not isinstance(result, PageResult | PageError):
        return
    if isinstance(result, PageError):
        yield "errors", json.dumps(error_record(result, audit_id), ensure_ascii=False)
        return
    for finding in result.findings:
        yield "findings", json.dumps(finding_record(finding, audit_id), ensure_ascii=False)


def run_spark(
    uris: list[str],
    rulebook: Rulebook,
    audit_time: dt.datetime,
    out_dir: Path,
    *,
    audit_id: str,
    master: str | None = None,
    index_path: Path | str | None = None,
    page_time_limit: float | None = PAGE_TIME_LIMIT,
    spark: Any = None,
) -> Iterator[PageResult | PageError]:
    """Audit `uris` on Spark; write findings/errors under `out_dir/spark/`; yield results."""
    from pyspark import StorageLevel

    session = spark or _session(master)
    context = session.sparkContext
    index_name = None
    if index_path:
        context.addFile(str(Path(index_path).resolve()))
        index_name = Path(index_path).name
    local = [u for u in uris if is_local(u)]
    remote = [u for u in uris if not is_local(u)]
    rdds = []
    if local:
        rdds.append(context.parallelize(local, len(local)).mapPartitions(
            lambda part: _partition(part, rulebook, audit_time, index_name, page_time_limit)))
    if remote:
        rdds.append(context.binaryFiles(",".join(remote), minPartitions=len(remote)).mapPartitions(
            lambda part: _remote_partition(part, rulebook, audit_time, index_name,
                                           page_time_limit)))
    if not rdds:
        return
    results = rdds[0] if len(rdds) == 1 else context.union(rdds)
    results.persist(StorageLevel.MEMORY_AND_DISK)
    try:
        _write_outputs(session, results, out_dir / "spark", audit_id)
        yield from results.toLocalIterator()
    finally:
        results.unpersist()
        if spark is None:
            session.stop()


def _session(master: str | None) -> Any:
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("compliance-audit")
    if master:
        builder = builder.master(master)
    elif not os.environ.get("SPARK_HOME") and "spark.master" not in os.environ.get(
            "PYSPARK_SUBMIT_ARGS", ""):
        builder = builder.master("local[*]")
    if (master or "local").startswith("local") and not os.environ.get("PYSPARK_PYTHON"):
        # Local executors must run this interpreter (the one with compliance installed),
        # not whatever `python3` is first on PATH. On a cluster, set PYSPARK_PYTHON.
        os.environ["PYSPARK_PYTHON"] = sys.executable  # read when the context starts
        builder = builder.config("spark.pyspark.python", sys.executable)
    return (builder.config("spark.ui.enabled", "false")
            .config("spark.sql.session.timeZone", "UTC").getOrCreate())


def _write_outputs(session: Any, results: Any, folder: Path, audit_id: str) -> None:
    """findings/ and errors/ as JSONL part files and as Parquet, written by the executors."""
    from pyspark.sql import Row

    rows = results.flatMap(lambda r: _rows(r, audit_id))
    for kind in ("findings", "errors"):
        lines = rows.filter(lambda row, k=kind: row[0] == k).map(lambda row: Row(value=row[1]))
        frame = session.createDataFrame(lines, "value string")
        frame.write.mode("overwrite").text(str(folder / f"{kind}.jsonl"))
        parsed = session.read.json(frame.rdd.map(lambda row: row.value)) if frame.head(1) else frame
        parsed.write.mode("overwrite").parquet(str(folder / f"{kind}.parquet"))


def main(argv: list[str] | None = None) -> None:
    """`compliance audit --engine spark …`: what compliance/spark_submit.py runs under
    `spark-submit` (and `python -m compliance.engines.spark`)."""
    from ..cli import cli

    cli.main(args=["audit", "--engine", "spark", *(argv if argv is not None else sys.argv[1:])],
             prog_name="compliance")


if __name__ == "__main__":
    main()
