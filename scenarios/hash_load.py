"""hash: a loop of short-input hashlib.sha256 calls (each too short to release the GIL)."""

from lab_support import LabUser
from locust import task


class HashUser(LabUser):
    @task
    def hash_loop(self) -> None:
        self.get("/compute/hash")
