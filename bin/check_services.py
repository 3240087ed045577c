"""Say loudly when PostgreSQL or Redis is unreachable before the test run starts.

Under CI=true an unreachable service is a failure, never a silent skip.
"""

import os
import socket
import sys
from urllib.parse import urlparse


def reachable(url, default_port):
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname, parsed.port or default_port), 3):
            return True
    except OSError:
        return False


def main():
    problems = []
    db = os.environ.get("DATABASE_URL", "")
    if not db.startswith("postgres"):
        problems.append(f"DATABASE_URL is not PostgreSQL ({db!r}); the suite needs PostgreSQL")
    elif not reachable(db, 5432):
        problems.append(f"PostgreSQL is not reachable at {urlparse(db).netloc}")
    redis = os.environ.get("REDIS_URL", "")
    if not redis or not reachable(redis, 6379):
        problems.append(f"Redis is not reachable at {redis!r}")
    if not problems:
        return 0
    bar = "!" * 78
    print(bar, *("  " + p for p in problems), bar, sep="\n", file=sys.stderr)
    if os.environ.get("CI", "").lower() == "true":
        print("CI=true: refusing to run without the real services.", file=sys.stderr)
        return 1
    print("Not in CI: the tests that need these services will fail.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
