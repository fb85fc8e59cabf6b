"""Untrusted files: the book loads model files only from its own temporary folders.

Every code cell of every notebook in book/ is parsed with ``ast`` (IPython magics
and shell lines are blanked first). The tests find every call that loads a model
file (``load_model``, ``load_weights``, ``TFSMLayer``, ``tf.saved_model.load``)
or writes one (``save``, ``save_weights``, ``export``, ``ModelCheckpoint``,
``BackupAndRestore``) and check:

- every path handed to them is built from a temporary folder the notebook made
  itself (``tempfile.TemporaryDirectory()`` / ``tempfile.mkdtemp()``, through
  variables, ``Path(...)``, ``/``, ``os.path.join`` with plain file names): not a
  URL, not an absolute or relative path elsewhere, not a downloaded file;
- ``safe_mode`` is never passed as anything but a literal, and never hidden in
  ``**kwargs``; safe mode is never switched off globally
  (``keras.config.enable_unsafe_deserialization``), and no loader without a safe
  mode (pickle, joblib, ``np.load(allow_pickle=True)``, ...) is used;
- ``safe_mode=False`` appears at most once in the whole book, in the one chapter
  that teaches ``safe_mode``, on a file that notebook wrote itself and first showed
  being refused in safe mode, right after a markdown cell that explains the danger.

The path analysis is deliberately strict: a variable counts as a temporary path
only if *every* assignment to it in the notebook does. The analyzer is checked on
small snippets of its own first, so that a pass means something.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BOOK = REPO / "book"

LOAD_NAMES = {"load_model", "load_weights", "TFSMLayer", "load_model_from_hdf5"}
WRITE_METHODS = {"save", "save_weights", "export"}
WRITE_CALLS = {"ModelCheckpoint", "BackupAndRestore"}
TEMP_DIR_OBJECTS = {"TemporaryDirectory", "tempfile.TemporaryDirectory"}
TEMP_DIR_PATHS = {"mkdtemp", "tempfile.mkdtemp"}
PATH_WRAPPERS = {"Path", "pathlib.Path", "str", "os.fspath", "os.path.abspath", "os.path.realpath",
                 "os.path.normpath"}
NO_SAFE_MODE_LOADERS = {"pickle.load", "pickle.loads", "joblib.load", "dill.load", "dill.loads",
                        "cloudpickle.load", "cloudpickle.loads", "torch.load", "shelve.open",
                        "marshal.load", "marshal.loads"}
DANGER_WORDS = re.compile(r"arbitrary code|untrusted|malicious|malware|runs? code|execut",
                          re.IGNORECASE)


# ---- reading the notebooks --------------------------------------------------------------------

def parse_cell(source: str) -> ast.Module:
    """Parse a code cell; lines that are IPython magics or shell escapes become `pass`."""
    lines = []
    for line in source.splitlines():
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")):
            lines.append(line[: len(line) - len(stripped)] + "pass")
        else:
            lines.append(line)
    return ast.parse("\n".join(lines))


@dataclass
class Notebook:
    name: str
    cells: list[tuple[int, str, str]]               # (index, cell_type, source)
    trees: dict[int, ast.Module] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_source(cls, name: str, code_cells: list[str], markdown: dict[int, str] | None = None):
        """A notebook made of code cells (index = position), for the analyzer's own tests."""
        cells = [(i, "code", src) for i, src in enumerate(code_cells)]
        for i, text in (markdown or {}).items():
            cells.append((i, "markdown", text))
        nb = cls(name, sorted(cells))
        nb._parse()
        return nb

    @classmethod
    def read(cls, path: Path):
        data = json.loads(path.read_text(encoding="utf-8"))
        cells = []
        for i, cell in enumerate(data["cells"]):
            src = cell["source"]
            cells.append((i, cell["cell_type"], "".join(src) if isinstance(src, list) else src))
        nb = cls(str(path.relative_to(REPO)), cells)
        nb._parse()
        return nb

    def _parse(self):
        for i, kind, src in self.cells:
            if kind != "code":
                continue
            try:
                self.trees[i] = parse_cell(src)
            except SyntaxError as error:
                self.errors.append(f"{self.name} cell {i}: {error}")

    def markdown_before(self, index: int) -> str:
        previous = [src for i, kind, src in self.cells if kind == "markdown" and i < index]
        return previous[-1] if previous else ""

    def source(self, index: int) -> str:
        return next(src for i, _, src in self.cells if i == index)


def notebooks() -> list[Notebook]:
    paths = [p for p in sorted(BOOK.rglob("*.ipynb"))
             if ".ipynb_checkpoints" not in p.parts and "_build" not in p.parts]
    return [Notebook.read(p) for p in paths]


def dotted(node: ast.AST) -> str:
    """`keras.models.load_model` for the expression naming a function, '' if not a dotted name."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return ".".join(reversed(parts)) if parts else ""


def last_name(func: ast.AST) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def is_load_call(call: ast.Call) -> bool:
    return last_name(call.func) in LOAD_NAMES or dotted(call.func).endswith("saved_model.load")


def is_write_call(call: ast.Call) -> bool:
    name = last_name(call.func)
    return name in WRITE_CALLS or (isinstance(call.func, ast.Attribute) and name in WRITE_METHODS)


def path_argument(call: ast.Call) -> ast.AST | None:
    for kw in call.keywords:
        if kw.arg in {"filepath", "path", "export_archive", "backup_dir", "export_dir"}:
            return kw.value
    return call.args[0] if call.args else None


@dataclass
class Call:
    notebook: Notebook
    cell: int
    node: ast.Call

    def where(self) -> str:
        return f"{self.notebook.name} cell {self.cell}: {ast.unparse(self.node)}"

    def keyword(self, name: str) -> ast.AST | None:
        return next((kw.value for kw in self.node.keywords if kw.arg == name), None)


def calls(nb: Notebook, predicate) -> list[Call]:
    found = []
    for index, tree in nb.trees.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and predicate(node):
                found.append(Call(nb, index, node))
    return sorted(found, key=lambda c: (c.cell, c.node.lineno, c.node.col_offset))


# ---- where a path comes from ------------------------------------------------------------------

class Provenance:
    """Decides whether an expression is a path inside a temporary folder the notebook made.

    Kinds: "tempdir" (a TemporaryDirectory object, whose `.name` is its path) and "path"
    (a path inside a folder made by TemporaryDirectory or mkdtemp). A name has a kind only
    if every assignment to it anywhere in the notebook has that kind.
    """

    UNKNOWN = None

    def __init__(self, nb: Notebook):
        self.bindings: dict[str, list] = {}
        for tree in nb.trees.values():
            for node in ast.walk(tree):
                if isinstance(node, ast.Assign):
                    for target in node.targets:
                        self._bind(target, node.value)
                elif isinstance(node, (ast.AnnAssign, ast.NamedExpr)) and node.value is not None:
                    self._bind(node.target, node.value)
                elif isinstance(node, ast.AugAssign):
                    self._bind(node.target, None)
                elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
                    self._bind(node.target, None)
                elif isinstance(node, (ast.With, ast.AsyncWith)):
                    for item in node.items:
                        if item.optional_vars is not None:
                            self._bind(item.optional_vars, ("with", item.context_expr))
                elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                    for arg in ast.walk(node.args):
                        if isinstance(arg, ast.arg):
                            self.bindings.setdefault(arg.arg, []).append(None)
                elif isinstance(node, (ast.Import, ast.ImportFrom)):
                    for alias in node.names:
                        name = (alias.asname or alias.name).split(".")[0]
                        self.bindings.setdefault(name, []).append(None)

    def _bind(self, target, value):
        if isinstance(target, ast.Name):
            self.bindings.setdefault(target.id, []).append(value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self._bind(element, None)
        elif isinstance(target, ast.Starred):
            self._bind(target.value, None)

    @staticmethod
    def safe_component(node: ast.AST) -> bool:
        """A plain relative file name: no URL, no absolute path, no '..'."""
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        elif isinstance(node, ast.JoinedStr) and all(
                isinstance(v, ast.Constant) or (isinstance(v, ast.FormattedValue)
                                                and isinstance(v.value, (ast.Name, ast.Constant)))
                for v in node.values):
            text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
        else:
            return False
        plain = re.sub(r"\{[^{}]*\}", "", text)  # ModelCheckpoint's {epoch:02d}-style placeholders
        return (bool(text) and "://" not in text and not text.startswith(("/", "\\", "~"))
                and ".." not in re.split(r"[/\\]", text) and ":" not in plain)

    def kind(self, node: ast.AST, seen: frozenset = frozenset()):
        if isinstance(node, ast.Name):
            if node.id in seen or node.id not in self.bindings:
                return self.UNKNOWN
            kinds = {self._binding_kind(value, seen | {node.id})
                     for value in self.bindings[node.id]}
            return kinds.pop() if len(kinds) == 1 else self.UNKNOWN
        if isinstance(node, ast.Call):
            name = dotted(node.func)
            if name in TEMP_DIR_OBJECTS:
                return "tempdir"
            if name in TEMP_DIR_PATHS:
                return "path"
            if name in PATH_WRAPPERS and node.args and not node.keywords:
                if (self.kind(node.args[0], seen) == "path"
                        and all(self.safe_component(a) for a in node.args[1:])):
                    return "path"
                return self.UNKNOWN
            if name == "os.path.join" and node.args:
                if (self.kind(node.args[0], seen) == "path"
                        and all(self.safe_component(a) for a in node.args[1:])):
                    return "path"
                return self.UNKNOWN
            if isinstance(node.func, ast.Attribute):
                method, owner = node.func.attr, node.func.value
                if method == "joinpath" and all(self.safe_component(a) for a in node.args):
                    return "path" if self.kind(owner, seen) == "path" else self.UNKNOWN
                if method in {"resolve", "absolute", "with_suffix"}:
                    return "path" if self.kind(owner, seen) == "path" else self.UNKNOWN
            return self.UNKNOWN
        if isinstance(node, ast.Attribute) and node.attr == "name":
            return "path" if self.kind(node.value, seen) == "tempdir" else self.UNKNOWN
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            if self.kind(node.left, seen) == "path" and self.safe_component(node.right):
                return "path"
            return self.UNKNOWN
        if isinstance(node, ast.JoinedStr) and node.values:
            head, rest = node.values[0], node.values[1:]
            if (isinstance(head, ast.FormattedValue) and head.format_spec is None
                    and self.kind(head.value, seen) == "path" and rest
                    and isinstance(rest[0], ast.Constant) and str(rest[0].value).startswith("/")
                    and self.safe_component(ast.JoinedStr(values=[ast.Constant(rest[0].value[1:]),
                                                                  *rest[1:]]))):
                return "path"
        return self.UNKNOWN

    def _binding_kind(self, value, seen):
        if value is None:
            return self.UNKNOWN
        if isinstance(value, tuple) and value[0] == "with":
            context = value[1]
            # `with TemporaryDirectory() as tmp`: tmp is the folder's path
            if isinstance(context, ast.Call) and dotted(context.func) in TEMP_DIR_OBJECTS:
                return "path"
            return self.UNKNOWN
        return self.kind(value, seen)

    def is_temp_path(self, node: ast.AST | None) -> bool:
        return node is not None and self.kind(node) == "path"


def path_problems(nb: Notebook, found: list[Call]) -> list[str]:
    provenance = Provenance(nb)
    problems = []
    for call in found:
        arg = path_argument(call.node)
        if not provenance.is_temp_path(arg):
            problems.append(call.where())
    return problems


def safe_mode_problems(found: list[Call]) -> list[str]:
    problems = []
    for call in found:
        if any(kw.arg is None for kw in call.node.keywords):
            problems.append(f"**kwargs may hide safe_mode: {call.where()}")
        if last_name(call.node.func) in {"load_model", "load_model_from_hdf5"} and len(call.node.args) > 1:
            problems.append(f"positional arguments after the path: {call.where()}")
        value = call.keyword("safe_mode")
        if value is not None and not (isinstance(value, ast.Constant)
                                      and isinstance(value.value, bool)):
            problems.append(f"safe_mode is not a literal True/False: {call.where()}")
    return problems


def unsafe_switches(nb: Notebook) -> list[str]:
    problems = []
    for index, tree in nb.trees.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr == "enable_unsafe_deserialization":
                problems.append(f"{nb.name} cell {index}: {ast.unparse(node)}")
            elif isinstance(node, ast.Name) and node.id == "enable_unsafe_deserialization":
                problems.append(f"{nb.name} cell {index}: {node.id}")
            elif isinstance(node, ast.alias) and "enable_unsafe_deserialization" in node.name:
                problems.append(f"{nb.name} cell {index}: import {node.name}")
            elif isinstance(node, ast.Call):
                name = dotted(node.func)
                allow_pickle = next((kw.value for kw in node.keywords if kw.arg == "allow_pickle"),
                                    None)
                if name in NO_SAFE_MODE_LOADERS or (
                        name.endswith(("np.load", "numpy.load")) and allow_pickle is not None
                        and not (isinstance(allow_pickle, ast.Constant)
                                 and allow_pickle.value is False)):
                    problems.append(f"{nb.name} cell {index}: {ast.unparse(node)}")
    return problems


def unsafe_loads(nb: Notebook) -> list[Call]:
    return [c for c in calls(nb, is_load_call)
            if isinstance(c.keyword("safe_mode"), ast.Constant)
            and c.keyword("safe_mode").value is False]


def teaches_safe_mode(nb: Notebook) -> bool:
    return any(kind == "markdown" and re.search(r"^#+ .*safe_mode", src, re.MULTILINE)
               for _, kind, src in nb.cells)


def unsafe_load_problems(nb: Notebook, call: Call) -> list[str]:
    """What a cell that turns safe mode off must satisfy."""
    problems = []
    if not teaches_safe_mode(nb):
        problems.append(f"{nb.name} has no section (heading) on safe_mode")
    comments = [line for line in nb.source(call.cell).splitlines() if line.lstrip().startswith("#")]
    if not (DANGER_WORDS.search(nb.markdown_before(call.cell))
            or any(DANGER_WORDS.search(c) for c in comments)):
        problems.append(f"no warning about running stored code right before: {call.where()}")
    path = path_argument(call.node)
    if not isinstance(path, ast.Name):
        problems.append(f"the file is not a variable the notebook wrote: {call.where()}")
        return problems
    earlier = lambda c: c.cell < call.cell  # noqa: E731
    writes = [c for c in calls(nb, is_write_call) if earlier(c)
              and isinstance(path_argument(c.node), ast.Name) and path_argument(c.node).id == path.id]
    if not writes:
        problems.append(f"the notebook did not write {path.id} itself before: {call.where()}")
    refused = [c for c in calls(nb, is_load_call) if earlier(c) and c.keyword("safe_mode") is None
               and isinstance(path_argument(c.node), ast.Name)
               and path_argument(c.node).id == path.id]
    in_try = False
    for c in refused:
        for node in ast.walk(nb.trees[c.cell]):
            if isinstance(node, ast.Try) and any(n is c.node for b in node.body for n in ast.walk(b)):
                in_try = True
    if not in_try:
        problems.append(f"{path.id} is not first shown refused in safe mode (a load in try): "
                        f"{call.where()}")
    return problems


# ---- the analyzer on snippets of its own ------------------------------------------------------

GOOD = [
    "import tempfile\nfrom pathlib import Path\nimport keras\n"
    "workdir = tempfile.TemporaryDirectory(prefix='x_')\nfolder = Path(workdir.name)\n"
    "f = folder / 'm.keras'\nmodel.save(f)\nkeras.models.load_model(f)",
    "import os, tempfile\nd = tempfile.TemporaryDirectory()\np = os.path.join(d.name, 'b.keras')\n"
    "keras.callbacks.ModelCheckpoint(p)\nkeras.models.load_model(p)",
    "with tempfile.TemporaryDirectory() as tmp:\n    path = Path(tmp) / 'w.weights.h5'\n"
    "    m.save_weights(path)\n    m.load_weights(path)",
    "d = tempfile.mkdtemp()\nkeras.layers.TFSMLayer(f'{d}/export', call_endpoint='serve')",
]
BAD = {
    "url": "keras.models.load_model('https://example.com/m.keras')",
    "absolute": "keras.models.load_model('/home/me/m.keras')",
    "relative": "m.load_weights('m.weights.h5')",
    "downloaded": "p = keras.utils.get_file('m.keras', 'https://x/m.keras')\nkeras.models.load_model(p)",
    "name of a path": "folder = Path(tempfile.mkdtemp())\nkeras.models.load_model(folder.name)",
    "escapes the folder": "d = tempfile.mkdtemp()\nkeras.models.load_model(Path(d) / '../m.keras')",
    "rebound": "d = tempfile.mkdtemp()\nf = Path(d) / 'm.keras'\nf = 'm.keras'\nkeras.models.load_model(f)",
    "parameter": "def load(p):\n    return keras.models.load_model(p)",
    "gettempdir is shared": "keras.models.load_model(Path(tempfile.gettempdir()) / 'm.keras')",
}


def test_the_analyzer_accepts_temporary_paths_and_rejects_everything_else():
    for i, snippet in enumerate(GOOD):
        nb = Notebook.from_source(f"good{i}", [snippet])
        found = calls(nb, is_load_call) + calls(nb, is_write_call)
        assert found, snippet
        assert path_problems(nb, found) == [], snippet
    for label, snippet in BAD.items():
        nb = Notebook.from_source(label, [snippet])
        found = calls(nb, is_load_call)
        assert len(found) == 1, label
        assert path_problems(nb, found) != [], f"not flagged: {label}"


def test_the_analyzer_flags_safe_mode_tricks_and_unsafe_loaders():
    for snippet in ["load_model(f, safe_mode=flag)", "load_model(f, **options)",
                    "load_model(f, None, True, False)", "load_model(f, safe_mode=not True)"]:
        nb = Notebook.from_source("s", [snippet])
        assert safe_mode_problems(calls(nb, is_load_call)), snippet
    assert safe_mode_problems(calls(Notebook.from_source("s", ["load_model(f, safe_mode=True)"]),
                                    is_load_call)) == []
    for snippet in ["keras.config.enable_unsafe_deserialization()",
                    "from keras.config import enable_unsafe_deserialization",
                    "pickle.load(open(p, 'rb'))", "joblib.load(p)",
                    "np.load(p, allow_pickle=True)"]:
        assert unsafe_switches(Notebook.from_source("s", [snippet])), snippet
    assert unsafe_switches(Notebook.from_source("s", ["np.load(p)", "keras.models.load_model(p)"])) == []


def test_the_analyzer_checks_the_one_unsafe_cell():
    setup = "d = tempfile.TemporaryDirectory()\nf = Path(d.name) / 'lambda.keras'\nm.save(f)"
    refuse = "try:\n    keras.models.load_model(f)\nexcept ValueError as e:\n    print(e)"
    unsafe = "keras.models.load_model(f, safe_mode=False)"
    heading = {0: "## `safe_mode`: never load untrusted code"}
    warning = {3: "Loading it would run arbitrary code stored in the file."}
    good = Notebook.from_source("good", ["", setup, refuse, "", unsafe], {**heading, **warning})
    (call,) = unsafe_loads(good)
    assert unsafe_load_problems(good, call) == []
    for label, nb in {
        "no warning": Notebook.from_source("a", ["", setup, refuse, "", unsafe],
                                           {**heading, 3: "Now we load it."}),
        "no heading": Notebook.from_source("b", ["", setup, refuse, "", unsafe], warning),
        "never refused": Notebook.from_source("c", ["", setup, "", "", unsafe],
                                              {**heading, **warning}),
        "not written here": Notebook.from_source("d", ["", "f = tempfile.mkdtemp()", refuse, "",
                                                       unsafe], {**heading, **warning}),
    }.items():
        (call,) = unsafe_loads(nb)
        assert unsafe_load_problems(nb, call), f"not flagged: {label}"


# ---- the book -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def book():
    found = notebooks()
    assert len(found) >= 10, [nb.name for nb in found]
    return found


def test_every_code_cell_of_the_book_parses(book):
    assert [e for nb in book for e in nb.errors] == []


def test_the_book_loads_and_writes_model_files(book):
    # guard: the analysis below finds the calls the saving chapter is made of
    loads = [c for nb in book for c in calls(nb, is_load_call)]
    writes = [c for nb in book for c in calls(nb, is_write_call)]
    names = {last_name(c.node.func) for c in loads}
    assert {"load_model", "load_weights", "TFSMLayer"} <= names
    assert {"save", "save_weights", "export", "ModelCheckpoint"} <= {
        last_name(c.node.func) for c in writes}


def test_every_model_file_the_book_loads_comes_from_its_own_temporary_folder(book):
    problems = [p for nb in book for p in path_problems(nb, calls(nb, is_load_call))]
    assert problems == [], "model files loaded from outside a temporary folder the notebook made"


def test_every_model_file_the_book_writes_goes_to_its_own_temporary_folder(book):
    problems = [p for nb in book for p in path_problems(nb, calls(nb, is_write_call))]
    assert problems == [], "model files written outside a temporary folder the notebook made"


def test_safe_mode_is_only_ever_a_literal(book):
    problems = [p for nb in book for p in safe_mode_problems(calls(nb, is_load_call))]
    assert problems == []


def test_safe_mode_is_never_switched_off_globally_and_no_loader_lacks_it(book):
    assert [p for nb in book for p in unsafe_switches(nb)] == []


def test_safe_mode_is_turned_off_once_in_the_chapter_that_teaches_it(book):
    teaching = [nb.name for nb in book if teaches_safe_mode(nb)]
    assert len(teaching) == 1, f"chapters with a section on safe_mode: {teaching}"
    unsafe = [c for nb in book for c in unsafe_loads(nb)]
    assert len(unsafe) <= 1, [c.where() for c in unsafe]
    for call in unsafe:
        assert call.notebook.name == teaching[0], call.where()
        assert unsafe_load_problems(call.notebook, call) == []
