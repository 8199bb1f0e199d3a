import pytest


@pytest.fixture(scope="session")
def sample_dataset(tmp_path_factory):
    """One dataset built by the real pipeline, shared read-only by the ``miata data`` tests
    (see tests/support/sample_dataset.py)."""
    from tests.support.sample_dataset import build_sample_dataset

    return build_sample_dataset(tmp_path_factory.mktemp("sample-dataset"))
