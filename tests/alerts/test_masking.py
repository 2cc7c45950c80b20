import pytest

from socap.alerts.masking import mask_url


@pytest.mark.parametrize("url,secrets,kept", [
    ("mailto://alerts:hunter2pass@mail.example.com?to=team@example.com", ["hunter2pass", "team@example.com"],
     "mailto://alerts:"),
    ("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ", ["A1BRTD4JD", "TIiajkdnlazkcOXrIdevi7FQ"],
     "slack://"),
    ("tgram://123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/987654", ["AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"],
     "tgram://"),
    ("discord://4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js", ["JHMHI8qBe7bk2ZwO5U711o3dV_js"], "discord://"),
    ("json://hooks.example.com/secret-path-token?key=abcdef123", ["secret-path-token", "abcdef123"],
     "json://hooks.example.com/"),
])
def test_secrets_never_survive_masking(url, secrets, kept):
    masked = mask_url(url)
    for secret in secrets:
        assert secret not in masked
    assert masked.startswith(kept)


def test_garbage_is_fully_masked():
    assert mask_url("not a url") == "****"
