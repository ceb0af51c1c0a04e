"""A class on JupyterHub: temporary accounts for visitors, and single-user servers that only show pages.

Used by ``deploy/jupyterhub_config.py``; needs the ``hub`` extra (``pip install 'scaling-explorer[hub]'``).

* :class:`TemporaryAuthenticator` gives a visitor a fresh name (``visitor-3f9a2c``) when they press
  Start on ``/hub/login`` (a POST; ``deploy/templates/login.html``). A plain GET of the page creates
  nothing, so readiness probes, link previewers and monitors make no accounts. At most
  ``max_accounts`` temporary accounts live at once; past it the visitor is told the class is full.
  The browser keeps the name in the hub's cookie until they sign out.
  (``jupyterhub-tmpauthenticator`` 1.0.0 answers 500 on JupyterHub 6, see docs/deployment.md.)
* :class:`ClassroomAuthorizer` makes a single-user server show the page only: the page's kernel is
  reached over its websocket, but the contents API (the notebooks, their solutions) and nbconvert
  cannot be read, nothing can be written, no kernel or terminal started through the API and the
  server not shut down (JupyterLab is not loaded at all there: ``deploy/singleuser``). With
  ``KERNEL_MESSAGE_TYPES`` (widget traffic only, no ``execute_request``), a visitor cannot run code
  of their own on the machine, which matters because the local spawner runs every visitor's server
  as the hub's own user.
* :class:`ClassroomContentsManager` shows a visitor's server only the public pages of the notebooks
  directory (:data:`PUBLIC_PAGES`): Voila's ``/voila/render/<notebook>`` and ``/voila/tree`` read
  notebooks through the contents manager, not the contents API, so the authorizer alone let a
  visitor run and see any teaching notebook's outputs (solutions included).
"""

from __future__ import annotations

import secrets

from jupyter_server.auth import Authorizer
from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
from jupyterhub import orm
from jupyterhub.auth import Authenticator
from tornado.web import HTTPError
from traitlets import Int, List, Unicode, default

TEMPORARY_PREFIX = "visitor-"
# Resources a visitor may not even read: the notebooks (and their solutions) as files or converted.
UNREADABLE = frozenset({"contents", "nbconvert"})

# The notebooks a visitor may open, relative to the servers' notebook directory: the explorer (its
# lab and lecture views are the same notebook, opened with a query).
PUBLIC_PAGES = ("explorer.ipynb",)

# What the page needs from its kernel: widget comms, kernel info, shutdown. Voila's own server allows
# exactly these (voila.app.Voila.init_settings); execute_request is not among them.
KERNEL_MESSAGE_TYPES = ["comm_open", "comm_close", "comm_msg", "comm_info_request", "kernel_info_request",
                        "shutdown_request"]


class TemporaryAuthenticator(Authenticator):
    """Sign a visitor in under a new random name when they press Start (a POST of the login form)."""

    auto_login = False  # a GET of /hub/login shows the Start button; only its POST calls authenticate
    max_accounts = Int(40, config=True, help="Most temporary accounts alive at once (the idle culler "
                       "removes them); past it a visitor gets 'the class is full' (503).")

    @default("allow_all")
    def _allow_all_default(self):  # JupyterHub 5+ lets no one in unless told otherwise
        return True

    def live_accounts(self, db) -> int:
        """Temporary accounts in the hub's database now."""
        return db.query(orm.User).filter(orm.User.name.startswith(TEMPORARY_PREFIX)).count()

    async def authenticate(self, handler, data=None):
        """Admit a fresh visitor name, unless the class already has ``max_accounts`` live ones (503)."""
        live = self.live_accounts(handler.db)
        if live >= self.max_accounts:
            self.log.warning("The class is full: %d temporary accounts (max_accounts %d)", live, self.max_accounts)
            raise HTTPError(503, "%d temporary accounts alive", live,
                            reason="The class is full, try again in a minute")
        return {"name": f"{TEMPORARY_PREFIX}{secrets.token_hex(3)}"}


class ClassroomAuthorizer(Authorizer):
    """Allow the page's kernel websocket and reads other than the notebooks.

    Every write, API kernel start, terminal and shutdown is refused.
    """

    def is_authorized(self, handler, user, action, resource):
        """Allow ``read`` and the kernel websocket, nothing else."""
        if action == "read":
            return resource not in UNREADABLE
        # "execute" on kernels is the websocket the page talks to its kernel over; which messages
        # pass is limited separately by MappingKernelManager.allowed_message_types.
        return action == "execute" and resource == "kernels"


class ClassroomContentsManager(AsyncLargeFileManager):
    """The notebooks directory as a visitor's server shows it: the public pages and nothing else.

    Every other path is "not found" (404) to every route that reads files through the contents
    manager: Voila's render and tree, and the contents API (which the authorizer closes as well).
    """

    public_pages = List(Unicode(), default_value=list(PUBLIC_PAGES), config=True,
                        help="Notebooks, relative to the root directory, that a visitor may open.")

    async def get(self, path, content=True, type=None, format=None, **kwargs):
        """A public page, or the root directory listing only the public pages; else 404."""
        path = path.strip("/")
        if path and path not in self.public_pages:
            raise HTTPError(404, f"No such file or directory: {path}")
        if path:
            return await super().get(path, content=content, type=type, format=format, **kwargs)
        model = await super().get(path, content=False, type=type, format=format, **kwargs)
        if content:
            listed = []
            for page in self.public_pages:  # (a loop: super() does not work in a comprehension)
                if await super().file_exists(page):
                    listed.append(await super().get(page, content=False))
            model.update(content=listed, format="json")
        return model

    async def file_exists(self, path=""):
        """Whether ``path`` is a public page that exists."""
        return path.strip("/") in self.public_pages and await super().file_exists(path)

    async def dir_exists(self, path):
        """Only the root directory is there."""
        return not path.strip("/") and await super().dir_exists(path)
