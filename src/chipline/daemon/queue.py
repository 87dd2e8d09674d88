"""The durable job queue: one SQLite (WAL) row per dropped file, written before work starts.

States: queued → working → done | failed; `skipped` marks a file whose content was already
rendered. Only the daemon's main process writes; `chipline status` reads alongside it.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from chipline.errors import DaemonError

DB_NAME = "queue.sqlite3"
STATES = ("queued", "working", "done", "failed", "skipped")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY,
    src_name TEXT NOT NULL,
    work_name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    out_name TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_sec REAL NOT NULL,
    started_sec REAL,
    finished_sec REAL,
    next_try_sec REAL NOT NULL DEFAULT 0,
    run_sec REAL,
    error TEXT,
    log_tail TEXT NOT NULL DEFAULT '',
    history TEXT NOT NULL DEFAULT '',
    outputs TEXT NOT NULL DEFAULT '[]',
    duplicate_of INTEGER
);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state, next_try_sec);
CREATE INDEX IF NOT EXISTS jobs_sha ON jobs (sha256);
CREATE INDEX IF NOT EXISTS jobs_out ON jobs (out_name);
CREATE INDEX IF NOT EXISTS jobs_work ON jobs (work_name);
"""


@dataclass(frozen=True)
class Job:
    """One row of the queue (times are `time.time()` seconds)."""

    id: int
    src_name: str
    work_name: str
    sha256: str
    out_name: str
    state: str
    attempts: int
    created_sec: float
    started_sec: float | None
    finished_sec: float | None
    next_try_sec: float
    run_sec: float | None
    error: str | None
    log_tail: str
    history: str
    outputs: str
    duplicate_of: int | None

    def output_list(self) -> list[str]:
        """Delivered files, relative to the output folder."""
        return list(json.loads(self.outputs))


class JobQueue:
    """The queue in `state_dir/queue.sqlite3` (WAL, so readers never block the daemon)."""

    def __init__(self, state_dir: Path, *, readonly: bool = False) -> None:
        self.path = state_dir / DB_NAME
        try:
            if readonly:
                uri = self.path.resolve().as_uri() + "?mode=ro"
                self._db = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=10)
            else:
                state_dir.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(self.path, isolation_level=None, timeout=10)
                self._db.execute("PRAGMA journal_mode=WAL")
                # NORMAL in WAL mode survives a killed process; only a power cut may lose
                # the last commits, which a restart redoes (every step is idempotent).
                self._db.execute("PRAGMA synchronous=NORMAL")
                self._db.executescript(_SCHEMA)
        except sqlite3.Error as e:
            raise DaemonError(f"{self.path}: cannot open the job queue ({e})") from e
        self._db.row_factory = sqlite3.Row

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _one(self, sql: str, *args: object) -> Job | None:
        row = self._db.execute(sql, args).fetchone()
        return Job(**dict(row)) if row else None

    def get(self, job_id: int) -> Job:
        job = self._one("SELECT * FROM jobs WHERE id = ?", job_id)
        if job is None:
            raise DaemonError(f"{self.path}: no job {job_id}")
        return job

    def add(
        self,
        src_name: str,
        work_name: str,
        sha256: str,
        *,
        stem: str | None = None,
        skip_duplicates: bool,
        overwrite: bool,
        name_taken: Callable[[str], bool],
    ) -> Job:
        """Record a new file: `queued` with a fresh output name, or `skipped` when the same
        content was already rendered (`done`; content still in flight is queued again, so a
        copy never lands in done/ while its original may yet fail).

        The output name is `stem` (default: the file's stem); when another content already used
        it, in any letter case (or `name_taken(name)` says the output folder has it), `stem-2`,
        `stem-3`, ... unless `overwrite`.
        """
        now = time.time()
        with self._tx() as db:
            dup = None
            if skip_duplicates:
                dup = db.execute(
                    "SELECT id, out_name FROM jobs WHERE sha256 = ? AND state = 'done' "
                    "ORDER BY id LIMIT 1",
                    (sha256,),
                ).fetchone()
            if dup is not None:
                state, out_name, dup_id = "skipped", dup["out_name"], dup["id"]
            else:
                state, dup_id = "queued", None
                base = stem if stem is not None else Path(src_name).stem
                out_name = self._out_name(db, base, sha256, overwrite, name_taken)
            cur = db.execute(
                "INSERT INTO jobs (src_name, work_name, sha256, out_name, state, created_sec,"
                " finished_sec, duplicate_of) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    src_name,
                    work_name,
                    sha256,
                    out_name,
                    state,
                    now,
                    now if dup_id else None,
                    dup_id,
                ),
            )
            job_id = cur.lastrowid
        assert job_id is not None
        return self.get(job_id)

    @staticmethod
    def _out_name(
        db: sqlite3.Connection,
        stem: str,
        sha256: str,
        overwrite: bool,
        name_taken: Callable[[str], bool],
    ) -> str:
        if overwrite:
            return stem
        for n in range(1, 100_000):
            name = stem if n == 1 else f"{stem}-{n}"
            owners = db.execute(
                "SELECT sha256 FROM jobs WHERE out_name = ? COLLATE NOCASE AND state != 'skipped'",
                (name,),
            ).fetchall()
            if all(r["sha256"] == sha256 for r in owners) and (owners or not name_taken(name)):
                return name
        raise DaemonError(f"no free output name for {stem!r}")

    def next_ready(self, now_sec: float) -> Job | None:
        """The oldest queued job whose backoff has passed, or None."""
        return self._one(
            "SELECT * FROM jobs WHERE state = 'queued' AND next_try_sec <= ? ORDER BY id LIMIT 1",
            now_sec,
        )

    def next_wake_sec(self) -> float | None:
        """When the earliest queued job becomes ready, or None if nothing is queued."""
        row = self._db.execute("SELECT MIN(next_try_sec) FROM jobs WHERE state = 'queued'")
        value = row.fetchone()[0]
        return None if value is None else float(value)

    def _set(self, job_id: int, **values: object) -> None:
        cols = ", ".join(f"{k} = ?" for k in values)
        with self._tx() as db:
            db.execute(f"UPDATE jobs SET {cols} WHERE id = ?", (*values.values(), job_id))

    def start(self, job_id: int) -> None:
        self._set(job_id, state="working", started_sec=time.time())

    def done(self, job_id: int, run_sec: float, outputs: list[str]) -> None:
        job = self.get(job_id)
        self._set(
            job_id,
            state="done",
            attempts=job.attempts + 1,
            finished_sec=time.time(),
            run_sec=run_sec,
            outputs=json.dumps(outputs),
        )

    def failed_try(
        self, job_id: int, reason: str, run_sec: float, retry_in_sec: float | None, log_tail: str
    ) -> Job:
        """Count a failed try: back to `queued` after `retry_in_sec`, or `failed` when None."""
        job = self.get(job_id)
        now = time.time()
        line = f"try {job.attempts + 1}: {reason} ({run_sec:.2f} s)\n"
        retry = retry_in_sec is not None
        self._set(
            job_id,
            state="queued" if retry else "failed",
            attempts=job.attempts + 1,
            next_try_sec=now + (retry_in_sec or 0.0),
            finished_sec=None if retry else now,
            run_sec=run_sec,
            error=reason,
            log_tail=log_tail,
            history=job.history + line,
        )
        return self.get(job_id)

    def requeue(self, job_id: int) -> None:
        """Put an interrupted job back without counting a try (shutdown, crash recovery)."""
        self._set(job_id, state="queued", started_sec=None)

    def recover(self) -> int:
        """Re-queue every job left `working` by a daemon that died; return how many."""
        with self._tx() as db:
            cur = db.execute("UPDATE jobs SET state = 'queued' WHERE state = 'working'")
            return cur.rowcount

    def latest_by_work_name(self, work_name: str) -> Job | None:
        return self._one(
            "SELECT * FROM jobs WHERE work_name = ? ORDER BY id DESC LIMIT 1", work_name
        )

    def jobs(self, state: str | None = None) -> list[Job]:
        if state is None:
            rows = self._db.execute("SELECT * FROM jobs ORDER BY id")
        else:
            rows = self._db.execute("SELECT * FROM jobs WHERE state = ? ORDER BY id", (state,))
        return [Job(**dict(r)) for r in rows]

    def counts(self) -> dict[str, int]:
        rows = self._db.execute("SELECT state, COUNT(*) FROM jobs GROUP BY state").fetchall()
        found = {r[0]: r[1] for r in rows}
        return {s: int(found.get(s, 0)) for s in STATES}

    def last_failures(self, limit: int = 5) -> list[Job]:
        return [
            Job(**dict(r))
            for r in self._db.execute(
                "SELECT * FROM jobs WHERE state = 'failed' ORDER BY finished_sec DESC LIMIT ?",
                (limit,),
            )
        ]

    def finished_since(self, since_sec: float) -> int:
        row = self._db.execute(
            "SELECT COUNT(*) FROM jobs WHERE state IN ('done', 'failed') AND finished_sec >= ?",
            (since_sec,),
        ).fetchone()
        return int(row[0])
