import pytest


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Uploaded and rejected-row files go to a temporary directory, not var/media."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
