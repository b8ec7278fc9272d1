"""image: decode → resize → blur → rotate → encode with Pillow, on a server-side image.

Pillow releases the GIL in decode, resize, filters and PNG compression, so this
scales partly even on the standard build; the lab reports what it sees.
"""

from lab_support import LabUser
from locust import task


class ImageUser(LabUser):
    @task
    def synthetic(self) -> None:
        self.get("/image/synthetic")
