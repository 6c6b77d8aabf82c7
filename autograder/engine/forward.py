"""Forwarding the clean test kernel's requests to the student kernel (see :mod:`autograder.engine.split`).

A stand-in in the test kernel asks through ``input()``; :meth:`StudentRequests._serve_requests`
reads those requests from the test kernel's stdin channel, runs
``cnncourse.grading.agent.serve`` in the student kernel under the test cell's time limit
(interrupting it, and killing it when it ignores the interrupt), and replies with the answer it
printed between two markers, or with a failure line. The grader never decodes an answer: it
checks that it is base64 and passes it on; the test kernel rebuilds it as safe data.
"""

from __future__ import annotations

import contextlib
import re
import time

from jupyter_client.manager import AsyncKernelManager
from nbclient.util import ensure_async
from nbformat.v4 import new_output

__all__ = ["StudentRequests", "StudentKernelLost"]

_PROMPT = "cnncourse-request:"  # cnncourse.grading.remote.PROMPT (the grader does not import torch)
_FAILURE = "!"
_BEGIN, _END = "\x02cnncourse-answer:", "\x03"  # cnncourse.grading.agent.BEGIN / END
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_MAX_TEXT = 48 << 20  # characters of one answer (32 MiB of data in base64, plus printed text)


class StudentKernelLost(RuntimeError):
    """The student kernel died or was killed while answering a test cell's request."""


class StudentRequests:
    """Mixin: the requests half of :class:`autograder.engine.split.CleanTests`."""

    # ------------------------------------------------------------------ requests
    async def _serve_requests(self) -> None:
        while True:
            try:
                msg = await ensure_async(self._tkc.stdin_channel.get_msg(timeout=0.2))
            except Exception:  # queue.Empty: nothing asked yet
                continue
            if msg.get("msg_type") != "input_request":
                continue
            prompt = str(msg.get("content", {}).get("prompt", ""))
            reply = await self._answer(prompt[len(_PROMPT):]) if prompt.startswith(_PROMPT) else ""
            self._tkc.input(reply)

    async def _answer(self, text: str) -> str:
        if not _BASE64.fullmatch(text) or len(text) > _MAX_TEXT:
            return _FAILURE + "the grader refused a malformed request"
        if self._student_lost:
            return _FAILURE + "the student's kernel was lost earlier in this test"
        code = f'__import__("cnncourse.grading.agent", fromlist=["serve"]).serve("{text}")'
        printed, problem = await self._ask_student(code)
        start = printed.rfind(_BEGIN)
        end = printed.find(_END, start + 1) if start >= 0 else -1
        answer = printed[start + len(_BEGIN):end] if start >= 0 and end >= 0 else ""
        rest = printed[:start] + printed[end + 1:] if start >= 0 and end >= 0 else printed
        self._show_student_output(rest)
        if problem:
            return _FAILURE + problem
        if not answer or not _BASE64.fullmatch(answer):
            return _FAILURE + "the student's kernel gave no readable answer"
        return answer

    def _show_student_output(self, text: str) -> None:
        """What the student's code printed while a test used it, in the test cell (capped in bytes
        of JSON with everything else of that cell: :class:`autograder.engine.caps.OutputBudget`)."""
        text = text.strip("\n")
        if not text or self._test_cell is None:
            return
        kept = self._budget.take(self._test_index, new_output("stream", name="stdout", text=text + "\n"))
        if kept is not None:
            self._test_cell.outputs.append(kept)

    async def _ask_student(self, code: str) -> tuple[str, str]:
        """Run ``code`` in the student kernel until the test's deadline: (printed text, problem or "")."""
        km, kc = self._student
        # silent: no execute_input message and no pre/post_run_cell callbacks of the student's
        msg_id = kc.execute(code, silent=True, store_history=False, allow_stdin=False, stop_on_error=False)
        chunks: list[str] = []
        size = 0
        while True:
            left = self._test_deadline - time.monotonic()
            if left <= 0:
                return "".join(chunks), await self._stop_student(km, kc, msg_id)
            try:
                msg = await ensure_async(kc.iopub_channel.get_msg(timeout=min(left, 1.0)))
            except Exception:  # queue.Empty: is the kernel still there?
                if not await ensure_async(km.is_alive()):
                    self._student_lost = True
                    return "".join(chunks), ("the student's kernel died (os._exit, a crash or the memory "
                                             "limit) while a test used it")
                continue
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = msg.get("msg_type"), msg.get("content", {})
            if kind == "stream" and size < _MAX_TEXT:
                chunks.append(str(content.get("text", "")))
                size += len(chunks[-1])
            elif kind == "status" and content.get("execution_state") == "idle":
                return "".join(chunks), ""

    async def _stop_student(self, km: AsyncKernelManager, kc, msg_id: str) -> str:  # noqa: ANN001
        """Interrupt the student kernel; kill it when it ignores that for ``kill_grace`` seconds."""
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
                return f"the student's code ran past the test's time limit ({self.timeout} s); interrupted"
        self._student_lost = True
        with contextlib.suppress(Exception):
            await ensure_async(km.shutdown_kernel(now=True))
        return (f"the student's code ran past the test's time limit ({self.timeout} s) and ignored the "
                f"interrupt; its kernel was killed")

