"""The campaign builder: what a manager designs (segments, steps, variants) and what it
would do before it goes live (entry counts, rendered previews, a dry-run on history).

Reads and pure functions live here; the verbs that change state are in
`campaigns.services`. Nothing here sends or records a message.
"""
