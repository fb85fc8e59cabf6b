# Maintainers' kernels (see startup/): keep no input history (parallel kernels share this folder).
c.HistoryManager.enabled = False
# The book's static figures: PNGs at twice the pixels they are shown at, so they stay
# sharp on high-density screens (the page gives each its 1x width). Display only: the
# figure, and every number, is the same as in a learner's kernel.
c.InlineBackend.figure_formats = {"retina"}
