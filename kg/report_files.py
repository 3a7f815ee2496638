"""The report (`kg report`) served by `kg serve` beside the query editor.

Written on the first request, to build/serve/report/, with its links to the query editor of
the server that serves it, and reused while the build and the editor's address stay the same.
Files are served from that folder only: a path that leaves it, or names no file, is a 404.
"""

from __future__ import annotations

import mimetypes
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from kg.project import Project

REPORT_DIR = ("serve", "report")  # under build/
_TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
          ".js": "text/javascript; charset=utf-8", ".csv": "text/csv; charset=utf-8"}  # fmt: skip


class ReportFiles:
    def __init__(self, project: Project, editor: str):
        self.project = project
        self.editor = editor
        self.folder = project.build_dir.joinpath(*REPORT_DIR)
        self._lock = threading.Lock()
        self._ready = False

    def _key(self) -> str:
        from kg import __version__
        from kg.build import ensure_built

        built = ensure_built(self.project)
        return (
            f"kg {__version__}\nbuild {built.manifest['dataset']['sha256']}\neditor {self.editor}\n"
        )

    def ensure(self) -> Path:
        """The report's folder, written first if missing or made from another build."""
        with self._lock:
            if not self._ready:
                from kg.site import write_report

                key = self._key()
                stamp = self.folder / ".kg-serve-key"
                current = stamp.read_text(encoding="utf-8") if stamp.is_file() else ""
                if current != key:
                    write_report(self.project, self.folder, editor=self.editor)
                    stamp.write_text(key, encoding="utf-8")
                self._ready = True
        return self.folder

    def respond(self, handler: BaseHTTPRequestHandler, head_only: bool) -> None:
        """Answer a GET or HEAD with a file of the report (`/` is its index page)."""
        path = urllib.parse.unquote(urllib.parse.urlsplit(handler.path).path)
        folder = self.ensure().resolve()
        rel = path.lstrip("/") or "index.html"
        target = (folder / rel).resolve()
        if rel.endswith("/"):
            target = target / "index.html"
        if not target.is_relative_to(folder) or not target.is_file() or target.name.startswith("."):
            handler.send_error(404, "not in the report")
            return
        body = target.read_bytes()
        kind = _TYPES.get(target.suffix) or mimetypes.guess_type(target.name)[0]
        handler.send_response(200)
        handler.send_header("Content-Type", kind or "application/octet-stream")
        handler.send_header("Content-Length", str(len(body)))
        handler.send_header("Cache-Control", "no-cache")
        handler.end_headers()
        if not head_only:
            handler.wfile.write(body)
