"""Generate records: sample, run the program for each pending sample, write each record as it finishes.

Every record runs on its own copy of the LM (shared engine, own history) inside its own ledger context, so
records never share mutable state and can run concurrently (``concurrency`` threads; a vLLM server batches them).
A failed record is written to ``failures.jsonl`` with its stage and error, and the run goes on; if nothing has
succeeded after the first few failures, the run stops with the error instead of burning through every sample.
"""

from __future__ import annotations

import contextvars
import json
import logging
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dspy
import yaml

from sdsd_dspy import artifacts
from sdsd_dspy.lm.factory import ModelInfo, build_lm
from sdsd_dspy.lm.ledger import Ledger
from sdsd_dspy.modules.errors import GenerationError
from sdsd_dspy.pipeline.config import ConfigError, RunConfig
from sdsd_dspy.pipeline.export import export_run
from sdsd_dspy.pipeline.records import dialogue_record, preference_record
from sdsd_dspy.pipeline.sampling import make_samples
from sdsd_dspy.pipeline.store import RecordStore
from sdsd_dspy.program import SDSDProgram
from sdsd_dspy.provenance import git_commit, now, package_versions
from sdsd_dspy.taskdata import TaskData
from sdsd_dspy.types import DialogueRecord, Sample

FAIL_FAST_AFTER = 3
logger = logging.getLogger(__name__)


class RunAborted(RuntimeError):
    """The run stopped because every record so far failed (the model is unreachable or returns garbage)."""


class RunCallbacks:
    """Progress hooks; all do nothing by default. The CLI passes one that draws a progress bar."""

    def on_run_start(self, total: int, pending: int) -> None: ...

    def on_record_end(self, record: DialogueRecord) -> None: ...

    def on_record_error(self, sample: Sample, error: BaseException) -> None: ...

    def on_run_end(self, result: RunResult) -> None: ...


@dataclass
class RunResult:
    folder: Path
    written: int = 0
    failed: int = 0
    skipped: int = 0
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    stages: dict[str, dict[str, float]] = field(default_factory=dict)


def check_resumable(folder: Path, config: RunConfig) -> None:
    """Refuse to append to a folder whose records were made with a different generation config."""
    path = folder / "config.json"
    if not path.exists():
        return
    try:
        previous = json.loads(path.read_text())["generation"]
    except (ValueError, KeyError) as exc:
        raise ConfigError(f"{path}: unreadable run config ({exc}); pick another --out") from exc
    current = config.generation_key()
    if previous != current:
        changed = sorted(k for k in set(previous) | set(current) if previous.get(k) != current.get(k))
        raise ConfigError(f"{folder} holds a run made with different settings ({', '.join(changed)}): "
                          "use another --out, or the same settings to resume it")


def build_program(config: RunConfig) -> tuple[SDSDProgram, str]:
    program = SDSDProgram(max_turns=config.max_turns, judge_turns=config.judge_turns,
                          max_revisions=config.max_revisions, inline_tags=config.inline_tags)
    version = artifacts.load_into(program, config.program)
    return program, version


def _write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    tmp = folder / "manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=2, default=str) + "\n")
    tmp.replace(folder / "manifest.json")


def generate(config: RunConfig, callbacks: RunCallbacks | None = None, *, lm: dspy.BaseLM | None = None,
             model_info: ModelInfo | None = None) -> RunResult:
    """Run ``config``; pass ``lm`` (and ``model_info``) to use an LM built elsewhere, e.g. a DummyLM in tests."""
    callbacks = callbacks or RunCallbacks()
    folder = Path(config.out)
    task = TaskData.load(config.topics, config.principles, config.goals)
    check_resumable(folder, config)
    program, version = build_program(config)
    if lm is None:
        lm, model_info = build_lm(config.lm)
    model_info = model_info or ModelInfo(id=getattr(lm, "model", "unknown"))
    tuned_for = artifacts.compiled_for(version)
    if tuned_for and tuned_for != model_info.id:
        logger.warning("program %s was compiled for %s, not %s: its detector threshold and weights are calibrated "
                       "to that model; compile one for this model or pass --program seed", version, tuned_for,
                       model_info.id)

    store = RecordStore(folder)
    (folder / "config.json").write_text(json.dumps(
        {"generation": config.generation_key(), "resolved": config.model_dump(mode="json")}, indent=2) + "\n")
    (folder / "config.yaml").write_text(yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False))
    ledger = Ledger(folder / "lm_history.jsonl")
    samples = make_samples(task, config.seed, config.records, config.principles_per_dialogue)
    done = store.done_ids
    pending = [s for s in samples if s.record_id not in done]
    result = RunResult(folder=folder, skipped=len(samples) - len(pending))
    manifest: dict[str, Any] = {
        "status": "running", "started": now(), "config": config.model_dump(mode="json"),
        "program_version": version, "program_compiled_for": tuned_for, "model": model_info.model_dump(),
        "git_commit": git_commit(), "packages": package_versions(), "records_requested": config.records,
    }
    _write_manifest(folder, manifest)
    callbacks.on_run_start(len(samples), len(pending))

    def one(sample: Sample) -> DialogueRecord:
        with dspy.context(lm=lm.copy()), ledger.record(sample.record_id):
            pred = program(sample=sample)
        return dialogue_record(sample, pred, model_info.id)

    t0 = time.perf_counter()
    first_error: BaseException | None = None
    with ThreadPoolExecutor(max_workers=config.concurrency) as pool:
        queue = iter(pending)
        running: dict[Future, Sample] = {}

        def submit_next() -> None:
            sample = next(queue, None)
            if sample is not None:
                running[pool.submit(contextvars.copy_context().run, one, sample)] = sample

        for _ in range(config.concurrency):
            submit_next()
        while running:
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in finished:
                sample = running.pop(fut)
                try:
                    record = fut.result()
                except Exception as exc:  # one bad record must not lose the others
                    first_error = first_error or exc
                    result.failed += 1
                    stage_name = exc.stage if isinstance(exc, GenerationError) else type(exc).__name__
                    store.write_failure(sample.record_id, sample.index, stage_name, str(exc)[:2000])
                    callbacks.on_record_error(sample, exc)
                else:
                    store.write(record, preference_record(record))
                    result.written += 1
                    callbacks.on_record_end(record)
                if result.written == 0 and result.failed >= min(FAIL_FAST_AFTER, len(pending)):
                    for f in running:
                        f.cancel()
                    running.clear()
                    break
                submit_next()

    result.seconds = time.perf_counter() - t0
    result.stages = ledger.summary()
    aborted = result.written == 0 and result.failed > 0
    if not aborted:
        export_run(folder, tuple(config.formats))
    result.counts = store.counts()
    manifest.update({
        "status": "aborted" if aborted else "finished", "finished": now(), "wall_seconds": round(result.seconds, 2),
        "records_written": result.written, "records_failed": result.failed, "records_skipped": result.skipped,
        "seconds_per_record": round(result.seconds / result.written, 2) if result.written else None,
        "stages": result.stages, "counts": result.counts,
    })
    _write_manifest(folder, manifest)
    callbacks.on_run_end(result)
    if aborted:
        raise RunAborted(f"all {result.failed} records tried so far failed; first error: "
                         f"{type(first_error).__name__}: {first_error}. Nothing was lost: see {folder}/failures.jsonl")
    return result
