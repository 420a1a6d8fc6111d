"""Two real Streamlit replicas behind Debian's nginx (deploy/classroom.py, as `make class` runs them).

Students are protocol-level sessions (bench.protocol: Streamlit's websocket and protobuf messages, as the browser
sends them). We check that nginx upgrades the websocket and keeps each student on one replica, then kill one
replica outright (SIGKILL, as a crash or an OOM kill would): its students must get a prompt, clean disconnect —
which the real frontend shows as "Connecting" and retries — and land on the surviving replica when they
reconnect, while the other replica's students go on as if nothing happened.

Fails (never skips) without nginx: `make dev` installs it, as it installs Chromium for the browser tests.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
import urllib.request

import pytest

from bench.protocol import ProtocolError, Session, run_sync
from deploy import classroom

pytestmark = pytest.mark.slow  # real Streamlit replicas behind nginx

PAGE = "parameters"  # a real page that needs no model: the test is about the plumbing
DISCONNECT_S = 5.0  # a killed replica's students must notice within this long


@pytest.fixture(scope="module")
def room():
    try:
        classroom.nginx_binary()
    except classroom.NginxMissingError as err:
        pytest.fail(str(err), pytrace=False)
    r = classroom.Classroom(replicas=2, restart=False, started_timeout=300)
    r.start()
    yield r
    r.stop()


def test_generated_config_is_valid_nginx(tmp_path):
    conf = classroom.render(["127.0.0.1:8601", "127.0.0.1:8602", "10.0.0.7:8601"], "127.0.0.1:18080",
                            down={"127.0.0.1:8602"})
    assert "server 127.0.0.1:8602 max_fails=1 fail_timeout=5s down;" in conf
    assert "proxy_set_header Upgrade $http_upgrade;" in conf and "hash $albertviz_sticky consistent;" in conf
    (tmp_path / "albertviz.conf").write_text(conf)
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp_path / "tmp" / sub).mkdir(parents=True)
    (tmp_path / "nginx.conf").write_text(classroom.MAIN_CONF.format(run=tmp_path, access_log="off"))
    check = subprocess.run([classroom.nginx_binary(), "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


async def students_on_both(url: str, per_replica: int = 2, tries: int = 24) -> dict[str, list[Session]]:
    """Fresh students (each its own cookie) until each replica has `per_replica` of them, then all open the page."""
    by_replica: dict[str, list[Session]] = {}
    for _ in range(tries):
        s = await Session(url, timeout=120).connect()
        if len(by_replica.get(s.replica, [])) >= per_replica:
            await s.close()
        else:
            by_replica.setdefault(s.replica, []).append(s)
        if len(by_replica) == 2 and all(len(v) == per_replica for v in by_replica.values()):
            break
    assert len(by_replica) == 2, f"nginx sent {tries} new students to {sorted(by_replica)} only"
    for sessions in by_replica.values():
        for s in sessions:
            r = await s.open(PAGE)
            assert r.ok, r.errors
    return by_replica


def test_the_page_and_its_websocket_stick_to_one_replica(room):
    def page_load(cookie: str = "") -> tuple[str, str]:
        req = urllib.request.Request(room.url + "/", headers={"Cookie": cookie} if cookie else {})
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.headers.get("X-Albertviz-Replica", ""), r.headers.get("Set-Cookie", "")

    async def check():
        async with Session(room.url, timeout=120) as s:
            assert "albertviz_replica=" in s.cookie
            first = s.replica
            assert first in {m.upstream for m in room.members}
            again = [page_load(s.cookie) for _ in range(5)]
            assert {replica for replica, _ in again} == {first}
            assert not any(cookie for _, cookie in again)  # the cookie is set once, not on every request
            r = await s.open(PAGE)
            assert r.ok and r.latency < 120, r.errors

    run_sync(check())
    # new students without a cookie are spread over the replicas, not all sent to one
    assert len({page_load()[0] for _ in range(12)}) == 2


def test_killing_a_replica_disconnects_only_its_students(room):
    async def scenario():
        by_replica = await students_on_both(room.url)
        victim = next(m for m in room.members if m.upstream in by_replica)
        survivor_addr = next(a for a in by_replica if a != victim.upstream)
        doomed, others = by_replica[victim.upstream], by_replica[survivor_addr]

        killed_at = time.monotonic()
        os.kill(victim.proc.pid, signal.SIGKILL)
        victim.proc.wait(10)

        # the survivors keep working, every one of them, during and right after the kill
        for round_ in range(2):
            for i, s in enumerate(others):
                r = await s.set("parameters.sharing", ["shared FFN", "not shared (BERT)"][(i + round_) % 2])
                assert r.ok, r.errors
                assert s.closed is None and s.replica == survivor_addr

        # the victim's students see their connection end promptly: closed, not hanging
        for s in doomed:
            while s.closed is None and time.monotonic() - killed_at < DISCONNECT_S:
                await asyncio.sleep(0.05)
            assert s.closed is not None, f"no disconnect within {DISCONNECT_S} s of the kill"
            with pytest.raises(ProtocolError, match="connection is closed"):
                await s.set("parameters.sharing", "shared FFN")
        # … and a reconnect (what the frontend does next, same cookie) lands on the survivor and works
        for s in doomed:
            await s.close()
            again = Session(room.url, timeout=120)
            again.cookie = s.cookie
            await again.connect()
            try:
                assert again.replica == survivor_addr
                r = await again.open(PAGE)
                assert r.ok, r.errors
            finally:
                await again.close()
        for s in others:
            await s.close()
        with urllib.request.urlopen(room.url + "/_stcore/health", timeout=10) as h:
            assert h.status == 200

    run_sync(scenario())
