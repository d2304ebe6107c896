"""The Qt layer: the only package (with `bluesdesk.app`) that imports PySide6 or qasync.

Panes never await I/O themselves: they hand coroutines to `tasks.TaskRunner` and show results.
"""
