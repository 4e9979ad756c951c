"""The test suite. Its helpers are in tests.support; pytest rewrites their asserts as it does the
tests' own, so a failing helper explains itself the same way."""

import pytest

pytest.register_assert_rewrite("tests.support")
