"""What the file commands (import_placements, creditor_file) share: the arguments that
name the office, the creditor, the file and the person, and their lookup with an error
that says what to fix."""

import os

from django.core.management.base import CommandError

from recovery.models import Office, User


def add_file_arguments(parser, *, verb, role):
    parser.add_argument("file", help="Path of the CSV or XLSX file")
    parser.add_argument("--office", required=True, help="Office slug")
    parser.add_argument("--creditor", required=True, help="Creditor reference, e.g. LCB")
    parser.add_argument(
        "--valid-only",
        action="store_true",
        help=f"{verb.title()} the valid rows and reject the others (default: all or nothing)",
    )
    parser.add_argument("--user", help=f"Email of the member of staff recorded as {role}")


def file_command_targets(opts):
    """(office, path, user or None) from the command's options, or CommandError."""
    office = Office.objects.filter(slug=opts["office"]).first()
    if office is None:
        raise CommandError(f"No office with slug {opts['office']!r}.")
    path = opts["file"]
    if not os.path.isfile(path):
        raise CommandError(f"No file at {path}.")
    user = None
    if opts["user"]:
        user = User.objects.filter(email=opts["user"].lower()).first()
        if user is None:
            raise CommandError(f"No user with email {opts['user']!r}.")
    return office, path, user
