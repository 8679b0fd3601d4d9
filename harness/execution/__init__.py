"""Model code runs here: the study's forked worker process, its jobs and the messages between them.

Modules: `jobs`, `messages`, `worker`. Import them by name (`from harness.execution import
jobs`); this package imports none of them itself.
"""

__all__ = ["jobs", "messages", "worker"]
