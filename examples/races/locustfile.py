"""Load for the races service: guests ask for greetings and record visits.

    locust -f examples/races/locustfile.py --host http://127.0.0.1:8000
"""

from __future__ import annotations

import random

from locust import HttpUser, between, task

NAMES = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Margaret", "Ken", "Radia", "Guido", "Frances",
         "Niklaus", "Sophie", "Tim", "Hedy", "John")


class Guest(HttpUser):
    wait_time = between(0.01, 0.05)

    @task(3)
    def greeting(self) -> None:
        self.client.get("/greeting", params={"name": random.choice(NAMES)}, name="/greeting")

    @task(2)
    def visit(self) -> None:
        self.client.post("/visits")

    @task(1)
    def count(self) -> None:
        self.client.get("/visits")
