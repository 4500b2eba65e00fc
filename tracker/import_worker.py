"""Checking and importing a file in a worker process, so that one editor's upload never stalls other users.

The dashboard serves every session from one process, and the importer's work (the CSV parse, pandas, the
plan) holds the interpreter lock for nearly all of it: run on the page's thread, it stalls every other
session's page for as long as it takes (bench/upload_bench.py measures it). A thread would not help; a
process does. `run_import` starts `python -m tracker.import_worker`, sends it the file's bytes, and the
worker runs `tracker.importer.import_bytes` against the same database and sends back its progress and its
outcome: the same report, or ImportRejected with the same problems, or the error that ended it.

Why a fresh interpreter and not multiprocessing: multiprocessing's workers (spawn or forkserver) run the
program's main module again, and while a Streamlit page runs, that is the page script (dashboard.py),
which would run in the worker against whatever ledger the worker's environment names; fork copies a
process whose other threads may hold locks. The price is the interpreter's start and the importer's
imports in the worker (seconds on a busy machine): so `prepare` starts the next worker ahead, when an
editor opens the upload page, and it waits, imports done, for the file. Each worker does one file and
ends, handing its memory back to the system at once.

If the page stops waiting (the session ends, or its script is stopped or rerun), the worker is ended
too: a check simply stops, and an import that had not committed is rolled back by the database, as when
any process dies mid-transaction. The page hears from the worker at least every HEARTBEAT_SECONDS, so it
notices within that time.
"""

from __future__ import annotations

import _thread
import pickle
import queue
import subprocess
import sys
import threading
import traceback
from types import TracebackType
from typing import IO, Any, Self

from tracker.db import PROJECT_ROOT, create_ledger_engine
from tracker.errors import ImportRejected, Problem
from tracker.importer import TOO_LARGE_FIX, ImportReport, Progress, import_bytes

# The longest the waiting page goes without a progress update: the last one is repeated, and each update
# is where Streamlit stops a page whose session asked for that.
HEARTBEAT_SECONDS = 0.5
# Workers checking or importing at once, across all sessions; more wait for one to end. Each holds its file
# and the importer's working memory (a 49.5 MB SIPRI export peaked at 1.6 GB), so this caps what editors'
# uploads can take of the server's memory at once.
WORKERS_AT_ONCE = 2
_running = threading.BoundedSemaphore(WORKERS_AT_ONCE)
# The most resident memory a check's worker may reach, the interpreter and its libraries (0.2 GB) included.
# A check takes 35 to 120 times a file dense in events (docs/performance.md), so a 50 MB upload could take
# 6 GB; the real SIPRI register (3.6 MB) peaks at 0.3 GB, a 49.5 MB SIPRI export at 1.6 GB. Imports are
# not watched: the Upload page imports only a file whose check passed, and an import needs about what its
# check did (the real register: imported 132 MB, checked 127 MB above the process's start).
CHECK_MEMORY_LIMIT_BYTES = 2 * 1024**3
_WATCH_SECONDS = 0.05


def run_import(
    database_url: str,
    data: bytes,
    *,
    file_name: str,
    editor: str,
    dry_run: bool = False,
    max_bytes: int | None = None,
    check_memory_limit: int = CHECK_MEMORY_LIMIT_BYTES,
    progress: Progress | None = None,
) -> ImportReport:
    """`import_bytes` of `data` into the ledger at `database_url`, in a worker process.

    At most WORKERS_AT_ONCE run at once; a call beyond them waits, reporting so, for one to end. A check
    (`dry_run`) whose worker's resident memory passes `check_memory_limit` bytes is ended and rejected with
    a problem saying so.
    Returns its report or raises its ImportRejected. Any other error that ends the worker is raised here
    as the same error when it can be sent, else as RuntimeError with the worker's traceback; a worker that
    dies without answering raises RuntimeError.
    """
    report_progress: Progress = progress or (lambda _fraction, _text: None)
    while not _running.acquire(timeout=HEARTBEAT_SECONDS):
        report_progress(0.0, "Waiting for other editors' files to be done")
    try:
        return _run(
            database_url,
            data,
            file_name=file_name,
            editor=editor,
            dry_run=dry_run,
            max_bytes=max_bytes,
            memory_limit=check_memory_limit if dry_run else None,
            report_progress=report_progress,
        )
    finally:
        _running.release()


def _run(
    database_url: str,
    data: bytes,
    *,
    file_name: str,
    editor: str,
    dry_run: bool,
    max_bytes: int | None,
    memory_limit: int | None,
    report_progress: Progress,
) -> ImportReport:
    options = {"file_name": file_name, "editor": editor, "dry_run": dry_run, "max_bytes": max_bytes}
    worker = _take_spare() or _start()
    assert worker.stdin is not None and worker.stdout is not None
    messages: queue.Queue[tuple[str, Any] | None] = queue.Queue()
    request = (database_url, options, memory_limit, data)
    talk = threading.Thread(target=_talk, args=(worker.stdin, worker.stdout, request, messages), daemon=True)
    talk.start()
    try:
        last, answered = (0.0, "Starting"), False
        while True:
            try:
                message = messages.get(timeout=HEARTBEAT_SECONDS)
            except queue.Empty:
                report_progress(*last)
                continue
            if message is None:
                raise RuntimeError(
                    f"the import worker stopped (exit code {worker.wait()}) before it answered; whatever it "
                    "had not committed was rolled back (the import history shows what was)"
                )
            kind, payload = message
            answered = kind != "progress"
            if kind == "progress":
                last = payload
                report_progress(*last)
            elif kind == "report":
                return payload
            elif kind == "rejected":
                raise ImportRejected(payload)
            else:
                raise _failure(payload)
    finally:
        if not answered:  # the page stopped waiting: a check stops, an import rolls back
            worker.terminate()
        worker.wait()
        talk.join()
        worker.stdout.close()


_spare: subprocess.Popen[bytes] | None = None  # a started worker waiting for its file
_spare_lock = threading.Lock()


def prepare() -> None:
    """Start a worker now, if none is waiting, so that the next check or import need not wait for one."""
    global _spare
    with _spare_lock:
        if _spare is None or _spare.poll() is not None:
            _spare = _start()


def _take_spare() -> subprocess.Popen[bytes] | None:
    global _spare
    with _spare_lock:
        spare, _spare = _spare, None
    return spare if spare is not None and spare.poll() is None else None


def _start() -> subprocess.Popen[bytes]:
    return subprocess.Popen(_command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=PROJECT_ROOT)


def _command() -> list[str]:
    return [sys.executable, "-m", __name__]


def _talk(
    to_worker: IO[bytes], from_worker: IO[bytes], request: tuple[Any, ...], messages: queue.Queue
) -> None:
    """Send the request, then pass on the worker's messages until it ends (None: no more)."""
    try:
        with to_worker:
            pickle.dump(request, to_worker, protocol=pickle.HIGHEST_PROTOCOL)
        while True:
            messages.put(pickle.load(from_worker))
    except (EOFError, OSError):  # the worker ended, answered or not
        messages.put(None)
    except Exception:  # noqa: BLE001 - an answer that cannot be read here: the page raises it as a failure
        messages.put(("failed", (None, traceback.format_exc())))


def _failure(payload: tuple[bytes | None, str]) -> BaseException:
    pickled, trace = payload
    try:
        error = pickle.loads(pickled) if pickled is not None else None
    except Exception:  # noqa: BLE001 - the error's class cannot be rebuilt here: its traceback is the report
        error = None
    if not isinstance(error, BaseException):
        return RuntimeError(f"the import worker failed:\n{trace}")
    error.add_note(f"in the import worker:\n{trace}")
    return error


class _MemoryWatch:
    """While entered, ends the worker's work (KeyboardInterrupt in its main thread) once the process's peak
    resident memory passes `limit` bytes, and says so in `tripped`. No limit, or no peak to read (Windows):
    nothing is watched."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.tripped = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> Self:
        if self.limit is not None and _peak_resident_bytes() is not None:
            self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _watch(self) -> None:
        assert self.limit is not None
        while True:  # looked at once before the first wait: a short check is watched too
            if (_peak_resident_bytes() or 0) > self.limit:
                self.tripped = True
                _thread.interrupt_main()
                return
            if self._stop.wait(_WATCH_SECONDS):
                return

    def problem(self) -> Problem:
        assert self.limit is not None
        return Problem(
            None,
            None,
            None,
            f"checking the file took more than the {self.limit / 1024**2:,.0f} MB of memory a check may use "
            "(a file dense in events, such as a SIPRI export listing a delivery in every year, takes up to "
            "120 times its size)",
            TOO_LARGE_FIX,
        )


def _peak_resident_bytes() -> int | None:
    try:
        import resource
    except ImportError:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # macOS counts bytes, Linux KiB


def _work() -> None:
    """The worker: read the request, import, send back progress and the outcome (on its standard output)."""
    answers = sys.stdout.buffer
    sys.stdout = sys.stderr  # anything else printed must not mix with the answers

    def send(kind: str, payload: Any) -> None:
        pickle.dump((kind, payload), answers, protocol=pickle.HIGHEST_PROTOCOL)
        answers.flush()

    try:
        database_url, options, memory_limit, data = pickle.load(sys.stdin.buffer)
    except EOFError:  # a spare worker whose dashboard ended without giving it a file
        return
    watch = _MemoryWatch(memory_limit)
    try:
        engine = create_ledger_engine(database_url)  # the dashboard has already migrated it
        try:
            with watch:
                report = import_bytes(
                    engine,
                    data,
                    **options,
                    progress=lambda fraction, text: send("progress", (fraction, text)),
                )
        finally:
            engine.dispose()
        send("report", report)
    except ImportRejected as rejected:
        send("rejected", rejected.problems)
    except BaseException as error:  # noqa: BLE001 - sent to the page, which raises it there
        if watch.tripped:  # the interrupt lands wherever the check was
            send("rejected", [watch.problem()])
            return
        trace = traceback.format_exc()
        try:
            pickled: bytes | None = pickle.dumps(error)
        except Exception:  # noqa: BLE001 - not every error can be pickled; its traceback still goes
            pickled = None
        send("failed", (pickled, trace))


if __name__ == "__main__":
    _work()
