"""json: parse, validate and aggregate a JSON document with the stdlib parser.

GET /json/synthetic: the server parses a document it generated at start-up, so the
client sends almost nothing and stays far from saturation.
"""

from lab_support import LabUser
from locust import task


class JsonUser(LabUser):
    @task
    def synthetic(self) -> None:
        self.get("/json/synthetic")
