"""Channel adapters: one small module per channel, each `send(...) -> provider id`.

They never decide anything (the gate has), never retry blindly (an unknown outcome is
reconciled or flagged by the dispatcher), and raise `TransientError` only when the
provider said nothing was sent and a retry is safe."""


class TransientError(Exception):
    """The provider refused for now (rate limit, outage) and sent nothing."""


class PermanentError(Exception):
    """The provider refused this message for good (bad address, opted out)."""
