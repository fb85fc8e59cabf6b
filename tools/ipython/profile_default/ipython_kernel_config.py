# Maintainers' kernels (see startup/): keep no input history (parallel kernels share this folder).
c.HistoryManager.enabled = False
