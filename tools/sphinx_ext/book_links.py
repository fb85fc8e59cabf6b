"""Sphinx extension: the book links itself together and to the Keras documentation.

Loaded through ``sphinx: local_extensions`` in _config.yml. On every HTML page,
after Sphinx has resolved its own references:

- The first mention of a Keras class or function in the prose (inline code
  such as ``keras.layers.Dropout(0.3)``, ``EarlyStopping`` or ``model.fit``)
  becomes a link to its page on keras.io (``KERAS_API`` below). Code cells are
  left alone.
- "chapter 5", "Chapter 12" in the prose link to that chapter the first time
  each is named on a page (not on the chapter's own page; not "chapter 7 of
  the textbook", which is the textbook's), and the appendix
  names in quotes ("Notes on the sources", ...) link to the appendix.

The text stays as written: only links are added, so a chapter's notebook
reads the same in Colab. ``tests/test_browser.py`` checks that every chapter
page links to other pages of the book and to keras.io.
"""

from __future__ import annotations

import re
from pathlib import Path

from docutils import nodes

KERAS = "https://keras.io/api/"
#: Keras names (as the chapters write them, without arguments) -> page under keras.io/api/.
KERAS_API = {
    "keras.Sequential": "models/sequential/",
    "keras.Model": "models/model/",
    "keras.Input": "layers/core_layers/input/",
    "keras.layers.Dense": "layers/core_layers/dense/",
    "keras.layers.Flatten": "layers/reshaping_layers/flatten/",
    "keras.layers.Dropout": "layers/regularization_layers/dropout/",
    "keras.layers.BatchNormalization": "layers/normalization_layers/batch_normalization/",
    "keras.layers.LayerNormalization": "layers/normalization_layers/layer_normalization/",
    "keras.layers.LeakyReLU": "layers/activation_layers/leaky_relu/",
    "keras.layers.Activation": "layers/core_layers/activation/",
    "keras.layers.Normalization": "layers/preprocessing_layers/numerical/normalization/",
    "keras.layers.StringLookup": "layers/preprocessing_layers/categorical/string_lookup/",
    "keras.layers.IntegerLookup": "layers/preprocessing_layers/categorical/integer_lookup/",
    "keras.layers.CategoryEncoding": "layers/preprocessing_layers/categorical/category_encoding/",
    "keras.layers.Concatenate": "layers/merging_layers/concatenate/",
    "keras.layers.Lambda": "layers/core_layers/lambda/",
    "keras.layers.TFSMLayer": "layers/backend_specific_layers/tfsm_layer/",
    "keras.optimizers.SGD": "optimizers/sgd/",
    "keras.optimizers.Adam": "optimizers/adam/",
    "keras.optimizers.AdamW": "optimizers/adamw/",
    "keras.optimizers.RMSprop": "optimizers/rmsprop/",
    "keras.optimizers.Adagrad": "optimizers/adagrad/",
    "keras.callbacks.EarlyStopping": "callbacks/early_stopping/",
    "keras.callbacks.ModelCheckpoint": "callbacks/model_checkpoint/",
    "keras.callbacks.ReduceLROnPlateau": "callbacks/reduce_lr_on_plateau/",
    "keras.callbacks.LearningRateScheduler": "callbacks/learning_rate_scheduler/",
    "keras.callbacks.CSVLogger": "callbacks/csv_logger/",
    "keras.callbacks.Callback": "callbacks/base_callback/",
    "keras.regularizers": "layers/regularizers/",
    "keras.regularizers.L1": "layers/regularizers/",
    "keras.regularizers.L2": "layers/regularizers/",
    "keras.regularizers.L1L2": "layers/regularizers/",
    "keras.initializers": "layers/initializers/",
    "keras.initializers.HeNormal": "layers/initializers/",
    "keras.initializers.GlorotUniform": "layers/initializers/",
    "keras.activations": "layers/activations/",
    "keras.losses.SparseCategoricalCrossentropy": "losses/probabilistic_losses/",
    "keras.losses.CategoricalCrossentropy": "losses/probabilistic_losses/",
    "keras.losses.BinaryCrossentropy": "losses/probabilistic_losses/",
    "keras.losses.MeanSquaredError": "losses/regression_losses/",
    "keras.metrics.AUC": "metrics/classification_metrics/",
    "keras.models.load_model": "models/model_saving_apis/model_saving_and_loading/",
    "keras.saving.load_model": "models/model_saving_apis/model_saving_and_loading/",
    "keras.utils.set_random_seed": "utils/python_utils/",
    "keras.backend.clear_session": "utils/config_utils/",
    "keras.datasets.fashion_mnist.load_data": "datasets/fashion_mnist/",
    "model.compile": "models/model_training_apis/",
    "model.fit": "models/model_training_apis/",
    "model.evaluate": "models/model_training_apis/",
    "model.predict": "models/model_training_apis/",
    "model.summary": "models/model/",
    "model.save": "models/model_saving_apis/model_saving_and_loading/",
    "model.save_weights": "models/model_saving_apis/weights_saving_and_loading/",
    "model.load_weights": "models/model_saving_apis/weights_saving_and_loading/",
    "model.export": "models/model_saving_apis/export/",
}
# Bare class names the chapters also write (``Dropout``, ``EarlyStopping``): unambiguous in this book.
_BARE = {name.rsplit(".", 1)[1]: page for name, page in KERAS_API.items()
         if name.startswith("keras.") and name.count(".") == 2 and name.rsplit(".", 1)[1][:1].isupper()}
_CALL = re.compile(r"^([A-Za-z_][\w.]*)\s*(\(.*\))?$", re.S)

# "chapter 7 of the Korean textbook" is the textbook's chapter, not ours: no link.
CHAPTER = re.compile(r"\b([Cc]hapters?) (\d{1,2})\b(?! of )")
APPENDIX = re.compile(r"(appendix|Appendix) [\"“]([^\"”]{3,60})[\"”]")
_SKIP = (nodes.literal, nodes.literal_block, nodes.reference, nodes.title, nodes.raw,
         nodes.FixedTextElement, nodes.target)


def _keras_page(text: str) -> str | None:
    m = _CALL.match(text.strip())
    if not m:
        return None
    name = m.group(1)
    if name in KERAS_API:
        return KERAS_API[name]
    if name.startswith("tf.keras."):
        return KERAS_API.get(name[3:])
    return _BARE.get(name)


def _inside(node: nodes.Node, kinds: tuple) -> bool:
    parent = node.parent
    while parent is not None:
        if isinstance(parent, kinds):
            return True
        parent = parent.parent
    return False


def add_links(app, doctree: nodes.document, docname: str) -> None:
    if app.builder.format != "html":
        return
    chapters: dict[int, str] = {}
    appendices: dict[str, str] = {}
    for name in app.env.found_docs:
        m = re.match(r"book/ch(\d\d)_", name)
        if m:
            chapters[int(m.group(1))] = name
        elif name.startswith("book/appendix/"):
            title = app.env.titles.get(name)
            if title is not None:
                appendices[title.astext().strip().lower()] = name

    def uri(target: str) -> str:
        return app.builder.get_relative_uri(docname, target)

    # Keras names in inline code: the first mention of each page on keras.io.
    linked_api: set[str] = set()
    for literal in list(doctree.findall(nodes.literal)):
        if _inside(literal, (nodes.reference, nodes.literal_block, nodes.title)) or isinstance(
                literal.parent, nodes.reference):
            continue
        page = _keras_page(literal.astext())
        if page is None or page in linked_api:
            continue
        linked_api.add(page)
        ref = nodes.reference("", "", refuri=KERAS + page, classes=["keras-api"],
                              reftitle="Keras API documentation")
        literal.replace_self(ref)
        ref += literal

    # "chapter N" and appendix "Title" in the prose: the first mention of each on a page.
    linked_docs: set[str] = {docname}
    for text in list(doctree.findall(nodes.Text)):
        if _inside(text, _SKIP):
            continue
        source = str(text)
        pieces: list[nodes.Node] = []
        pos = 0
        for m in sorted(list(CHAPTER.finditer(source)) + list(APPENDIX.finditer(source)), key=lambda m: m.start()):
            if m.start() < pos:
                continue
            if m.re is CHAPTER:
                target = chapters.get(int(m.group(2)))
            else:
                target = appendices.get(m.group(2).strip().lower())
            if target is None or target in linked_docs:
                continue
            linked_docs.add(target)
            pieces.append(nodes.Text(source[pos:m.start()]))
            pieces.append(nodes.reference(m.group(0), m.group(0), refuri=uri(target), internal=True))
            pos = m.end()
        if pieces:
            pieces.append(nodes.Text(source[pos:]))
            parent = text.parent
            index = parent.index(text)
            parent.remove(text)
            for offset, piece in enumerate(pieces):
                parent.insert(index + offset, piece)


def setup(app):
    app.connect("doctree-resolved", add_links)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
