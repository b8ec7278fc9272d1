"""compute: pure-Python arithmetic in a sync route (runs in anyio's thread pool)."""

from lab_support import LabUser
from locust import task


class ComputeUser(LabUser):
    @task
    def pure(self) -> None:
        self.get("/compute/pure")
