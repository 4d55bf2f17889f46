"""Demo step 0: the reference data everything else stands on (loading it again changes nothing)."""

from accounts.demo import DemoContext

from .services import reference_load


def seed(ctx: DemoContext) -> None:
    reference_load()
