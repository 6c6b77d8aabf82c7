"""Output caps: every byte a kernel puts into an autograded notebook counts (issue 17).

A size is the bytes of JSON (UTF-8, as nbformat writes it) of a whole output: a stream's text,
the data *and* metadata of a display, a display update or a result, an error's name, value and
traceback. :class:`OutputBudget` holds one notebook's budget: ``per_cell`` bytes for each cell,
``per_notebook`` for all of them together. :func:`fit` shrinks one output into the room left.

Outputs that decide a grade are never dropped, only shrunk to a short stub when no room is left:
nbgrader scores a test cell 0 when it holds an error or anything on stderr, and reads partial
credit from a result's ``text/plain``. A stdout stream or a display that does not fit is dropped;
the cell then says how many bytes were dropped (:meth:`OutputBudget.note`). :class:`CappedOutputs`
puts nbclient's output hooks of :class:`autograder.engine.execute.SandboxedExecute` on that budget.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from nbformat import NotebookNode
from nbformat.v4 import new_output, output_from_msg

__all__ = ["json_size", "clip", "fit", "placeholder", "OutputBudget", "CappedOutputs", "STUB_CHARACTERS",
           "MAX_TEXT"]

STUB_CHARACTERS = 200  # of an error's name and value, or a result's text, kept even without room
MAX_TEXT = 2000  # characters of student text the grader's own messages and logs quote


def json_size(value: Any) -> int:
    """Bytes of ``value`` as JSON, the way nbformat writes a notebook, plus what HTML escaping adds.

    The feedback page shows the same text escaped (``&`` becomes ``&amp;``, ``'`` at most ``&#x27;``),
    so a capped notebook also makes a capped page: a megabyte of ``&`` is charged five megabytes.
    """
    text = json.dumps(value, ensure_ascii=False)
    escaped = 4 * text.count("&") + 3 * (text.count("<") + text.count(">")) + 5 * text.count("'")
    return len(text.encode("utf-8")) + escaped + 4 * text.count('\\"')  # JSON's \" (2 bytes): 6 in HTML


def _chars(value: Any) -> int:
    """A cheap lower bound of :func:`json_size`: the characters of every string and key (an output
    nested too deep to count counts as too large)."""
    try:
        return _count(value)
    except RecursionError:
        return 1 << 62


def _count(value: Any) -> int:
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict):
        return sum(len(str(key)) + _count(item) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return sum(_count(item) for item in value)
    return 1


def clip(text: Any, budget: int) -> str:
    """The longest prefix of ``str(text)`` whose JSON string body takes at most ``budget`` bytes."""
    text = str(text)
    if budget <= 0:
        return ""
    head = text[:budget]  # every character takes at least one byte
    while head:
        size = json_size(head) - 2  # the quotes
        if size <= budget:
            return head
        head = head[: min(len(head) - 1, len(head) * budget // size)]
    return ""


def _error(out: NotebookNode, room: int) -> NotebookNode:
    """An error (kept as an error whatever the room): name and value clipped, the traceback's last
    lines that fit (the message is at its end)."""
    ename = clip(out.get("ename", ""), min(STUB_CHARACTERS, max(40, room // 8)))
    evalue = clip(out.get("evalue", ""), max(STUB_CHARACTERS, room // 4))
    left = room - json_size({"output_type": "error", "ename": ename, "evalue": evalue, "traceback": []})
    lines: list[str] = []
    for line in reversed([str(line) for line in out.get("traceback", []) or []]):
        budget = left - 2  # the separator
        if json_size(line) > budget:
            line = clip(line, budget - 8)  # the quotes and " [...]"
            if not line:
                break
            line += " [...]"
        lines.insert(0, line)
        left -= json_size(line) + 2
    if not lines:
        lines = [f"{ename}: {clip(evalue, STUB_CHARACTERS)}"]
    return new_output("error", ename=ename, evalue=evalue, traceback=lines)


def fit(out: NotebookNode, room: int) -> NotebookNode | None:
    """``out`` within ``room`` bytes of JSON, shrunk as needed; None when it is droppable and nothing
    of it fits (a stdout stream, a display). Errors, stderr and results always keep a stub."""
    kind = out.get("output_type")
    if _chars(out) <= room and json_size(out) <= room:
        return out
    if kind == "error":
        return _error(out, room)
    if kind == "stream":
        empty = json_size({"output_type": "stream", "name": out.get("name", ""), "text": ""})
        text = clip(out.get("text", ""), room - empty)
        if not text and out.get("name") != "stderr":
            return None
        return new_output("stream", name=out.get("name", "stdout"), text=text or "[stderr over the limit]\n")
    plain = out.get("data", {}).get("text/plain", "")
    if kind == "execute_result":  # nbgrader reads partial credit from it: keep it, text only
        text = clip(plain if isinstance(plain, str) else "".join(map(str, plain)),
                    max(STUB_CHARACTERS, room - 150))
        return new_output("execute_result", data={"text/plain": text}, metadata={},
                          execution_count=out.get("execution_count"))
    if kind == "display_data" and isinstance(plain, str) and room > 150:
        shrunk = new_output("display_data", data={"text/plain": clip(plain, room - 150)}, metadata={})
        return shrunk if shrunk.data["text/plain"] else None
    return None


def placeholder(size: int) -> NotebookNode:
    """What stands in for a display (or display update) dropped for its size."""
    return new_output("display_data", data={"text/plain": f"[a display of {size} bytes was dropped: "
                                            "beyond the grader's output limit]"}, metadata={})


@dataclass
class OutputBudget:
    """One notebook's output budget in bytes of JSON, and what each cell has used and lost."""

    per_cell: int
    per_notebook: int
    used: dict[int, int] = field(default_factory=dict)
    dropped: dict[int, int] = field(default_factory=dict)
    total: int = 0

    def room(self, index: int) -> int:
        return max(0, min(self.per_cell - self.used.get(index, 0), self.per_notebook - self.total))

    def _charge(self, index: int, size: int, original: int) -> None:
        self.used[index] = self.used.get(index, 0) + size
        self.total += size
        if original > size:
            self.dropped[index] = self.dropped.get(index, 0) + original - size

    def take(self, index: int, out: NotebookNode) -> NotebookNode | None:
        """``out`` fitted into cell ``index``'s room (None: dropped); its bytes are charged."""
        room = self.room(index)
        lower = _chars(out)
        original = json_size(out) if lower <= 4 * self.per_cell else lower
        kept = out if original <= room else fit(out, room)
        self._charge(index, json_size(kept) if kept is not None else 0, original)
        return kept

    def release(self, index: int, outs: list[NotebookNode]) -> None:
        """Outputs of cell ``index`` were cleared or replaced: their bytes are free again."""
        size = min(self.used.get(index, 0), sum(json_size(out) for out in outs))
        self.used[index] = self.used.get(index, 0) - size
        self.total -= size

    def refit(self, index: int, outs: list[NotebookNode]) -> list[NotebookNode]:
        """Cell ``index``'s outputs again within its budget (after others added outputs directly)."""
        self.total -= self.used.pop(index, 0)
        kept = [self.take(index, out) for out in outs]
        return [out for out in kept if out is not None]

    def update(self, index: int, old: NotebookNode, new: NotebookNode) -> NotebookNode:
        """A display update of an output of cell ``index``: the new content if it fits, else a stub."""
        self.release(index, [old])
        fitted = self.take(index, new)
        if fitted is None:
            fitted = placeholder(_chars(new))
            self._charge(index, json_size(fitted), 0)
        return fitted

    def note(self, index: int) -> NotebookNode | None:
        """A stdout line saying what cell ``index`` lost, once (None when it lost nothing)."""
        dropped = self.dropped.pop(index, 0)
        if not dropped:
            return None
        return new_output("stream", name="stdout", text=(
            f"\n[output truncated: {dropped} bytes beyond the grader's limit of {self.per_cell} bytes "
            f"per cell ({self.per_notebook} per notebook) were dropped]\n"))

    def scratch(self) -> OutputBudget:
        """A budget for outputs that are thrown away (replayed cells): only the per-cell cap."""
        return OutputBudget(self.per_cell, self.per_cell)



class CappedOutputs:
    """Mixin for SandboxedExecute: nbclient's output hooks, every output charged to ``self._budget``."""

    _budget: OutputBudget

    def output(self, outs, msg, display_id, cell_index):  # noqa: ANN001, ANN201
        cleared = list(outs) if self.clear_before_next_output else None
        out = super().output(outs, msg, display_id, cell_index)
        if cleared is not None and not self.clear_before_next_output:  # nbclient cleared the cell first
            self._budget.release(cell_index, cleared)
        if out is None or not outs or outs[-1] is not out:
            return out
        kept = self._budget.take(cell_index, out)
        if kept is None:
            outs.pop()
            if display_id:  # no later update may land on the output that takes its index
                self._display_id_map[display_id][cell_index].pop()
        else:
            outs[-1] = kept
        return kept

    def clear_output(self, outs, msg, cell_index) -> None:  # noqa: ANN001
        if not msg["content"].get("wait"):
            self._budget.release(cell_index, outs)
        super().clear_output(outs, msg, cell_index)

    def _update_display_id(self, display_id: str, msg: dict) -> None:
        """nbclient's display update, the new content charged to the cell it lands in."""
        if display_id not in self._display_id_map:
            return
        if msg["header"]["msg_type"] == "update_display_data":
            msg["header"]["msg_type"] = "display_data"
        try:
            new = output_from_msg(msg)
        except ValueError:
            return
        cells = self.nb.cells
        for cell_index, output_indices in self._display_id_map[display_id].items():
            outputs = cells[cell_index].outputs if -len(cells) <= cell_index < len(cells) else []
            for at in output_indices:
                if 0 <= at < len(outputs):
                    old = outputs[at]
                    updated = NotebookNode({**old, "data": new.get("data", {}),
                                            "metadata": new.get("metadata", {})})
                    outputs[at] = self._budget.update(cell_index, old, updated)

    def handle_comm_msg(self, outs, msg, cell_index) -> None:  # noqa: ANN001
        """Widgets' messages are ignored while grading: none of their state or output is kept."""

    def on_cell_executed(self, **kwargs) -> None:
        super().on_cell_executed(**kwargs)  # nbgrader may add the reply's error here, uncapped
        cell, index = kwargs["cell"], kwargs["cell_index"]
        cell.outputs = self._budget.refit(index, cell.outputs)
        note = self._budget.note(index)
        if note is not None:
            cell.outputs.append(note)
