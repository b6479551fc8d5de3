"""Airflow for one machine: `make airflow` (and the scheduler test) in one place.

    python -m ops.airflow_local up [--home var/airflow] [--port 8080]

prepares `AIRFLOW_HOME` (default `var/airflow/`: SQLite metadata database migrated, a login for
Airflow's simple auth manager), creates the registry database named by $REGISTRY_DB if it does not
exist (`registry init`), then runs the scheduler, the DAG processor and the API server (the UI)
bound to 127.0.0.1 until Ctrl-C or SIGTERM, creates the pool `registry_duckdb` the DAGs use (one
slot) and prints the URL and the login. Each component's output goes to `<home>/logs/<component>.out`.

The inbox is never implied: $REGISTRY_INBOX must be set, or `--demo-inbox` sets it to
`<home>/demo_inbox`, filled with the bundled samples (`sources/*/samples/`: what `make airflow` does,
and says so). SQLite and the LocalExecutor with one task at
a time (`parallelism` 1: DuckDB has one writer anyway) are for one machine; a real deployment uses a
Postgres metadata database and its own auth manager (README, "Running Airflow").
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DAGS_DIR = REPO_ROOT / "dags"
DEFAULT_HOME = REPO_ROOT / "var" / "airflow"
HOST = "127.0.0.1"
POOLS = {"registry_duckdb": (1, "DuckDB has one writer: every task that writes the registry database")}
USER = "admin"
COMPONENTS = ("scheduler", "dag-processor", "api-server")


def secrets_file(home: Path) -> Path:
    return home / "registry_local_secrets.json"


def passwords_file(home: Path) -> Path:
    return home / "simple_auth_manager_passwords.json.generated"


def _secrets(home: Path) -> dict[str, str]:
    """Per-home secrets, made once: the JWT secret the components share, the UI password."""
    path = secrets_file(home)
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    values = {"jwt_secret": secrets.token_urlsafe(32), "secret_key": secrets.token_urlsafe(32),
              "password": secrets.token_urlsafe(9)}
    home.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(values), encoding="utf-8")
    path.chmod(0o600)
    return values


def environ(home: Path, port: int, registry: dict[str, str] | None = None, *,
            fast: bool = False, timetables: bool = True) -> dict[str, str]:
    """The environment of every Airflow process of this home (components and CLI calls).
    `fast`: parse and schedule every second or two (tests). `timetables` False: the scheduler runs
    only what is triggered (by hand, the REST API), never a cron slot (tests, whatever the clock)."""
    values = _secrets(home)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_DIR),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "1",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords_file(home)),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://{HOST}:{port}/execution/",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__API__HOST": HOST,
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API__BASE_URL": f"http://{HOST}:{port}",
        "AIRFLOW__API__SECRET_KEY": values["secret_key"],
        "AIRFLOW__API_AUTH__JWT_SECRET": values["jwt_secret"],
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(home / "plugins"),
        # No network: nothing may call out.
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "GX_ANALYTICS_ENABLED": "false",
        "PYTHONUNBUFFERED": "1",
    })
    if fast:
        env.update({
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "2",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "600",  # parsed at start; not again
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
            "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "120",
        })
    if not timetables:
        env["AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE"] = "False"
    env.update(registry or {})
    return env


def airflow(env: dict[str, str], *args: str, timeout: float = 300) -> str:
    """One `airflow ...` CLI call in this environment; its output, or an error with its tail."""
    done = subprocess.run([sys.executable, "-m", "airflow", *args], env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-40:])
        raise RuntimeError(f"airflow {' '.join(args)} failed (exit {done.returncode}):\n{tail}")
    return done.stdout


def prepare(home: Path, env: dict[str, str]) -> None:
    """Migrate the metadata database, write the UI login (idempotent). The pools are made once the
    API server is up (`ensure_pools`): the DAGs are created paused, so nothing runs before."""
    home.mkdir(parents=True, exist_ok=True)
    airflow(env, "db", "migrate")
    path = passwords_file(home)
    users = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    if USER not in users:  # the simple auth manager keeps what it finds here
        users[USER] = _secrets(home)["password"]
        path.write_text(json.dumps(users) + "\n", encoding="utf-8")
        path.chmod(0o600)


def ensure_registry_database(env: dict[str, str]) -> Path:
    """`registry init` for $REGISTRY_DB when it does not exist yet (ingest refuses a missing one)."""
    db = Path(env["REGISTRY_DB"])
    if not db.exists():
        subprocess.run([sys.executable, "-m", "registry.cli", "--db", str(db), "init"], env=env, check=True)
    return db


@dataclass
class Running:
    home: Path
    port: int
    env: dict[str, str]
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def stop(self, timeout: float = 30) -> None:
        """Stop every component started here (their process groups), SIGTERM then SIGKILL."""
        for proc in self.processes.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for proc in self.processes.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)

    def dead(self) -> list[str]:
        return [f"{name} (exit {p.returncode}; see {self.home / 'logs' / (name + '.out')})"
                for name, p in self.processes.items() if p.poll() is not None]


def start(home: Path, port: int, env: dict[str, str], components: tuple[str, ...] = COMPONENTS) -> Running:
    """Start the components, each in its own process group, output to <home>/logs/<name>.out."""
    logs = home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    running = Running(home, port, env)
    for name in components:
        out = (logs / f"{name}.out").open("ab")
        running.processes[name] = subprocess.Popen(
            [sys.executable, "-m", "airflow", name], env=env, stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True, cwd=str(home))
        out.close()
    return running


def wait_healthy(running: Running, timeout: float = 240) -> None:
    """Until the API server answers its health check (and no component has died)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if running.dead():
            raise RuntimeError(f"Airflow component(s) died: {', '.join(running.dead())}")
        try:
            with urllib.request.urlopen(f"{running.url}/api/v2/monitor/health", timeout=5) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(2)
    raise TimeoutError(f"the Airflow API server did not answer at {running.url} within {timeout:.0f}s")


def token(running: Running) -> str:
    """A JWT for the REST API, from the simple auth manager's login."""
    body = json.dumps({"username": USER, "password": _secrets(running.home)["password"]}).encode()
    request = urllib.request.Request(f"{running.url}/auth/token", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())["access_token"]


def api(running: Running, jwt: str, method: str, path: str, body: dict | None = None) -> dict:
    """One REST call (`/api/v2/...`) as the admin user."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{running.url}/api/v2{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json", "Authorization": f"Bearer {jwt}"})
    with urllib.request.urlopen(request, timeout=60) as answer:
        text = answer.read()
    return json.loads(text) if text else {}


def ensure_pools(running: Running, jwt: str) -> None:
    """Create (or resize) the pools the DAGs use, through the REST API (as `airflow pools set` would)."""
    for name, (slots, description) in POOLS.items():
        try:
            api(running, jwt, "GET", f"/pools/{name}")
        except urllib.error.HTTPError as err:
            if err.code != 404:
                raise
            api(running, jwt, "POST", "/pools", {"name": name, "slots": slots, "description": description})
        else:
            api(running, jwt, "PATCH", f"/pools/{name}", {"slots": slots, "description": description})


def _registry_settings(args: argparse.Namespace) -> dict[str, str]:
    values: dict[str, str] = {}
    inbox = os.environ.get("REGISTRY_INBOX", "").strip()
    if not inbox and args.demo_inbox:
        from registry.pipeline.demo import fill_demo_inbox

        folder = args.home / "demo_inbox"
        copies = fill_demo_inbox(folder)
        inbox = str(folder)
        print(f"REGISTRY_INBOX is not set: for this demo the ingest DAGs scan {folder}, holding the "
              f"{len(copies)} bundled samples (invented firms; a deployment sets REGISTRY_INBOX to its "
              "delivery folder)")
    if not inbox:
        raise SystemExit("REGISTRY_INBOX is not set: name the folder the ingest DAGs scan "
                         "(or pass --demo-inbox for the bundled sample data)")
    values["REGISTRY_INBOX"] = str(Path(inbox).resolve())
    db = os.environ.get("REGISTRY_DB", "").strip() or str(args.home / "registry.duckdb")
    values["REGISTRY_DB"] = str(Path(db).resolve())
    return values


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.airflow_local", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["up", "prepare"], help="up: prepare and run; prepare: only prepare")
    parser.add_argument("--home", type=Path, default=DEFAULT_HOME, help=f"AIRFLOW_HOME (default {DEFAULT_HOME})")
    parser.add_argument("--port", type=int, default=int(os.environ.get("AIRFLOW_PORT", "8080")))
    parser.add_argument("--demo-inbox", action="store_true",
                        help="when $REGISTRY_INBOX is unset, scan <home>/demo_inbox, filled with the bundled samples")
    args = parser.parse_args(argv)
    args.home = args.home.resolve()
    registry = _registry_settings(args)
    env = environ(args.home, args.port, registry)
    started = time.monotonic()
    print(f"AIRFLOW_HOME {args.home}: migrating the metadata database ...", flush=True)
    prepare(args.home, env)
    db = ensure_registry_database(env)
    print(f"registry database {db}; inbox {registry['REGISTRY_INBOX']}; lists in {db.parent / 'lists'}")
    if args.command == "prepare":
        return 0
    running = start(args.home, args.port, env)
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops the components too, as Ctrl-C does
    signal.signal(signal.SIGHUP, _interrupt)
    try:
        wait_healthy(running)
        ensure_pools(running, token(running))
        print(f"\nAirflow is up ({time.monotonic() - started:.0f}s): {running.url}\n"
              f"  login: {USER} / {_secrets(args.home)['password']}\n"
              f"  DAGs are created paused: unpause registry_ingest_* and registry_nightly in the UI, or trigger "
              f"registry_nightly with list_date=2026-11-01 for the demo night.\n"
              f"  logs: {args.home / 'logs'} (components: *.out); Ctrl-C stops every component.", flush=True)
        while not running.dead():
            time.sleep(2)
        print(f"stopped: {', '.join(running.dead())}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping Airflow ...")
        return 0
    finally:
        running.stop()


if __name__ == "__main__":
    sys.exit(main())
