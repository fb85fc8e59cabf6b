"""Speed settings for the maintainers' kernels only (full runs and tests), never a learner's.

The full-run tool (``python -m tools.execute``) and the test suite start their
kernels with ``IPYTHONDIR`` pointing at ``tools/ipython``, so IPython runs this
file before a chapter's first cell. A learner's kernel (Colab, Jupyter) never
sees it. Each setting changes how fast a result comes, not the result: every
chapter re-run with and without them gave identical figures
(``python tools/bench.py --only fit`` compares the histories).

1. ``steps_per_execution``: ``fit``, ``evaluate`` and ``predict`` run 64
   batches per call into TensorFlow instead of 1 (chapter 3 teaches the
   setting). Runs whose callbacks act on single batches keep Keras's default,
   so every batch-level hook fires as on the page.
2. Graphs under 32 nodes skip Grappler, TensorFlow's graph optimizer: they are
   the input-pipeline helpers Keras rebuilds every epoch; a model's training
   graph has hundreds of nodes and is optimized as before.
3. Python's cycle collector runs after 50,000 new objects instead of 700, and
   skips the objects that exist after ``import keras``.
"""

import gc
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
gc.set_threshold(50_000, 20, 100)
_saved_fd = os.dup(2)  # TensorFlow's C++ start-up lines go to fd 2: keep them out of the outputs
with open(os.devnull, "w") as _null:
    os.dup2(_null.fileno(), 2)
    try:
        import keras
        import tensorflow as tf
    finally:
        os.dup2(_saved_fd, 2)
        os.close(_saved_fd)

tf.config.optimizer.set_experimental_options({"min_graph_nodes": 32})
STEPS_PER_EXECUTION = 64
_BATCH_HOOKS = [f"on_{mode}_batch_{when}" for mode in ("train", "test", "predict") for when in ("begin", "end")]


def _acts_on_batches(callbacks):
    base = keras.callbacks.Callback
    return any(getattr(type(cb), hook) is not getattr(base, hook)
               for cb in callbacks or [] for hook in _BATCH_HOOKS
               if not isinstance(cb, (keras.callbacks.History, keras.callbacks.ProgbarLogger)))


def _with_steps(method):
    def run(self, *args, callbacks=None, **kwargs):
        # Only models the chapter left at Keras's default of 1 (a chapter that sets it keeps its
        # value), and not fit's own validation pass (it hands evaluate a CallbackList).
        if (not isinstance(callbacks, keras.callbacks.CallbackList)
                and getattr(self, "_tools_manage_steps", self.steps_per_execution == 1)):
            self._tools_manage_steps = True
            wanted = 1 if _acts_on_batches(callbacks) else STEPS_PER_EXECUTION
            if self.steps_per_execution != wanted:
                self.steps_per_execution = wanted
                self.train_function = self.test_function = self.predict_function = None  # retrace
        return method(self, *args, callbacks=callbacks, **kwargs)
    run.__wrapped__ = method
    return run


for _name in ("fit", "evaluate", "predict"):
    setattr(keras.Model, _name, _with_steps(getattr(keras.Model, _name)))
gc.freeze()
