"""The web app under a real uvicorn server on loopback, for tests: in a thread (`serving`), or as a
real `sme-bot serve` process (`ServeProcess`); and `Owner`, one person's browser over httpx."""

import html
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn

from sme_bot.config import Config
from sme_bot.web.serve import listen, uvicorn_settings

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_QUESTION = re.compile(r'name="question" value="([^"]+)"')
_HEADING = re.compile(r'<p class="progress-text" id="progress">([^<]+)</p>')
_NOTICE = re.compile(r'<p class="notice" role="status">([^<]+)</p>')
_CODE = re.compile(r'<span class="code">([A-Z0-9 ]+)</span></h2>')


@contextmanager
def serving(app) -> Iterator[str]:
    """`app` under uvicorn on 127.0.0.1 at a free port, in a background thread; yields its base URL."""
    listener = listen("127.0.0.1", 0)
    settings = {**uvicorn_settings(Config(), access_log=False), "log_level": "warning"}
    server = uvicorn.Server(uvicorn.Config(app, **settings))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the web app did not start"
        time.sleep(0.005)
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        listener.close()


class ServeProcess:
    """`sme-bot serve` as an installer runs it, on a free loopback port; the URL it printed."""

    def __init__(self, *args: str, cwd: Path, env: dict[str, str] | None = None):
        command = Path(sys.executable).with_name("sme-bot")
        self.process = subprocess.Popen([str(command), "serve", "--host", "127.0.0.1", "--port", "0", *args],
                                        cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                        env={**os.environ, **(env or {})})
        assert self.process.stdout is not None
        first = self.process.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:\d+", first)
        assert found, f"sme-bot serve said {first!r}; stderr: {self.process.stderr.read()}"
        self.url = found.group(0)
        deadline = time.monotonic() + 15
        while True:  # listening already; ready once the app has opened its database
            try:
                if httpx.get(self.url + "/privacy", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "sme-bot serve did not answer"
            time.sleep(0.02)

    def kill(self) -> None:
        """As a power cut or the OOM killer would: no shutdown at all."""
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> tuple[int, str]:
        """SIGTERM, as a service manager stops it: the exit code and what it logged."""
        self.process.send_signal(signal.SIGTERM)
        _, logged = self.process.communicate(timeout=10)
        return self.process.returncode, logged


class Owner:
    """One person's browser: a cookie jar, redirects followed, and the last page read."""

    def __init__(self, url: str, **headers: str):
        self.http = httpx.Client(base_url=url, follow_redirects=True, timeout=10, headers=headers)
        self.page = ""

    def get(self, path: str) -> httpx.Response:
        return self._read(self.http.get(path))

    def post(self, path: str, data: dict | None = None, *, csrf: str | None = None) -> httpx.Response:
        token = self.csrf if csrf is None else csrf
        return self._read(self.http.post(path, data={"csrf": token, **(data or {})}))

    def agree(self, *, staff: bool = True) -> httpx.Response:
        self.get("/consent")
        return self.post("/consent", {"result": "yes", "staff": "yes" if staff else "", "action": "agree"})

    def answer(self, value: object = None, *, action: str = "answer", question: str | None = None) -> httpx.Response:
        """Send the form on screen: `value` is an option id, a list of them (multi) or typed text."""
        data: dict = {"question": question or self.question, "action": action}
        if value is not None:
            data["value"] = value
        return self.post("/answer", data)

    @property
    def csrf(self) -> str:
        return html.unescape(_CSRF.search(self.page).group(1))  # type: ignore[union-attr]

    @property
    def question(self) -> str:
        return _QUESTION.search(self.page).group(1)  # type: ignore[union-attr]

    @property
    def heading(self) -> str:
        return html.unescape(_HEADING.search(self.page).group(1))  # type: ignore[union-attr]

    @property
    def notice(self) -> str | None:
        found = _NOTICE.search(self.page)
        return html.unescape(found.group(1)) if found else None

    @property
    def code(self) -> str:
        return _CODE.search(self.page).group(1).replace(" ", "")  # type: ignore[union-attr]

    def _read(self, response: httpx.Response) -> httpx.Response:
        self.page = response.text
        return response

    def close(self) -> None:
        self.http.close()
