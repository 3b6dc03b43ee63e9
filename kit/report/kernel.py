"""Kernel selection: always run report notebooks on the Python that runs the kit.

Report notebooks carry the kernelspec ``python3``. Which program that name means depends on
the machine (a global ``python3`` kernelspec may point at another environment, a conda env may
have none). The runner therefore ignores installed kernelspecs and starts
``sys.executable -m ipykernel_launcher``: the notebook sees exactly the kit (and its
dependencies) that started it, in a venv and in a conda env alike, and there is no
``NoSuchKernel``. Nothing is written to disk.
"""

from __future__ import annotations

import sys

from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from traitlets import default

__all__ = ["ThisPythonKernelManager", "ThisPythonKernelSpecManager", "this_python_spec"]


def this_python_spec() -> KernelSpec:
    """A kernelspec that starts an IPython kernel on ``sys.executable``."""
    return KernelSpec(
        # log_level=ERROR: ipykernel 7 warns on every start that loopback TCP is unencrypted
        argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}", "--IPKernelApp.log_level=ERROR"],
        display_name=f"Python 3 ({sys.prefix})",
        language="python",
        metadata={"debugger": False},
        env={"PYDEVD_DISABLE_FILE_VALIDATION": "1"},
    )


class ThisPythonKernelSpecManager(KernelSpecManager):
    """Answers every kernel name with :func:`this_python_spec` (report notebooks are Python)."""

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:  # noqa: ARG002 - every name maps here
        """The spec for ``kernel_name``: always this interpreter."""
        return this_python_spec()

    def find_kernel_specs(self) -> dict[str, str]:
        """Only ``python3`` is offered."""
        return {"python3": sys.prefix}


class ThisPythonKernelManager(AsyncKernelManager):
    """An async kernel manager whose kernels run on ``sys.executable``."""

    @default("kernel_spec_manager")
    def _default_kernel_spec_manager(self) -> KernelSpecManager:
        return ThisPythonKernelSpecManager()

    async def _async_interrupt_kernel(self) -> None:
        """Interrupt the kernel, except as the first step of shutting it down.

        jupyter_client sends SIGINT before every shutdown request; an idle ipykernel then logs
        "KeyboardInterrupt caught in kernel" on the kit's stderr, in the middle of a command's
        progress lines. The shutdown request goes over the control channel, which a busy kernel
        still answers, and a kernel that does not exit in time is killed, so nothing needs it.
        """
        if self.shutting_down:
            return
        await super()._async_interrupt_kernel()
