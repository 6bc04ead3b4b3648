"""launchpad/local/release.py without a machine: failure detection, rollback target, history merge."""

from __future__ import annotations

from launchpad.local.release import _failed_since, merge_history, previous_good
from launchpad.release.rolling import failure_text
from launchpad.release.manifest import Pointer, new_manifest

STATUS = {
    "live": "bbbbbbbbbbbb", "slot": "b",
    "history": [
        {"id": "aaaaaaaaaaaa", "at": "2026-01-01T00:00:00Z", "source_hash": "s1", "status": "previous", "took_s": 41.0},
        {"id": "cccccccccccc", "at": "2026-01-03T00:00:00Z", "source_hash": "s3", "status": "failed", "took_s": 3.0},
        {"id": "bbbbbbbbbbbb", "at": "2026-01-02T00:00:00Z", "source_hash": "s2", "status": "live", "took_s": 6.5},
    ],
    "last_failure": {"id": "cccccccccccc", "stage": "release", "exit": 1,
                     "tail": "Traceback (most recent call last):\nsqlalchemy.exc.OperationalError: no such table"},
}


def test_previous_good_skips_the_live_and_failed_ones() -> None:
    assert previous_good(STATUS) == "aaaaaaaaaaaa"
    assert previous_good({"live": "x", "history": [{"id": "x", "status": "live", "at": "1"}]}) is None


def test_a_failure_counts_only_when_new_and_for_this_release() -> None:
    failure = STATUS["last_failure"]
    assert _failed_since(STATUS, "cccccccccccc", before=None) == failure
    assert _failed_since(STATUS, "cccccccccccc", before=dict(failure)) is None, "an old failure of the same id"
    assert _failed_since(STATUS, "bbbbbbbbbbbb", before=None) is None
    text = failure_text(failure)
    assert "stage 'release' (exit 1)" in text and "no such table" in text and "keeps serving" in text


def test_history_merges_the_store_and_the_host() -> None:
    def manifest(workers: int, created: str):
        return new_manifest(artifact="a" * 64, artifact_bytes=1, source_hash=f"{workers}" * 64, deps_hash="d" * 16,
                            deps="none", app="x", module="x:app", workers=workers, created=created)

    live, new = manifest(1, "2026-01-02T00:00:00Z"), manifest(2, "2026-01-05T00:00:00Z")
    status = {"live": live.id, "history": [{"id": live.id, "at": "2026-01-02T00:00:09Z", "status": "live", "took_s": 6.5}]}
    rows = merge_history([new, live], status, Pointer.to(new.id))
    assert [(r["id"], r["status"], r["live"], r["desired"]) for r in rows] == [
        (new.id, "published", False, True), (live.id, "live", True, False)]
    assert rows[1]["took_s"] == 6.5 and rows[1]["source_hash"] == "1" * 64
