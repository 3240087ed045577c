"""Trust accounting for agencies: commission per creditor (flat or tiered), remittance
statements per creditor and period, and reconciliation of Stripe payouts and the trust
bank account's statement with the payments we recorded.

Its own package because it has its own models, pages, exports and chart; the verbs
that change its records live in `payments/services/` (remittance.py, reconcile.py,
direct.py) like every other money verb. It never writes the ledger: statements are
read from `accounts.Transaction` rows and point at them.
"""
