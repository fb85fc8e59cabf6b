"""Sphinx extension: keeps a duplicated inline script out of the book's pages.

Loaded through ``sphinx: local_extensions`` in _config.yml. The problem comes
from the Jupyter Book 1 stack (Sphinx 7.4 with sphinx-thebe), not from the
book; ``tests/test_browser.py`` fails if it comes back.

Inline scripts that extensions register after the HTML builder has started
(sphinx-thebe's ``const THEBE_JS_URL = ...``, sphinx-togglebutton's selector)
are written into every page twice: Sphinx 7.4 keeps them once with the file
name ``None`` and once more with ``''`` and does not see that they are equal.
The second ``const`` throws "SyntaxError: Identifier 'THEBE_JS_URL' has
already been declared". The page's script list is de-duplicated here.

(The theme's "Got invalid theme mode: ." console error on a first visit is
avoided in _config.yml instead, with ``html_context: {default_mode: light}``.)
"""

from __future__ import annotations

from typing import Any


def _script_key(script: Any) -> tuple:
    filename = getattr(script, "filename", script) or ""
    priority = getattr(script, "priority", 500)
    attributes = getattr(script, "attributes", {}) or {}
    return (str(filename), priority, tuple(sorted(attributes.items())))


def dedupe_scripts(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not isinstance(scripts, list):
        return
    seen: set[tuple] = set()
    unique = []
    for script in scripts:
        key = _script_key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


def setup(app) -> dict[str, Any]:
    # After myst-nb (priority 500) has added the page's widget scripts.
    app.connect("html-page-context", dedupe_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
