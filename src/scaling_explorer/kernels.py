"""Voila's kernel manager for a class: a cap on kernels, and a pool that never makes a visitor wait blind.

Named in ``etc/jupyter/voila.json`` (``VoilaConfiguration.multi_kernel_manager_class``); needs Voila.

* **A cap** (``ClassKernelManager.max_kernels``, voila#617: Voila has none). A visitor who would need a
  new kernel while ``max_kernels`` kernels are alive (the pool's included) gets the template's
  ``503.html``, "the class is full, try again in a minute" (it retries by itself), instead of a kernel
  that would slow every page on the box. The pool's own refills are never refused.
* **No blind wait on the pool.** Voila takes a visitor's kernel from the front of the pool even when
  that entry is still starting, or still waiting out ``fill_delay`` (120 s here) before it starts; the
  visitor's browser then gets no byte for minutes (the blank pages of issue 19). Here a visitor gets a
  pool kernel only when one is ready, else a kernel of their own, started while the page shows
  "starting your page" (the template streams that state first).
"""

from __future__ import annotations

import asyncio

from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from tornado.web import HTTPError
from traitlets import Int

PREHEAT_ENV = "VOILA_PREHEAT"  # voila.utils.ENV_VARIABLE.VOILA_PREHEAT: "True" for the pool's kernels
RETRY_AFTER_S = 60


class ClassFull(HTTPError):
    """The server holds ``max_kernels`` kernels: rendered by the template's ``503.html``."""

    def __init__(self, alive: int, limit: int):
        super().__init__(503, "%d kernels alive, the limit is %d", alive, limit, reason="The class is full")


def _ready(task: asyncio.Future) -> bool:
    return task.done() and not task.cancelled() and task.exception() is None


class ClassKernelManager(AsyncMappingKernelManager):
    """``AsyncMappingKernelManager`` with ``max_kernels``; with a preheated pool, ready kernels go first."""

    max_kernels = Int(0, config=True, help="Most kernels alive at once, the pool's included; 0: no limit. "
                      "A visitor past it gets the class-is-full page (503).")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # Voila's preheating subclass (voila.voila_kernel_manager) is built on top of this class, so
        # its two pool methods are wrapped on the instance rather than overridden.
        # (Its __init__ runs after this one, so look at the class, not at the pool.)
        if hasattr(type(self), "get_rendered_notebook"):
            self._take_from_pool = self.get_rendered_notebook
            self.get_rendered_notebook = self._get_ready_rendered_notebook
            self.get_pool_size = self._ready_pool_size

    def _ready_pool_size(self, notebook_name: str) -> int:
        """Pool kernels ready to be handed out now (Voila's handler uses the pool only when > 0)."""
        return sum(_ready(t) for t in self._pools.get(notebook_name, []))

    async def _get_ready_rendered_notebook(self, notebook_name: str, *args, **kwargs):
        pool = self._pools.get(notebook_name, [])
        pool.sort(key=lambda t: not _ready(t))  # stable: the oldest ready kernel first
        return await self._take_from_pool(notebook_name, *args, **kwargs)

    async def start_kernel(self, *args, **kwargs):
        """Start a kernel; a visitor's (not the pool's) is refused past ``max_kernels`` with :class:`ClassFull`."""
        env = kwargs.get("env") or {}
        if self.max_kernels > 0 and env.get(PREHEAT_ENV) != "True":
            alive = len(self.list_kernel_ids())
            if alive >= self.max_kernels:
                self.log.warning("The class is full: %d kernels alive (max_kernels %d)", alive, self.max_kernels)
                raise ClassFull(alive, self.max_kernels)
        return await super().start_kernel(*args, **kwargs)
