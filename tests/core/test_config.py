import pytest
from pydantic import ValidationError

from socap.config import Settings


def test_defaults_are_the_embedded_mode():
    settings = Settings(_env_file=None)
    assert settings.database_url.startswith("sqlite:///")
    assert settings.queue_url.startswith("sqlite:///")
    assert settings.poll_interval_minutes == 30
    assert settings.x_bearer_token is None


def test_environment_prefix_and_secret_masking(monkeypatch):
    monkeypatch.setenv("SOCAP_X_BEARER_TOKEN", "AAAA-secret-token")
    monkeypatch.setenv("SOCAP_POLL_INTERVAL_MINUTES", "15")
    monkeypatch.setenv("SOCAP_DEFAULT_ALERT_SPACING_MINUTES", "10")
    settings = Settings(_env_file=None)
    assert settings.poll_interval_minutes == 15
    assert settings.x_bearer_token.get_secret_value() == "AAAA-secret-token"
    assert "AAAA-secret-token" not in repr(settings) and "AAAA-secret-token" not in str(settings)


def test_dotenv_file_is_read(tmp_path):
    env = tmp_path / ".env"
    env.write_text("SOCAP_WEB_PORT=9123\n")
    assert Settings(_env_file=env).web_port == 9123


@pytest.mark.parametrize("field,value,fragment", [
    ("clock", "sundial:noon", "clock"),
    ("database_url", "mysql://x/y", "database_url"),
    ("poll_interval_minutes", 0, "poll_interval_minutes"),
])
def test_bad_values_fail_fast_naming_the_setting(field, value, fragment):
    with pytest.raises(ValidationError) as info:
        Settings(_env_file=None, **{field: value})
    assert fragment in str(info.value)


def test_spacing_must_be_shorter_than_poll_interval():
    with pytest.raises(ValidationError, match="shorter than poll_interval"):
        Settings(_env_file=None, poll_interval_minutes=20, default_alert_spacing_minutes=20)
