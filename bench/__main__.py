"""`python -m bench <name> [options]`, or `python -m bench all`.

Each benchmark is a module with `main(argv) -> exit code`, registered below by name.
`all` runs every registered benchmark at a small scale: `--scale $BENCH_SCALE`
(default 0.01), unless the arguments after `all` say otherwise.
"""

import importlib
import os
import sys

# name -> module with main(argv). Add new benchmarks here.
REGISTRY = {
    "generate": "bench.generate",
    "gate": "bench.gate",
    "import": "bench.imports",
    "webhooks": "bench.webhooks",
    "portal": "bench.portal",
    "plan": "bench.plan",
    "dispatch": "bench.dispatch",
}

USAGE = f"""usage: python -m bench <name> [options] | all [options]
benchmarks: {", ".join(REGISTRY)}
`python -m bench <name> --help` for a benchmark's options."""


def run(name, argv):
    return importlib.import_module(REGISTRY[name]).main(argv) or 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name == "all":
        if not any(a.startswith(("--scale", "--accounts")) for a in rest):
            rest = ["--scale", os.environ.get("BENCH_SCALE", "0.01"), *rest]
        failed = [n for n in REGISTRY if run(n, rest) != 0]
        if failed:
            print(f"bench all: failed: {', '.join(failed)}", file=sys.stderr)
        return 1 if failed else 0
    if name not in REGISTRY:
        print(f"unknown benchmark {name!r}\n{USAGE}", file=sys.stderr)
        return 2
    return run(name, rest)


if __name__ == "__main__":
    sys.exit(main())
