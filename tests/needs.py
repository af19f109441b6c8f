"""The one way a test gets an optional package: import it, or fail (never skip) with the
message that says what to install (edgecnn.runtime.errors.require's)."""

import pytest

from edgecnn.runtime.errors import EdgecnnError, require


def need(module: str):
    try:
        return require(module)
    except EdgecnnError as exc:
        problem = str(exc)
    pytest.fail(problem, pytrace=False)
