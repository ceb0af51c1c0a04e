"""A class on JupyterHub: temporary accounts for visitors, and single-user servers that only show pages.

Used by ``deploy/jupyterhub_config.py``; needs the ``hub`` extra (``pip install 'scaling-explorer[hub]'``).

* :class:`TemporaryAuthenticator` gives every visitor a fresh name (``visitor-3f9a2c``) on their first
  visit to ``/hub/login``; the browser keeps it in the hub's cookie until they sign out.
  (``jupyterhub-tmpauthenticator`` 1.0.0 answers 500 on JupyterHub 6, see the README.)
* :class:`ClassroomAuthorizer` makes a single-user server read-only: pages and files can be read and
  the page's kernel reached over its websocket, but nothing can be written, no kernel or terminal
  started through the API and the server not shut down. With ``KERNEL_MESSAGE_TYPES`` (widget traffic
  only, no ``execute_request``), a visitor cannot run code of their own on the machine, which matters
  because the local spawner runs every visitor's server as the hub's own user.
"""

from __future__ import annotations

import secrets

from jupyter_server.auth import Authorizer
from jupyterhub.auth import Authenticator
from traitlets import default

# What the page needs from its kernel: widget comms, kernel info, shutdown. Voila's own server allows
# exactly these (voila.app.Voila.init_settings); execute_request is not among them.
KERNEL_MESSAGE_TYPES = ["comm_open", "comm_close", "comm_msg", "comm_info_request", "kernel_info_request",
                        "shutdown_request"]


class TemporaryAuthenticator(Authenticator):
    """Sign every new visitor in under a new random name, without a form (``auto_login``)."""

    auto_login = True

    @default("allow_all")
    def _allow_all_default(self):  # JupyterHub 5+ lets no one in unless told otherwise
        return True

    async def authenticate(self, handler, data=None):
        """Admit anyone as a fresh visitor name."""
        return {"name": f"visitor-{secrets.token_hex(3)}"}


class ClassroomAuthorizer(Authorizer):
    """Allow reading and the kernel websocket; refuse every write, API kernel start, terminal and shutdown."""

    def is_authorized(self, handler, user, action, resource):
        """Allow ``read`` and the kernel websocket, nothing else."""
        if action == "read":
            return True
        # "execute" on kernels is the websocket the page talks to its kernel over; which messages
        # pass is limited separately by MappingKernelManager.allowed_message_types.
        return action == "execute" and resource == "kernels"
