"""The debtor self-service portal (`/p/…`): a debtor opens a signed link or the office's
public page, proves who they are, and then sees, pays, plans, disputes, sets how they
want to be contacted and writes to the office, on a phone, in English or Spanish.

It is its own app because it is a surface that spans every other one (accounts,
debtors, compliance, payments, campaigns) for a different audience with a different
way in: no staff login, a signed link or an identity check, a session scoped to one
debtor of one office. Keeping it apart keeps the staff apps free of that audience's
rules, and keeps every rule of that audience in one place.

It must never show anything about a debt before the identity check has passed, never
reach an account of another debtor or another office, and never change state except
through the services of the app that owns it (compliance for disputes, holds and
consents; payments for payments and plans).
"""
