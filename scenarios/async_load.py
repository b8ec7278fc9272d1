"""async: the same pure-Python work in an ``async def`` route.

It blocks the event loop, so it cannot scale on any interpreter: the lab's
reference point for what does *not* get faster on 3.14t.
"""

from lab_support import LabUser
from locust import task


class AsyncUser(LabUser):
    @task
    def pure_async(self) -> None:
        self.get("/compute/pure-async")
