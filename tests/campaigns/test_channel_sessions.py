"""The providers' HTTP sessions read the proxy and CA-bundle environment once per batch
(not on every call) and still honour it: an office behind an outbound proxy, or with a
private CA bundle, keeps sending through them."""

import pytest
from django.test import override_settings

from campaigns.channels import email as email_channel
from campaigns.channels import sms as sms_channel

PROXY = "http://proxy.office.internal:3128"
TWILIO = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json"
POSTMARK = "https://api.postmarkapp.com/email"


def _config():
    return sms_channel.TwilioConfig(
        account_sid="AC" + "1" * 32, auth_token="token", messaging_service_sid="MG1",
        from_number="",
    )  # fmt: skip


def _sent_with(session, url):
    """The proxies and verify setting `requests` will use for a call to `url`."""
    return session.merge_environment_settings(url, {}, None, None, None)


@pytest.fixture
def clean_env(monkeypatch):
    proxies = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
    for name in (*proxies, *(p.lower() for p in proxies), "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_twilio_calls_go_through_the_configured_proxy(clean_env):
    clean_env.setenv("HTTPS_PROXY", PROXY)
    session = sms_channel.client_for(_config()).http_client.session
    assert session.trust_env is False  # the environment is not read again per call
    assert _sent_with(session, TWILIO)["proxies"]["https"] == PROXY


def test_no_proxy_still_bypasses_the_proxy(clean_env):
    clean_env.setenv("HTTPS_PROXY", PROXY)
    clean_env.setenv("NO_PROXY", "api.twilio.com")
    session = sms_channel.client_for(_config()).http_client.session
    assert "https" not in _sent_with(session, TWILIO)["proxies"]


def test_a_private_ca_bundle_is_kept(clean_env, tmp_path):
    bundle = tmp_path / "office-ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    clean_env.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    session = sms_channel.client_for(_config()).http_client.session
    assert _sent_with(session, TWILIO)["verify"] == str(bundle)


def test_without_any_environment_nothing_changes(clean_env):
    session = sms_channel.client_for(_config()).http_client.session
    settings = _sent_with(session, TWILIO)
    assert settings["proxies"] == {} and settings["verify"] is True


@override_settings(
    EMAIL_BACKEND="anymail.backends.postmark.EmailBackend",
    ANYMAIL={"POSTMARK_SERVER_TOKEN": "server-token"},
)
def test_an_http_esp_session_uses_the_proxy_too(clean_env):
    clean_env.setenv("HTTPS_PROXY", PROXY)
    sender = email_channel.sender(office_id=1)
    try:
        session = sender.connection.session
        assert session.trust_env is False
        assert _sent_with(session, POSTMARK)["proxies"]["https"] == PROXY
    finally:
        sender.close()


def test_an_esp_without_http_session_is_left_alone(clean_env):
    # The test suite's anymail test backend (like SMTP) has no requests session.
    sender = email_channel.sender(office_id=1)
    assert getattr(sender.connection, "session", None) is None
    sender.close()
