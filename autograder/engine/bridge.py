"""The request bridge: the test kernel's requests answered by the student kernel.

A stand-in in the test kernel asks through ``input()``; :meth:`RequestBridge.serve` reads those
requests from the test kernel's stdin channel, runs the student side's ``serve`` in the student
kernel (:func:`cnncourse.grading_kernels.protocol.serve_call`) under the test cell's time limit
(interrupting it, and killing it when it ignores the interrupt), and replies with the answer it
printed between the protocol's markers, or with a failure line. The grader never decodes an
answer: it checks that it is base64 and passes it on; the test kernel rebuilds it as safe data.

One bridge serves one notebook. :meth:`RequestBridge.open` hands it the student kernel and the
test cell's deadline before a test cell runs, :meth:`RequestBridge.close` takes them back;
between test cells a request gets a failure line.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from jupyter_client.manager import AsyncKernelManager
from nbclient.util import ensure_async

from cnncourse.grading_kernels import protocol

__all__ = ["RequestBridge", "StudentKernelLost"]


class StudentKernelLost(RuntimeError):
    """The student kernel died or was killed while answering a test cell's request."""


@dataclass
class _Session:
    """What one test cell lends the bridge."""

    km: AsyncKernelManager  # the student kernel
    kc: object  # and its client
    deadline: float  # time.monotonic() when the student's time for this test cell is up
    limit: int  # the test cell's time limit in seconds, as failure messages quote it
    show: Callable[[str], None]  # where what the student's code prints during the test goes


class RequestBridge:
    """Serves a test kernel's requests by asking the student kernel, under a deadline.

    Args:
        kill_grace: seconds an interrupted student kernel may take before it is killed.
    """

    def __init__(self, kill_grace: float) -> None:
        self.kill_grace = kill_grace
        self.student_lost = False  # the student kernel died or was killed during the open test cell
        self._session: _Session | None = None

    def open(self, km: AsyncKernelManager, kc: object, deadline: float, limit: int,
             show: Callable[[str], None]) -> None:
        """A test cell starts: requests go to the student kernel ``km``/``kc`` until ``deadline``."""
        self._session = _Session(km, kc, deadline, limit, show)
        self.student_lost = False

    def close(self) -> bool:
        """The test cell is over. Returns whether the student kernel was lost during it."""
        self._session = None
        lost, self.student_lost = self.student_lost, False
        return lost

    async def serve(self, test_client) -> None:  # noqa: ANN001 (a jupyter_client kernel client)
        """Answer every request ``test_client``'s kernel sends, until cancelled."""
        while True:
            try:
                msg = await ensure_async(test_client.stdin_channel.get_msg(timeout=0.2))
            except Exception:  # queue.Empty: nothing asked yet
                continue
            if msg.get("msg_type") != "input_request":
                continue
            text = protocol.request_text(str(msg.get("content", {}).get("prompt", "")))
            test_client.input(await self.answer(text) if text is not None else "")

    async def answer(self, text: str) -> str:
        """The reply to the request ``text``: the student kernel's answer, or a failure line."""
        if not protocol.well_formed(text):
            return protocol.failure("the grader refused a malformed request")
        session = self._session
        if session is None:
            return protocol.failure("no test cell is running, so there is no student kernel to ask")
        if self.student_lost:
            return protocol.failure("the student's kernel was lost earlier in this test")
        printed, problem = await self._ask_student(session, protocol.serve_call(text))
        answer, rest = protocol.unframe(printed)
        text = rest.strip("\n")
        if text:
            session.show(text)
        if problem:
            return protocol.failure(problem)
        if not answer or not protocol.well_formed(answer):
            return protocol.failure("the student's kernel gave no readable answer")
        return answer

    async def _ask_student(self, session: _Session, code: str) -> tuple[str, str]:
        """Run ``code`` in the student kernel until the test's deadline: (printed text, problem or "")."""
        km, kc = session.km, session.kc
        # silent: no execute_input message and no pre/post_run_cell callbacks of the student's
        msg_id = kc.execute(code, silent=True, store_history=False, allow_stdin=False, stop_on_error=False)
        chunks: list[str] = []
        size = 0
        while True:
            left = session.deadline - time.monotonic()
            if left <= 0:
                return "".join(chunks), await self._stop_student(session, msg_id)
            try:
                msg = await ensure_async(kc.iopub_channel.get_msg(timeout=min(left, 1.0)))
            except Exception:  # queue.Empty: is the kernel still there?
                if not await ensure_async(km.is_alive()):
                    self.student_lost = True
                    return "".join(chunks), ("the student's kernel died (os._exit, a crash or the memory "
                                             "limit) while a test used it")
                continue
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = msg.get("msg_type"), msg.get("content", {})
            if kind == "stream" and size < protocol.MAX_TEXT:
                chunks.append(str(content.get("text", "")))
                size += len(chunks[-1])
            elif kind == "status" and content.get("execution_state") == "idle":
                return "".join(chunks), ""

    async def _stop_student(self, session: _Session, msg_id: str) -> str:
        """Interrupt the student kernel; kill it when it ignores that for ``kill_grace`` seconds."""
        km, kc = session.km, session.kc
        await ensure_async(km.interrupt_kernel())
        deadline = time.monotonic() + self.kill_grace
        while time.monotonic() < deadline:
            try:
                wait = max(0.1, deadline - time.monotonic())
                msg = await ensure_async(kc.iopub_channel.get_msg(timeout=wait))
            except Exception:  # queue.Empty
                continue
            mine = msg.get("parent_header", {}).get("msg_id") == msg_id  # not the interrupt request's
            if mine and msg.get("msg_type") == "status" and msg["content"].get("execution_state") == "idle":
                return f"the student's code ran past the test's time limit ({session.limit} s); interrupted"
        self.student_lost = True
        with contextlib.suppress(Exception):
            await ensure_async(km.shutdown_kernel(now=True))
        return (f"the student's code ran past the test's time limit ({session.limit} s) and ignored the "
                f"interrupt; its kernel was killed")
