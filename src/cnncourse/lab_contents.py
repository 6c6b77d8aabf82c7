"""What ``make lab`` serves: the chapters (Sections 7.1-8.6) and the student's assignments, nothing else.

The Lab's root is the repository itself (so nbgrader's Validate button, which refuses paths that
resolve outside the root, works on ``assignments/``), and :class:`StudentContents` keeps
everything but ``notebooks/`` and ``assignments/`` out of it: the root lists those two folders
only, and any other path (``course/`` with its solutions and hidden tests, ``src/``, ``../``) is
"not found" for every contents request, including ``/files/`` downloads, which are served through
the same checks instead of straight from the disk. It hides, it does not protect: the solutions are
in the student's own clone, and any code run in the Lab (a kernel, a terminal) can read them.
"""

from __future__ import annotations

import posixpath

from jupyter_server.files.handlers import FilesHandler
from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
from tornado.web import HTTPError
from traitlets import default

__all__ = ["StudentContents", "SHOWN"]

SHOWN = ("notebooks", "assignments")


def shown(path: str, folders: tuple[str, ...] = SHOWN) -> bool:
    """Whether the API path ``path`` is the root or lies in one of ``folders`` (after ``..`` is resolved)."""
    normal = posixpath.normpath("/" + path.strip("/")).lstrip("/")
    return normal in ("", ".") or normal.split("/")[0] in folders


class StudentContents(AsyncLargeFileManager):
    """The file browser, editor and ``/files/`` of ``make lab``: only :data:`SHOWN` of the root."""

    @default("files_handler_class")
    def _files_handler_class_default(self) -> type:
        return FilesHandler  # through get(): the checks below, not a static file server of the root

    @default("files_handler_params")
    def _files_handler_params_default(self) -> dict:
        return {"path": self.root_dir}  # StaticFileHandler, its base, requires one; its get() ignores it

    def _get_os_path(self, path: str) -> str:
        if not shown(path):
            raise HTTPError(404, f"{path} is not in the course's Lab: it keeps your files in notebooks/ and "
                                 "assignments/ (open one of them, then create or save there)")
        return super()._get_os_path(path)

    def exists(self, path: str) -> bool:
        return shown(path) and super().exists(path)

    async def file_exists(self, path: str = "") -> bool:
        return shown(path) and await super().file_exists(path)

    async def dir_exists(self, path: str) -> bool:
        return shown(path) and await super().dir_exists(path)

    async def _dir_model(self, path: str, content: bool = True) -> dict:
        if path.strip("/"):
            return await super()._dir_model(path, content)
        model = await super()._dir_model(path, content=False)  # the root: its shown folders only
        if content:
            model["format"] = "json"
            model["content"] = [await self.get(name, content=False) for name in SHOWN
                                if await self.dir_exists(name)]
        return model
