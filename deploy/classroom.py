"""`make class`: N Streamlit replicas on loopback ports and Debian's nginx in front of them (issue 15).

Why replicas: one Streamlit process runs every session's script in threads of one interpreter, so it gets about
one core of Python however many the machine has. N processes use N cores. A student's session lives in one
process, so nginx keeps each browser on one replica (a cookie, see deploy/nginx-albertviz.conf.template).

    python -m deploy.classroom                      # one replica per core, nginx on 127.0.0.1:8501
    python -m deploy.classroom --host 0.0.0.0       # reachable by the class on the school network
    python -m deploy.classroom --replicas 3 --upstream 10.0.0.12:8601 --upstream 10.0.0.12:8602
    python -m deploy.classroom render --replicas 4 --base-port 8601 --listen 80 > /etc/nginx/conf.d/albertviz.conf

The launcher waits for every replica's `/_stcore/health`, then starts nginx with a generated configuration, then
checks health every few seconds: a replica whose process died is restarted; one that stops answering is marked
`down` in nginx (reload) and restarted. All replicas share one `server.cookieSecret`, so a student moved to another
replica (its replica died) is not refused for a cookie another replica signed. Ctrl-C stops everything.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = Path(__file__).resolve().parent / "nginx-albertviz.conf.template"
NGINX_CANDIDATES = ("/usr/sbin/nginx", "/usr/bin/nginx")
HEALTH = "/_stcore/health"
CHECK_S = 3.0
FAILS_BEFORE_DOWN = 2
log = logging.getLogger("albertviz.classroom")

MAIN_CONF = """# nginx for `make class` (deploy/classroom.py); the albertviz part is the template, included below.
worker_processes 1;
pid {run}/nginx.pid;
error_log {run}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log {access_log};
    client_body_temp_path {run}/tmp/body;
    proxy_temp_path {run}/tmp/proxy;
    fastcgi_temp_path {run}/tmp/fastcgi;
    uwsgi_temp_path {run}/tmp/uwsgi;
    scgi_temp_path {run}/tmp/scgi;
    include {run}/albertviz.conf;
}}
"""


class NginxMissingError(RuntimeError):
    """Debian's nginx is not installed; the message says how to install it."""


def nginx_binary() -> str:
    found = shutil.which("nginx") or next((p for p in NGINX_CANDIDATES if Path(p).exists()), None)
    if not found:
        raise NginxMissingError("nginx is not installed: run `make dev` (or `sudo apt-get install nginx`); "
                           "`make class` and tests/test_replicas.py need Debian's nginx.")
    return found


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def healthy(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url + HEALTH, timeout=timeout) as r:
            return r.status == 200
    except OSError:
        return False


def render(upstreams: list[str], listen: str, down: set[str] = frozenset()) -> str:
    """The albertviz part of nginx's configuration (an `http { }` include) for these upstream `host:port`s."""
    if not upstreams:
        raise ValueError("at least one upstream replica is needed")
    servers = "\n".join(f"    server {u} max_fails=1 fail_timeout=5s{' down' if u in down else ''};"
                        for u in upstreams)
    text = TEMPLATE.read_text(encoding="utf-8")
    return (text.replace("@@SERVERS@@", servers).replace("@@LISTEN@@", listen)
            .replace("@@REPLICA_COUNT@@", str(len(upstreams))))


@dataclass
class Replica:
    """One `streamlit run app.py` on a loopback port."""

    port: int
    env: dict[str, str]
    log_path: Path
    host: str = "127.0.0.1"
    proc: subprocess.Popen | None = None
    fails: int = 0
    restarts: int = 0

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def upstream(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self) -> Replica:
        streamlit = Path(sys.executable).with_name("streamlit")
        cmd = [str(streamlit), "run", "app.py", "--server.headless", "true", "--server.port", str(self.port),
               "--server.address", self.host, "--browser.gatherUsageStats", "false"]
        log_file = open(self.log_path, "a")  # noqa: SIM115 - handed to the child, closed with it
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=os.environ | self.env, stdout=log_file,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        log_file.close()
        self.fails = 0
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


@dataclass
class Classroom:
    """Replicas + nginx on this machine; `start()` returns once nginx answers /_stcore/health."""

    replicas: int | None = None  # None: one per core
    port: int | None = None  # nginx's port; None: a free one
    host: str = "127.0.0.1"  # nginx listens here (0.0.0.0: the school network)
    base_port: int | None = None  # replica ports base_port, base_port+1, …; None: free ones
    upstreams: list[str] = field(default_factory=list)  # more replicas on other machines (host:port)
    env: dict[str, str] = field(default_factory=dict)
    restart: bool = True
    run_dir: Path | None = None
    started_timeout: float = 240.0
    members: list[Replica] = field(default_factory=list)
    nginx: subprocess.Popen | None = None
    _down: set[str] = field(default_factory=set)
    _stop: threading.Event = field(default_factory=threading.Event)
    _monitor: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}"

    @property
    def pids(self) -> list[int]:
        return [r.proc.pid for r in self.members if r.proc]

    def start(self) -> Classroom:
        self.nginx_bin = nginx_binary()
        n = self.replicas or os.cpu_count() or 1
        self.port = self.port or free_port()
        self.run_dir = Path(self.run_dir or ROOT / ".class" / str(self.port))
        for sub in ("tmp/body", "tmp/proxy", "tmp/fastcgi", "tmp/uwsgi", "tmp/scgi"):
            (self.run_dir / sub).mkdir(parents=True, exist_ok=True)
            (self.run_dir / sub).chmod(0o1777)  # nginx's workers drop root (to nobody) when started as root
        # Replicas on one machine share its cores: their live trainers together should not outnumber them.
        trainers = os.environ.get("ALBERTVIZ_LIVE_WORKERS", str(max(1, (os.cpu_count() or 1) // n)))
        env = {"STREAMLIT_SERVER_COOKIE_SECRET": secrets.token_hex(32), "ALBERTVIZ_LIVE_WORKERS": trainers} | self.env
        ports = [self.base_port + i if self.base_port else free_port() for i in range(n)]
        busy = [p for p in ports if not port_is_free(p)] + ([] if port_is_free(self.port, self.host) else [self.port])
        if busy:
            raise RuntimeError(f"port(s) in use: {busy}; is another class running?")
        self.members = [Replica(p, env, self.run_dir / f"replica-{p}.log").start() for p in ports]
        try:
            self._wait_replicas()
            self._write_config()
            self._start_nginx()
        except BaseException:
            self.stop()
            raise
        self._monitor = threading.Thread(target=self._watch, name="classroom-health", daemon=True)
        self._monitor.start()
        return self

    def _start_nginx(self) -> None:
        check = subprocess.run([self.nginx_bin, "-t", "-p", str(self.run_dir), "-c", str(self.conf_path)],
                               capture_output=True, text=True)
        if check.returncode:
            raise RuntimeError(f"nginx rejects the generated configuration:\n{check.stderr}")
        with open(self.run_dir / "nginx.stderr", "w") as err:
            self.nginx = subprocess.Popen([self.nginx_bin, "-p", str(self.run_dir), "-c", str(self.conf_path),
                                           "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=err,
                                          start_new_session=True)
        deadline = time.monotonic() + 20
        while not healthy(self.url):
            if self.nginx.poll() is not None or time.monotonic() > deadline:
                logs = [(self.run_dir / f).read_text()[-800:] for f in ("nginx.stderr", "error.log")
                        if (self.run_dir / f).exists()]
                raise RuntimeError("nginx did not start: " + " | ".join(logs))
            time.sleep(0.2)

    def _wait_replicas(self) -> None:
        deadline = time.monotonic() + self.started_timeout
        waiting = list(self.members)
        while waiting:
            for r in list(waiting):
                if not r.alive():
                    raise RuntimeError(f"replica on port {r.port} exited ({r.proc.returncode}); see {r.log_path}")
                if healthy(r.url):
                    waiting.remove(r)
            if waiting and time.monotonic() > deadline:
                raise TimeoutError(f"replicas {[r.port for r in waiting]} not healthy within {self.started_timeout} s")
            time.sleep(0.3)

    @property
    def conf_path(self) -> Path:
        return self.run_dir / "nginx.conf"

    def _write_config(self) -> None:
        listen = f"{self.host}:{self.port}" if self.host not in ("", "0.0.0.0") else str(self.port)
        (self.run_dir / "albertviz.conf").write_text(
            render([r.upstream for r in self.members] + self.upstreams, listen, self._down))
        self.conf_path.write_text(MAIN_CONF.format(run=self.run_dir, access_log=self.run_dir / "access.log"))

    def _reload(self) -> None:
        self._write_config()
        if self.nginx and self.nginx.poll() is None:
            self.nginx.send_signal(signal.SIGHUP)  # nginx re-reads its configuration, open websockets stay

    def _watch(self) -> None:
        """Active health checks: restart dead replicas, take unresponsive ones out of nginx until they answer."""
        while not self._stop.wait(CHECK_S):
            changed = False
            for r in self.members:
                if self._stop.is_set():
                    return
                ok = r.alive() and healthy(r.url)
                if ok:
                    r.fails = 0
                    if r.upstream in self._down:
                        self._down.discard(r.upstream)
                        changed = True
                        log.warning("replica %s is healthy again", r.upstream)
                    continue
                r.fails += 1
                if r.fails >= FAILS_BEFORE_DOWN and r.upstream not in self._down:
                    self._down.add(r.upstream)
                    changed = True
                    log.warning("replica %s failed %d health checks: marked down", r.upstream, r.fails)
                if self.restart and (not r.alive() or r.fails >= 3 * FAILS_BEFORE_DOWN):
                    log.warning("restarting replica %s", r.upstream)
                    r.stop(5)
                    r.restarts += 1
                    r.start()
            if changed and len(self._down) < len(self.members) + len(self.upstreams):
                self._reload()

    def stop(self) -> None:
        self._stop.set()
        if self._monitor is not None:
            self._monitor.join(CHECK_S + 5)
        if self.nginx and self.nginx.poll() is None:
            self.nginx.send_signal(signal.SIGQUIT)  # graceful: finish requests, then exit
            try:
                self.nginx.wait(10)
            except subprocess.TimeoutExpired:
                self.nginx.kill()
                self.nginx.wait(5)
        for r in self.members:
            r.stop()

    def __enter__(self) -> Classroom:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m deploy.classroom", description=__doc__.split("\n\n")[0])
    ap.add_argument("command", nargs="?", default="serve", choices=["serve", "render"],
                    help="serve (default): start replicas + nginx; render: print the nginx include and exit")
    ap.add_argument("--replicas", type=int, default=os.cpu_count() or 1, help="Streamlit processes (default: cores)")
    ap.add_argument("--port", type=int, default=8501, help="nginx's port (default 8501)")
    ap.add_argument("--host", default="127.0.0.1", help="nginx's address; 0.0.0.0 for the school network")
    ap.add_argument("--base-port", type=int, default=8601, help="first replica port (default 8601)")
    ap.add_argument("--upstream", action="append", default=[], help="a replica on another machine, host:port")
    ap.add_argument("--listen", default=None, help="render: nginx's listen value (default 80)")
    ap.add_argument("--no-restart", action="store_true", help="do not restart replicas that die")
    args = ap.parse_args(argv)
    if args.command == "render":
        local = [f"127.0.0.1:{args.base_port + i}" for i in range(args.replicas)]
        sys.stdout.write(render(local + args.upstream, args.listen or "80"))
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    room = Classroom(replicas=args.replicas, port=args.port, host=args.host, base_port=args.base_port,
                     upstreams=args.upstream, restart=not args.no_restart)
    print(f"starting {args.replicas} replica(s) on ports {args.base_port}–{args.base_port + args.replicas - 1} …",
          flush=True)
    room.start()
    print(f"albertviz for the class: {room.url}  (nginx → {', '.join(r.upstream for r in room.members)}"
          f"{', ' + ', '.join(args.upstream) if args.upstream else ''}; logs in {room.run_dir}). Ctrl-C stops.",
          flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(1):
            if room.nginx.poll() is not None:
                print("nginx exited; stopping", flush=True)
                break
    except KeyboardInterrupt:
        pass
    finally:
        room.stop()


if __name__ == "__main__":
    main()
