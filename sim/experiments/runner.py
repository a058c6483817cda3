"""The experiment runner: any concurrent.futures Executor, results streamed to disk, resumable.

Every finished run is written at once to ``runs/<run_id>.parquet`` (under a
temporary name, then ``os.replace``), so an interrupted experiment loses only
the runs in flight, and running it again skips what is done. A run that
fails is recorded in ``failed/<run_id>.json`` with its error and the others
go on. ``manifest.json`` lists every planned run with its status, and the
versions and commit that produced them. The same runs give the same files
bit for bit whatever the executor and the number of workers: each run
depends only on its parameters and seed.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import mesa
import pandas as pd
from tqdm import tqdm

from sim.config import Params
from sim.experiments.definitions import experiment_dump
from sim.experiments.designs import RunSpec, plan
from sim.model.district import DistrictModel
from sim.run import atomic_write, git_commit, versions

RUN_COLUMNS = ("run_id", "label", "scenario", "point", "replication", "seed")
#: The manifest of a running experiment is rewritten at most this often (seconds).
CHECKPOINT_SECONDS = 10


def execute(spec: RunSpec) -> dict[str, Any]:
    """Run one simulation (in a worker) and return its tables; exceptions propagate to the runner."""
    started = time.perf_counter()
    model = DistrictModel(Params.model_validate(spec.params), rng=spec.seed)
    for _ in range(spec.steps):
        model.step()
    model.observer.record_panel(model)
    frame = model.observer.model_frame(model)
    labels = pd.DataFrame({column: [getattr(spec, column)] * len(frame) for column in RUN_COLUMNS}, index=frame.index)
    frame = pd.concat([labels, frame], axis=1)  # one block of label columns, not a fragmented frame
    panel = model.observer.panel_frame() if spec.panels else None
    if panel is not None:
        panel.insert(0, "run_id", spec.run_id)
    release(model)
    return {"run_id": spec.run_id, "model": frame, "firms": panel, "wall_time_s": time.perf_counter() - started}


def release(model) -> None:
    """Let a finished model be freed: Mesa 3.3 keeps every model as a key of the class-level
    ``Agent._ids`` counter, so a worker that runs many models would grow without bound."""
    ids = getattr(mesa.Agent, "_ids", None)
    if isinstance(ids, dict):
        ids.pop(model, None)


class SerialExecutor(Executor):
    """Runs each task in the calling process when submitted (no parallelism, easy to debug)."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller through the future
            if isinstance(exc, KeyboardInterrupt):
                raise
            future.set_exception(exc)
        return future


@contextmanager
def make_executor(kind: str = "local", workers: int | None = None, scheduler: str | None = None) -> Iterator[Executor]:
    """``serial``, ``local`` (a process pool) or ``dask`` (a Client on ``scheduler``, or a LocalCluster)."""
    if kind == "serial":
        yield SerialExecutor()
    elif kind == "local":
        # spawn: workers start clean (no threads or state inherited from the parent, as fork would)
        pool = ProcessPoolExecutor(
            max_workers=workers or os.cpu_count() or 1, mp_context=multiprocessing.get_context("spawn")
        )
        try:
            yield pool
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    elif kind == "dask":
        try:  # an optional dependency (the cluster extra): imported only when asked for
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise RuntimeError("the dask executor needs the cluster extra: pip install 'distretto[cluster]'") from None
        cluster = None
        if scheduler:
            client = Client(scheduler)
        else:
            cluster = LocalCluster(
                n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True, dashboard_address=":0"
            )
            client = Client(cluster)
        try:
            yield client.get_executor(pure=False)  # runs are not deduplicated: each is submitted once anyway
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    else:
        raise ValueError(f"unknown executor {kind!r}; allowed: serial, local, dask")


class ResultStore:
    """The experiment folder: one Parquet file per finished run, one JSON per failed run, the manifest."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.runs = self.root / "runs"
        self.panels = self.root / "panels"
        self.failed = self.root / "failed"

    def prepare(self) -> None:
        for folder in (self.runs, self.failed):
            folder.mkdir(parents=True, exist_ok=True)

    def done(self, run_id: str) -> bool:
        return (self.runs / f"{run_id}.parquet").exists()

    def save(self, result: dict[str, Any]) -> None:
        rid = result["run_id"]
        if result["firms"] is not None:
            self.panels.mkdir(exist_ok=True)
            atomic_write(self.panels / f"{rid}.parquet", lambda p: result["firms"].to_parquet(p, index=False))
        atomic_write(self.runs / f"{rid}.parquet", lambda p: result["model"].to_parquet(p, index=False))
        stale = self.failed / f"{rid}.json"
        if stale.exists():
            stale.unlink()

    def save_failure(self, spec: RunSpec, exc: BaseException) -> None:
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        record = {
            "run_id": spec.run_id,
            "label": spec.label,
            "seed": spec.seed,
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": text,
        }
        atomic_write(self.failed / f"{spec.run_id}.json", lambda p: p.write_text(json.dumps(record, indent=2)))

    def status(self, spec: RunSpec) -> str:
        if self.done(spec.run_id):
            return "done"
        return "failed" if (self.failed / f"{spec.run_id}.json").exists() else "pending"

    def error(self, run_id: str) -> str | None:
        path = self.failed / f"{run_id}.json"
        return json.loads(path.read_text())["error"] if path.exists() else None

    def write_manifest(
        self, experiment, runs: list[RunSpec], source: str, extra: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        entries = []
        for spec in runs:
            entry = {k: v for k, v in asdict(spec).items() if k != "params"}
            entry["status"] = self.status(spec)
            if entry["status"] == "failed":
                entry["error"] = self.error(spec.run_id)
            entries.append(entry)
        counts = {s: sum(e["status"] == s for e in entries) for s in ("done", "failed", "pending")}
        manifest = {
            "experiment": experiment_dump(experiment),
            "source": source,
            "updated": datetime.now(UTC).isoformat(timespec="seconds"),
            "versions": versions(),
            "commit": git_commit(),
            "counts": counts,
            **(extra or {}),
            "runs": entries,
        }
        atomic_write(self.root / "manifest.json", lambda p: p.write_text(json.dumps(manifest, indent=1) + "\n"))
        return manifest


def run_experiment(
    experiment,
    out: Path,
    executor: Executor,
    source: str = "",
    progress: bool = True,
    max_in_flight: int | None = None,
    task: Callable[[RunSpec], dict[str, Any]] = execute,
) -> dict[str, Any]:
    """Run every planned run not yet done; returns the manifest. Memory stays flat: results go to disk as they come.

    ``task`` runs one RunSpec (the model by default; tests pass other functions).
    At most ``max_in_flight`` runs are submitted at once, so that neither the
    executor's queue nor finished results pile up in memory.
    """
    runs = plan(experiment)
    store = ResultStore(out)
    store.prepare()
    store.write_manifest(experiment, runs, source)
    done = sum(store.done(spec.run_id) for spec in runs)
    bar = tqdm(
        total=len(runs),
        initial=done,
        unit="run",
        desc=experiment.name or "experiment",
        disable=not progress,
        smoothing=0.1,
    )
    try:
        execute_runs(
            runs,
            store,
            executor,
            bar=bar,
            max_in_flight=max_in_flight,
            task=task,
            checkpoint=lambda: store.write_manifest(experiment, runs, source),
        )
    except KeyboardInterrupt:
        bar.close()
        store.write_manifest(experiment, runs, source, {"interrupted": True})
        raise
    bar.close()
    return store.write_manifest(experiment, runs, source)


def execute_runs(
    runs: list[RunSpec],
    store: ResultStore,
    executor: Executor,
    *,
    bar: tqdm | None = None,
    max_in_flight: int | None = None,
    task: Callable[[RunSpec], dict[str, Any]] = execute,
    checkpoint: Callable[[], Any] | None = None,
) -> None:
    """Run the runs of ``runs`` not yet in ``store`` on ``executor``, saving each result (or failure) as it comes.

    A run that fails is recorded and the others go on. At most
    ``max_in_flight`` runs are submitted at once. ``checkpoint`` is called
    every few seconds (e.g. to rewrite a manifest). On an interrupt, results
    that finished are kept and the rest are cancelled.
    """
    todo = [spec for spec in runs if not store.done(spec.run_id)]
    limit = max_in_flight or 2 * max(os.cpu_count() or 1, 1) + 2
    pending: dict[Future, RunSpec] = {}
    queue = iter(todo)
    last_checkpoint = time.monotonic()
    try:
        while True:
            for spec in queue:
                pending[executor.submit(task, spec)] = spec
                if len(pending) >= limit:
                    break
            if not pending:
                break
            finished, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            for future in finished:
                spec = pending.pop(future)
                try:
                    store.save(future.result())
                except KeyboardInterrupt:
                    raise
                except Exception as exc:  # noqa: BLE001 - a failing run is recorded, the others go on
                    store.save_failure(spec, exc)
                if bar is not None:
                    bar.update(1)
            if checkpoint is not None and time.monotonic() - last_checkpoint > CHECKPOINT_SECONDS:
                checkpoint()
                last_checkpoint = time.monotonic()
    except KeyboardInterrupt:
        for future in pending:
            if future.done() and not future.cancelled() and future.exception() is None:
                store.save(future.result())  # finished before the interrupt: keep it
            else:
                future.cancel()
        raise


def load_runs(out: Path, runs: list[RunSpec]) -> pd.DataFrame:
    """The model-level series of every finished run of the plan, in plan order."""
    store = ResultStore(out)
    frames = [pd.read_parquet(store.runs / f"{spec.run_id}.parquet") for spec in runs if store.done(spec.run_id)]
    if not frames:
        return pd.DataFrame(columns=list(RUN_COLUMNS))
    return pd.concat(frames, ignore_index=True)
