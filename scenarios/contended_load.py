"""contended: the compute loop reading a module-level object every thread shares, never immortal.

On 3.14t each thread that reads the object writes its reference count, so concurrent
requests contend for one cache line and each costs more CPU than it does alone. It is
what ``compute`` becomes when its module is compiled from source: the lab's reference
for the cost of a shared, non-immortal object on the free-threaded build.
"""

from lab_support import LabUser
from locust import task


class ContendedUser(LabUser):
    @task
    def contended(self) -> None:
        self.get("/compute/contended")
