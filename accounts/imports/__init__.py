"""Placement file import: a creditor's CSV or XLSX file becomes debtors, accounts, their
opening ledger entries and their "placed" events, in one transaction.

The path of a file: `reader` streams rows out of it (encoding, delimiter, Excel's
quirks); `fields` is the catalogue of our fields and the column-mapping guess, and
`parsers` reads each cell as its field; `validation` checks each row; `preview` shows
the first rows; `matching` finds the debtor a row belongs to (`lookups`: a chunk's keys
among the office's rows, one index probe each); `writer` writes a chunk of good rows in
bulk (`copy_writer` on PostgreSQL, with `facts`: phone and ZIP facts at import speed;
`ahead`: long files read and checked in a child process a chunk ahead of it);
`rejected` keeps the bad rows as a CSV; `unmerge` undoes a wrong match; `progress`
reports a running import. `services` holds the verbs the views, the command and the task
call. Nothing here may leave a half-imported file behind: every write of one import
happens in one database transaction.
"""
