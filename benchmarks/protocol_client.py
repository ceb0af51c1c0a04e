"""A viewer of the explorer page without a browser: the HTTP and kernel-websocket traffic Chromium sends.

Used by ``bench_load.py --client protocol``. What a viewer does, as recorded from Chromium 1280x800
opening the page (Playwright's websocket frames) and stepping the budget slider:

1. ``GET /`` (the page; Voila hands it a kernel, preheated or new), then the assets the HTML names
   and the widget extensions' ``remoteEntry`` files (``--no-assets`` skips them).
2. The kernel websocket ``/api/kernels/<id>/channels`` with Jupyter's ``v1.kernel.websocket.jupyter.org``
   framing (as JupyterLab's services do): ``kernel_info_request``; a ``jupyter.widget.control`` comm with
   ``request_states`` (every widget's state in one ``update_states`` message), then that comm closed.
3. What the widget views send once rendered: each ipympl canvas ``refresh``, ``send_image_mode``,
   ``initialized``; the budget slider's first read-back; the page bridge's width and window height.
   From then on the canvas protocol: the kernel's ``draw`` event is answered with ``draw`` (unless an image
   is awaited, as ipympl's frontend does), a ``resize`` with ``refresh``.
4. Ready: the figure's first image at the page's size (the PNG's width equals the canvas ``_size`` after
   the bridge's width arrived), and the widget state holds the numbers table. Later frames may be
   smaller (a diff frame is cut to the changed pixels).
5. A budget step is the slider's ``update`` (0.05 dex, as ArrowRight / ArrowLeft); it is done when both
   the numbers table's HTML and a new figure image have arrived.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import math
import re
import time
import uuid
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlparse

from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import websocket_connect

from scaling_explorer.app.explorer import FIRST_FIGURE_PX

CONTROL_VERSION, WIDGET_VERSION = "1.0.0", "2.1.0"  # ipywidgets 8's control and widget protocols
PROTOCOL = "v1.kernel.websocket.jupyter.org"
STEP_DEX = 0.05  # the budget slider's step (app/controls.py)
BRIDGE_WIDTH, VIEWPORT_HEIGHT = FIRST_FIGURE_PX[0] + 4, 800  # what the page bridge reports in Chromium at 1280x800


# ---------------------------------------------------------------------------------------- framing
def pack(channel: str, msg_type: str, content: dict, session: str, metadata: dict | None = None) -> bytes:
    """One client message in the v1 websocket framing (jupyter_server's ``serialize_msg_to_ws_v1``)."""
    header = {"msg_id": uuid.uuid4().hex, "msg_type": msg_type, "username": "", "session": session,
              "date": datetime.datetime.now(datetime.timezone.utc).isoformat(), "version": "5.3"}
    parts = [json.dumps(x).encode() for x in (header, {}, metadata or {}, content)]
    chan = channel.encode()
    offsets = [8 * (1 + 1 + len(parts) + 1)]
    offsets.append(offsets[-1] + len(chan))
    for p in parts:
        offsets.append(offsets[-1] + len(p))
    head = len(offsets).to_bytes(8, "little") + b"".join(o.to_bytes(8, "little") for o in offsets)
    return head + chan + b"".join(parts)


def unpack(frame: bytes) -> tuple[str, dict, dict, list[bytes]]:
    """(channel, header, content, buffers) of one server frame in the v1 framing."""
    n = int.from_bytes(frame[:8], "little")
    offsets = [int.from_bytes(frame[8 * (i + 1):8 * (i + 2)], "little") for i in range(n)]
    if offsets[-1] != len(frame):
        offsets.append(len(frame))
    channel = frame[offsets[0]:offsets[1]].decode()
    parts = [frame[offsets[i]:offsets[i + 1]] for i in range(1, len(offsets) - 1)]
    return channel, json.loads(parts[0]), json.loads(parts[3]), parts[4:]


def png_width(png: bytes) -> int:
    """Width of a PNG from its IHDR chunk."""
    return int.from_bytes(png[16:20], "big") if png[:8] == b"\x89PNG\r\n\x1a\n" else 0


class KernelClock:
    """A budget step on the kernel's own clock, from the messages' header dates: from the kernel's
    ``busy`` for the slider's update to the later of the figure's image and the numbers table.

    Any client that sees the kernel's frames can report it (the protocol client, Chromium through
    CDP), and neither the transport nor the client's own delays are in it.
    """

    def __init__(self):
        self.steps_ms: list[float] = []
        self.busy = self.image = self.numbers = None
        self.on = False

    def arm(self) -> None:
        self.busy = self.image = self.numbers = None
        self.on = True

    def see(self, header: dict, content: dict, buffers: list) -> None:
        """Note one frame from the kernel."""
        if not self.on:
            return
        kind, date = header.get("msg_type"), header.get("date")
        if kind == "status" and content.get("execution_state") == "busy" and self.busy is None:
            self.busy = date
        elif kind == "comm_msg" and self.busy is not None:
            data = content.get("data", {})
            image = data.get("method") == "custom" and buffers and "binary" in str(data.get("content"))
            if self.image is None and image:
                self.image = date
            elif self.numbers is None and "se-numbers" in str(data.get("state", {}).get("value", "")):
                self.numbers = date

    def done(self) -> float | None:
        """The armed step's milliseconds on the kernel's clock (also kept in ``steps_ms``), or None."""
        self.on = False
        if None in (self.busy, self.image, self.numbers):
            return None
        at = datetime.datetime.fromisoformat
        ms = (max(at(self.image), at(self.numbers)) - at(self.busy)).total_seconds() * 1e3
        self.steps_ms.append(ms)
        return ms


class _Assets(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script" and a.get("src"):
            self.urls.append(a["src"])
        elif tag == "link" and a.get("href") and "stylesheet" in (a.get("rel") or ""):
            self.urls.append(a["href"])


def page_config(html: str) -> dict:
    m = re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', html, re.S)
    if not m:
        raise RuntimeError("no jupyter-config-data in the page (no kernel?)")
    return json.loads(m.group(1))


# ---------------------------------------------------------------------------------------- a viewer
@dataclass
class Viewer:
    """One page view over the protocol. ``ready_s`` once :meth:`arrive` returns."""

    url: str
    assets: bool = True
    width: int = BRIDGE_WIDTH
    viewport_height: int = VIEWPORT_HEIGHT
    session: str = field(default_factory=lambda: uuid.uuid4().hex)
    ready_s: float = float("nan")
    kernel_id: str = ""

    def __post_init__(self):
        self.ws = None
        self.reader: asyncio.Task | None = None
        self.states: dict = {}
        self.canvases: list[str] = []
        self.main = ""  # the explorer's figure (the first canvas, the one the bridge resizes)
        self.slider = ""
        self.bridge = ""
        self.waiting: dict[str, bool] = {}
        self.size: dict[str, float] = {}
        self.budget = 0.0
        self.exponent = 0.0
        self._futures: dict[str, asyncio.Future] = {}
        self._image = asyncio.Event()
        self._numbers = asyncio.Event()
        self._bridge_done = False
        self.images = 0
        self.closed = False
        self.clock = KernelClock()

    # -- transport ----------------------------------------------------------------------------
    def send(self, msg_type: str, content: dict, metadata: dict | None = None) -> None:
        self.ws.write_message(pack("shell", msg_type, content, self.session, metadata), binary=True)

    def custom(self, comm: str, kind: str, **extra) -> None:
        self.send("comm_msg", {"comm_id": comm, "data": {"method": "custom", "content": {"type": kind, **extra}}},
                  {"version": WIDGET_VERSION})

    def update(self, comm: str, state: dict) -> None:
        self.send("comm_msg", {"comm_id": comm, "data": {"method": "update", "state": state, "buffer_paths": []}},
                  {"version": WIDGET_VERSION})

    def _expect(self, key: str) -> asyncio.Future:
        self._futures[key] = asyncio.get_running_loop().create_future()
        return self._futures[key]

    def _resolve(self, key: str, value) -> None:
        f = self._futures.pop(key, None)
        if f is not None and not f.done():
            f.set_result(value)

    async def _read(self) -> None:
        error: BaseException = ConnectionError("kernel websocket closed")
        try:
            while True:
                frame = await self.ws.read_message()
                if frame is None:
                    break
                if isinstance(frame, str):  # not the v1 framing
                    continue
                channel, header, content, buffers = unpack(frame)
                self.clock.see(header, content, buffers)
                kind = header.get("msg_type")
                if kind == "kernel_info_reply":
                    self._resolve("kernel_info", content)
                elif kind == "comm_msg":
                    self._on_comm(content.get("comm_id", ""), content.get("data", {}), buffers)
        except Exception as exc:  # a bug here must fail the viewer, not hang it
            error = exc
        self.closed = True
        for f in self._futures.values():
            if not f.done():
                f.set_exception(error)

    def _on_comm(self, comm: str, data: dict, buffers: list[bytes]) -> None:
        method = data.get("method")
        if method == "update_states":
            self._resolve("states", data.get("states", {}))
        elif method == "custom" and comm in self.waiting:
            msg = json.loads(data["content"]["data"])
            kind = msg.get("type")
            if kind == "draw" and not self.waiting[comm]:  # ipympl's send_draw_message
                self.waiting[comm] = True
                self.custom(comm, "draw")
            elif kind == "resize":
                self.custom(comm, "refresh")
            elif kind == "binary":
                self.waiting[comm] = False
                if comm == self.main:
                    self.images += 1
                    # Arriving, the figure's first image at the page's size; then any frame (a step's
                    # diff frame is cut to the changed pixels, app/canvas.py).
                    if not math.isnan(self.ready_s) or (
                            self._bridge_done and png_width(buffers[0]) == round(self.size.get(comm, -1))):
                        self._image.set()
        elif method == "update":
            state = data.get("state", {})
            if comm in self.waiting and "_size" in state:
                self.size[comm] = state["_size"][0]
            if "se-numbers" in str(state.get("value", "")):
                self._numbers.set()
        elif method == "echo_update" and comm == self.bridge:
            self._bridge_done = True

    # -- the visit ----------------------------------------------------------------------------
    async def arrive(self, http: AsyncHTTPClient, timeout: float) -> float:
        """Open the page until it is interactive; returns seconds (also in ``ready_s``)."""
        t0 = time.perf_counter()
        response = await http.fetch(HTTPRequest(self.url, request_timeout=timeout, connect_timeout=timeout))
        html = response.body.decode()
        config = page_config(html)
        self.kernel_id = config["kernelId"]
        if self.assets:
            parser = _Assets()
            parser.feed(html)
            urls = [urljoin(self.url, u) for u in parser.urls]
            base = urljoin(self.url, config.get("fullLabextensionsUrl", "voila/labextensions") + "/")
            urls += [urljoin(base, f"{e['name']}/{e['load']}") for e in config.get("federated_extensions", [])]
            host = urlparse(self.url).netloc
            await asyncio.gather(*(http.fetch(u, request_timeout=timeout, raise_error=False)
                                   for u in urls if urlparse(u).netloc == host))
        ws_url = urljoin(self.url.replace("http", "ws", 1),
                         f"api/kernels/{self.kernel_id}/channels?session_id={self.session}")
        self.ws = await websocket_connect(HTTPRequest(ws_url, request_timeout=timeout, connect_timeout=timeout),
                                          subprotocols=[PROTOCOL], max_message_size=1 << 30)
        self.reader = asyncio.create_task(self._read())
        info = self._expect("kernel_info")
        self.send("kernel_info_request", {})
        await asyncio.wait_for(info, timeout)
        control = uuid.uuid4().hex
        states = self._expect("states")
        self.send("comm_open", {"comm_id": control, "target_name": "jupyter.widget.control", "data": {}},
                  {"version": CONTROL_VERSION})
        self.send("comm_msg", {"comm_id": control, "data": {"method": "request_states"}}, {"version": CONTROL_VERSION})
        self.states = await asyncio.wait_for(states, timeout)
        self.send("comm_close", {"comm_id": control, "data": {}})
        self._find_models()
        for comm in self.canvases:
            for kind in ("refresh", "send_image_mode", "initialized"):
                self.custom(comm, kind)
        # noUiSlider reads its value back once rendered (a float round trip through log10)
        self.update(self.slider, {"value": 10 ** self.exponent})
        self.update(self.bridge, {"width": self.width, "viewport_height": self.viewport_height})
        await asyncio.wait_for(self._image.wait(), timeout)
        if not any("se-numbers" in str(s["state"].get("value", "")) for s in self.states.values()):
            raise RuntimeError("the widget state holds no numbers table")
        self.ready_s = time.perf_counter() - t0
        return self.ready_s

    def _find_models(self) -> None:
        for comm, s in self.states.items():
            state = s["state"]
            if s["model_name"] == "MPLCanvasModel":
                self.canvases.append(comm)
                self.waiting[comm] = False
            elif s["model_name"] == "FloatLogSliderModel" and state.get("description") == "C (FLOPs)":
                self.slider, self.budget = comm, float(state["value"])
                # noUiSlider works on the exponent, on the slider's grid (ipywidgets' FloatLogSlider view)
                low, step = float(state["min"]), float(state["step"])
                self.exponent = low + round((math.log10(self.budget) - low) / step) * step
            elif "viewport_height" in state and "width" in state:
                self.bridge = comm
        if not (self.canvases and self.slider and self.bridge):
            raise RuntimeError("the page's figure, budget slider or bridge is missing from the widget state")
        # The explorer's own figure is built first; the fit panel's canvas later (app/explorer.py).
        self.main = self.canvases[0]

    async def step(self, up: bool, timeout: float) -> float | None:
        """One budget step; seconds until the table and the figure both changed, or None on timeout."""
        self._image.clear()
        self._numbers.clear()
        self.exponent += STEP_DEX if up else -STEP_DEX
        self.budget = 10 ** self.exponent
        self.clock.arm()
        t0 = time.perf_counter()
        self.update(self.slider, {"value": self.budget})
        try:
            await asyncio.wait_for(asyncio.gather(self._image.wait(), self._numbers.wait()), timeout)
        except TimeoutError:
            self.clock.done()
            return None
        took = time.perf_counter() - t0
        self.clock.done()
        return took

    async def close(self) -> None:
        if self.ws is not None:
            self.ws.close()
        if self.reader is not None:
            self.reader.cancel()
            try:
                await self.reader
            except (asyncio.CancelledError, Exception):
                pass
