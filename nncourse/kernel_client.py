"""The kernel client nbgrader and the tests run notebooks with.

jupyter_client's `Session.send` writes to an asyncio socket through a blocking shadow of it,
so pyzmq's asyncio layer never learns that a send happened. Sending makes libzmq process
the socket's pending commands, which can consume the edge-triggered wake-up of a message
that has just arrived. A coroutine waiting on that socket then sleeps until its own timeout
although the message is there.

nbclient meets exactly that: while it waits for a cell's `execute_reply` on the shell
socket, its stand-in for an Output widget sends the widget's new state on the same socket.
Every `interact` does this (its plot is drawn into an Output widget), and on a busy machine
the cell then "hangs" until the cell timeout, with the reply already received. The channels
below hand the frames to the asyncio socket itself, which re-checks for waiting readers
after every send.

The course's own widget cells cannot meet this: they use nnlib.widgets, which draws into an
image widget and involves no Output widget, so no client sends anything while they run,
whichever client runs them. This client is for the `interact` cells a student writes.

Where it is used: a normal install of the course (`pip install .`, the Binder and grader
images) puts the config files of nncourse/jupyter-config/ into `{sys.prefix}/etc/jupyter`
(data files in pyproject.toml). They set `AsyncKernelManager.client_class` for `jupyter
nbconvert`, `jupyter execute` and every `nbgrader` command, the Validate button included,
which read their config files from there (`jupyter --paths`) whatever folder they run in.
`AsyncKernelManager.client_class` rather than `NotebookClient.kernel_manager_class`,
because nbgrader passes its own `kernel_manager_class`; only the asynchronous manager, so
blocking clients (jupyter console) are untouched; one file per application rather than
one `jupyter_config.json`, so the notebook server itself never imports this module.
setuptools installs no data files in an editable install (`pip install -e .`); there, name
the folder in `JUPYTER_CONFIG_PATH` (as tests/test_headless.py does), and
`nbgrader_config.py` covers nbgrader run from the course root.

Code that makes a `NotebookClient` itself reads no config file: it passes
`config=client_config()`, as the course's tests and benchmarks do. Reaching it anyway
would take a patch of jupyter_client run at interpreter start-up (a `.pth` file), which
pyproject data files cannot install into site-packages and which would change every
asynchronous client of the environment; a config file changes only the applications that
ask for it, and keeps working when jupyter_client fixes the defect.
"""

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.channels import AsyncZMQSocketChannel
from traitlets import Type
from traitlets.config import Config

#: The dotted name for `AsyncKernelManager.client_class`.
KERNEL_CLIENT = "nncourse.kernel_client.KernelClient"


class _AsyncioSend:
    """What `Session.send` needs of a stream, sending through the asyncio socket."""

    def __init__(self, socket):
        self._socket = socket

    def send_multipart(self, frames, copy=True, track=False):
        return self._socket.send_multipart(frames, copy=copy, track=track)


class SendAwareChannel(AsyncZMQSocketChannel):
    """An async channel whose sends cannot strand a reply another coroutine awaits."""

    def send(self, msg):
        # Session.send still builds, signs and serialises the message as usual.
        self.session.send(_AsyncioSend(self.socket), msg)


class KernelClient(AsyncKernelClient):
    """jupyter_client's async client with send-aware shell, stdin and control channels."""

    shell_channel_class = Type(SendAwareChannel)
    stdin_channel_class = Type(SendAwareChannel)
    control_channel_class = Type(SendAwareChannel)


def client_config() -> Config:
    """Configuration that makes an nbclient `NotebookClient` use `KernelClient`."""
    return Config({"AsyncKernelManager": {"client_class": KERNEL_CLIENT}})
