"""The hostile-case table (tests/hostile_cases.py), run: each case rejected naming its key, or
rendered into a tree every validator accepts with the hostile value only in its escaped form.
The run reports the counts and outcomes (pytest's "measured" summary)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest

from facts import fact
from hostile_cases import CASES, Case
from launchpad.settings import AppSettings, ConfigError, validate
from render_checks import can_validate, tree_of, validate_trees

# Cases whose fix has not landed yet (xfail, strict: a fix that lands flips them to a failure
# until this set is emptied).
PENDING: set[str] = set()
OUTCOMES: Counter[str] = Counter()


def _marks(case: Case) -> list[pytest.MarkDecorator]:
    missing = [k for k in case.needs_keys if k not in AppSettings.model_fields]
    if missing:
        return [pytest.mark.skip(reason=f"needs app.{', app.'.join(missing)} (issue 10)")]
    if case.since in PENDING:
        return [pytest.mark.xfail(strict=True, reason=f"fixed by {case.since}")]
    return []


def _params(kind: str) -> list:
    return [pytest.param(c, id=c.name, marks=_marks(c)) for c in CASES if (c.rejected_key is None) == (kind == "escaped")]


def test_table_is_big_and_well_formed() -> None:
    assert len(CASES) >= 60
    assert len({c.name for c in CASES}) == len(CASES), "case names are unique"
    for c in CASES:
        assert c.expected == "rendered-escaped" or c.expected.startswith("rejected: "), c.name
        assert c.since in ("now", "issue13", "releases"), c.name
        assert (c.payload is None) == (c.expected != "rendered-escaped"), c.name
        assert c.escaped is None or c.payload is not None, c.name


@pytest.fixture(scope="module", autouse=True)
def report() -> Iterator[None]:
    yield
    kinds = Counter("rejected" if c.rejected_key else "rendered-escaped" for c in CASES)
    fact(f"hostile cases: {len(CASES)} ({kinds['rejected']} to be rejected naming the key, "
         f"{kinds['rendered-escaped']} to be rendered escaped)")
    waiting = sum(1 for c in CASES if any(k not in AppSettings.model_fields for k in c.needs_keys))
    outcomes = {**OUTCOMES, "waiting for issue-10 keys (skipped)": waiting}
    fact("hostile case outcomes: " + ", ".join(f"{n} {what}" for what, n in sorted(outcomes.items()) if n))


@pytest.mark.parametrize("case", _params("rejected"))
def test_rejected_naming_the_key(case: Case) -> None:
    OUTCOMES["pending"] += 1  # undone below when the case holds
    key = case.rejected_key
    assert key is not None
    with pytest.raises(ConfigError) as err:
        validate(case.config, "hostile")
    keys = [p.key for p in err.value.problems]
    assert any(k == key or k.startswith((key + ".", key + "[")) for k in keys), f"expected a problem for {key}, got {keys}"
    OUTCOMES["pending"] -= 1
    OUTCOMES["rejected naming the key"] += 1


@pytest.fixture(scope="module")
def validated() -> dict[str, list[str]]:
    reason = can_validate()
    if reason:
        pytest.skip(reason)
    trees = []
    for case in CASES:
        if case.rejected_key is None and case.since not in PENDING:
            try:
                trees.append(tree_of(case.name, validate(case.config, "hostile")))
            except ConfigError:
                continue  # the case's own test reports it
    return validate_trees(trees)


@pytest.mark.parametrize("case", _params("escaped"))
def test_rendered_escaped(case: Case, validated: dict[str, list[str]]) -> None:
    OUTCOMES["pending"] += 1
    assert case.payload is not None
    tree = tree_of(case.name, validate(case.config, "hostile"))
    texts = {"user-data": tree.user_data, **tree.files}
    escaped = case.escaped or "\x00never"
    if case.escaped is not None:
        assert any(escaped in text for text in texts.values()), f"{escaped!r} is in no rendered file"
    stray = [path for path, text in texts.items() if case.payload in text.replace(escaped, "")]
    assert not stray, f"{case.payload!r} appears unescaped in {stray}"
    assert validated.get(case.name, []) == []
    OUTCOMES["pending"] -= 1
    OUTCOMES["rendered escaped, every validator passes"] += 1
