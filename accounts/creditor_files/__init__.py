"""Files a creditor or its vendors send about accounts already placed — recalls, balance
updates (payments the creditor received directly), bankruptcy/deceased/SCRA scrubs and
skip-trace results — and the files the office sends back (placement acknowledgements,
close/return files).

Reads files with the placement import's machinery (`accounts.imports.reader`,
`parsers`, `validation.Problem`, `rejected.RejectedRows`) and changes state only
through the services that own each change (account_recall, payment_direct_report,
circumstance_record, contact_point_add). A file is applied in one transaction: it never
leaves half its rows written, and re-running it changes nothing twice.
"""
