"""Channel adapters: one small module per channel, each `send(...) -> provider id`.

They never decide anything (the gate has), never retry blindly (an unknown outcome is
reconciled or flagged by the dispatcher), and raise `TransientError` only when the
provider said nothing was sent and a retry is safe."""

import os

import requests.utils


class TransientError(Exception):
    """The provider refused for now (rate limit, outage) and sent nothing."""


class PermanentError(Exception):
    """The provider refused this message for good (bad address, opted out)."""


def environment_pinned(session, url):
    """Read the proxy and CA-bundle environment (HTTPS_PROXY, NO_PROXY,
    REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE) once for the provider's `url`, and stop
    `requests` from reading it again on every call: with a few dozen variables set,
    that re-read cost more CPU per message than our own rendering. The session keeps
    honouring a proxy or a private CA bundle exactly as before; only ~/.netrc is no
    longer consulted, and the providers' credentials never came from it. Returns the
    session."""
    if session is None or not session.trust_env:
        return session
    for scheme, proxy in requests.utils.get_environ_proxies(url).items():
        session.proxies.setdefault(scheme, proxy)
    if session.verify is True:
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        if bundle:
            session.verify = bundle
    session.trust_env = False
    return session
