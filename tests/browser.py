"""Drive headless Chromium from tests, with the standard library only.

Chromium runs with ``--remote-debugging-pipe`` and is driven over the DevTools protocol (JSON messages
on file descriptors 3 and 4), so a test can set an exact viewport, wait for a condition in the page
(not a guessed time budget), read the DOM, collect JavaScript errors and take a screenshot of the same
page load.

- :func:`find_chromium`: the browser (``HELIXMAP_CHROMIUM``, then ``chromium`` & co. on PATH).
- :class:`Chromium`: one browser and one tab (``with Chromium() as page: page.open(url, wait_for=...)``).
- :func:`dump_dom`, :func:`screenshot`: one-shot helpers.
- :func:`read_png`, :func:`count_pixels`, :func:`near`: decode and measure a PNG (8-bit RGB/RGBA).

Every browser gets a fresh profile directory and its own process group, killed when done.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import signal
import struct
import tempfile
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

CHROMIUM_FLAGS: tuple[str, ...] = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--mute-audio",
    "--force-device-scale-factor=1",
    "--remote-debugging-pipe",
)
_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


class BrowserError(RuntimeError):
    """Chromium failed to start, a page failed to load, or a wait timed out."""


def find_chromium() -> str | None:
    """Path of a Chromium/Chrome executable, or None.

    ``HELIXMAP_CHROMIUM`` (a path or a command name) wins when set; then the usual names on PATH,
    then ``/usr/bin/chromium``.
    """
    override = os.environ.get("HELIXMAP_CHROMIUM", "").strip()
    if override:
        return shutil.which(override)
    for name in _CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None


def _high_fd(fd: int) -> int:
    """A duplicate of ``fd`` numbered 10 or more (so it cannot clash with 3 and 4 in the child)."""
    dup = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return dup


class Chromium:
    """One headless Chromium with one tab, driven over the DevTools pipe.

    ``errors`` collects uncaught JavaScript exceptions, ``console.error`` calls and browser log
    errors (such as Content-Security-Policy violations) of the pages opened.
    """

    def __init__(
        self,
        chromium: str | None = None,
        *,
        window_size: tuple[int, int] = (1400, 900),
        timeout: float = 60.0,
    ) -> None:
        exe = chromium or find_chromium()
        if exe is None:
            raise BrowserError("Chromium not found (install chromium or set HELIXMAP_CHROMIUM)")
        self.timeout = timeout
        self.window_size = window_size
        self.errors: list[str] = []
        self._next_id = 0
        self._buffer = b""
        self._events: list[dict[str, Any]] = []
        self._profile = tempfile.TemporaryDirectory(prefix="helixmap-chromium-")
        to_child_r, to_child_w = (_high_fd(fd) for fd in os.pipe())
        from_child_r, from_child_w = (_high_fd(fd) for fd in os.pipe())
        width, height = window_size
        argv = [
            exe,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={self._profile.name}",
            f"--window-size={width},{height}",
            "about:blank",
        ]
        try:
            # posix_spawn, not fork + Python code: safe in a threaded test process. The DevTools
            # pipe must be the child's fds 3 (commands in) and 4 (answers out); its own session
            # makes the whole browser (zygote, renderers) one process group to kill.
            self._pid: int | None = os.posix_spawn(
                argv[0],
                argv,
                dict(os.environ),
                file_actions=[
                    (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                    (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
                    (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
                    (os.POSIX_SPAWN_DUP2, to_child_r, 3),
                    (os.POSIX_SPAWN_DUP2, from_child_w, 4),
                ],
                setsid=True,
            )
        finally:
            os.close(to_child_r)
            os.close(from_child_w)
        self._write_fd, self._read_fd = to_child_w, from_child_r
        try:
            target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
            self._session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            self.call(
                "Emulation.setDeviceMetricsOverride",
                {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
                session=True,
            )
            for domain in ("Page", "Runtime", "Log"):
                self.call(f"{domain}.enable", session=True)
        except BaseException:
            self.close()
            raise

    # -- protocol ------------------------------------------------------------------------------

    def _read_message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BrowserError("Chromium did not answer in time")
            ready, _, _ = select.select([self._read_fd], [], [], remaining)
            if ready:
                chunk = os.read(self._read_fd, 1 << 20)
                if not chunk:
                    raise BrowserError("Chromium closed the DevTools pipe (it exited)")
                self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        message: dict[str, Any] = json.loads(raw)
        if "method" in message:
            self._note_event(message)
        return message

    def _note_event(self, event: dict[str, Any]) -> None:
        method, params = event["method"], event.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            description = details.get("exception", {}).get("description") or details.get("text", "")
            self.errors.append(f"exception: {description}")
        elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
            self.errors.append(
                "console.error: "
                + " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            )
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            self.errors.append(f"log: {params['entry'].get('text', '')}")
        self._events.append(event)

    def call(
        self, method: str, params: dict[str, Any] | None = None, *, session: bool = False, timeout: float | None = None
    ) -> dict[str, Any]:
        """Send one DevTools command and return its result (raises BrowserError on a protocol error)."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self._session
        os.write(self._write_fd, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            answer = self._read_message(deadline)
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise BrowserError(f"{method}: {answer['error']}")
                result: dict[str, Any] = answer.get("result", {})
                return result

    # -- page ------------------------------------------------------------------------------------

    def evaluate(self, expression: str) -> Any:
        """Value of a JavaScript expression in the page (JSON-serialisable results only)."""
        result = self.call(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True}, session=True
        )
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression!r} threw: {result['exceptionDetails'].get('text')}")
        return result.get("result", {}).get("value")

    def open(self, url: str, *, wait_for: str | None = None, timeout: float | None = None) -> None:
        """Load ``url``; then wait until the JavaScript expression ``wait_for`` is truthy."""
        answer = self.call("Page.navigate", {"url": url}, session=True)
        if answer.get("errorText"):
            raise BrowserError(f"cannot load {url}: {answer['errorText']}")
        self.wait(f"document.readyState === 'complete' && ({wait_for or 'true'})", timeout=timeout)

    def wait(self, expression: str, *, timeout: float | None = None) -> Any:
        """Poll ``expression`` until truthy and return its value; BrowserError after ``timeout`` s."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise BrowserError(f"timed out waiting for {expression!r}; page errors: {self.errors}")
            time.sleep(0.1)

    def mouse_move(self, x: float, y: float) -> None:
        """Move the mouse to viewport position (x, y), as a user would (hover effects, tooltips)."""
        self.call("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x, "y": y}, session=True)

    def dom(self) -> str:
        """The serialised DOM as it is now."""
        return str(self.evaluate("document.documentElement.outerHTML"))

    def screenshot(self, path: str | os.PathLike[str]) -> Path:
        """Save a PNG of the viewport to ``path`` (after the next frame is drawn)."""
        self.evaluate(
            "new Promise(function (done) { requestAnimationFrame(function () { requestAnimationFrame(done); }); })"
        )
        data = self.call("Page.captureScreenshot", {"format": "png"}, session=True)["data"]
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(base64.b64decode(data))
        return target

    # -- lifetime --------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the browser, kill what is left of its process group, remove its profile."""
        pid = getattr(self, "_pid", None)
        if pid is not None:
            try:
                os.write(self._write_fd, json.dumps({"id": 0, "method": "Browser.close"}).encode() + b"\0")
            except OSError:
                pass
            deadline = time.monotonic() + 10
            while os.waitpid(pid, os.WNOHANG) == (0, 0) and time.monotonic() < deadline:
                time.sleep(0.05)
            try:
                os.killpg(pid, signal.SIGKILL)  # the group this object started (renderers, zygote)
            except ProcessLookupError:
                pass
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass  # already reaped above
            self._pid = None
        for fd in (getattr(self, "_write_fd", -1), getattr(self, "_read_fd", -1)):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._write_fd = self._read_fd = -1
        self._profile.cleanup()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def dump_dom(
    url: str,
    *,
    wait_for: str | None = None,
    window_size: tuple[int, int] = (1400, 900),
    timeout: float = 60.0,
    chromium: str | None = None,
) -> str:
    """The DOM of ``url`` once the JavaScript expression ``wait_for`` is truthy."""
    with Chromium(chromium, window_size=window_size, timeout=timeout) as page:
        page.open(url, wait_for=wait_for)
        return page.dom()


def screenshot(
    url: str,
    path: str | os.PathLike[str],
    *,
    wait_for: str | None = None,
    window_size: tuple[int, int] = (1400, 900),
    timeout: float = 60.0,
    chromium: str | None = None,
) -> Path:
    """Save a PNG of ``url`` (viewport ``window_size``) once ``wait_for`` is truthy."""
    with Chromium(chromium, window_size=window_size, timeout=timeout) as page:
        page.open(url, wait_for=wait_for)
        return page.screenshot(path)


# ---------------------------------------------------------------------------------------------------
# PNG decoding (enough for Chromium screenshots: 8-bit RGB or RGBA, not interlaced)


@dataclass(frozen=True)
class Png:
    """A decoded image: ``rows[y]`` holds ``width * channels`` bytes."""

    width: int
    height: int
    channels: int
    rows: list[bytes]

    def pixel(self, x: int, y: int) -> tuple[int, int, int]:
        """(r, g, b) at (x, y)."""
        i = x * self.channels
        r, g, b = self.rows[y][i : i + 3]
        return r, g, b


def read_png(path: str | os.PathLike[str]) -> Png:
    """Decode an 8-bit RGB/RGBA, non-interlaced PNG."""
    data = Path(path).read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path}: not a PNG")
    pos, idat, header = 8, bytearray(), None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    if header is None:
        raise ValueError(f"{path}: no IHDR chunk")
    width, height, depth, colour, _compression, _filter, interlace = header
    channels = {2: 3, 6: 4}.get(colour)
    if depth != 8 or channels is None or interlace:
        raise ValueError(f"{path}: unsupported PNG (depth {depth}, colour type {colour}, interlace {interlace})")
    raw = zlib.decompress(bytes(idat))
    stride = width * channels
    rows: list[bytes] = []
    prev = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        if kind == 1:
            for i in range(channels, stride):
                line[i] = (line[i] + line[i - channels]) & 0xFF
        elif kind == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, prev))
        elif kind == 3:
            for i in range(stride):
                left = line[i - channels] if i >= channels else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                a = line[i - channels] if i >= channels else 0
                b = prev[i]
                c = prev[i - channels] if i >= channels else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        elif kind != 0:
            raise ValueError(f"{path}: bad filter type {kind} in row {y}")
        rows.append(bytes(line))
        prev = line
    return Png(width, height, channels, rows)


def count_pixels(
    png: Png,
    match: Callable[[int, int, int], bool],
    box: tuple[int, int, int, int] | None = None,
) -> int:
    """How many pixels inside ``box`` (left, top, right, bottom; exclusive) satisfy ``match(r, g, b)``."""
    left, top, right, bottom = box or (0, 0, png.width, png.height)
    c = png.channels
    total = 0
    for y in range(max(0, top), min(png.height, bottom)):
        row = png.rows[y]
        for x in range(max(0, left), min(png.width, right)):
            i = x * c
            if match(row[i], row[i + 1], row[i + 2]):
                total += 1
    return total


def near(colour: str, tolerance: int = 16) -> Callable[[int, int, int], bool]:
    """A pixel matcher for a ``#rrggbb`` colour, each channel within ``tolerance``."""
    r0, g0, b0 = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return lambda r, g, b: abs(r - r0) <= tolerance and abs(g - g0) <= tolerance and abs(b - b0) <= tolerance
