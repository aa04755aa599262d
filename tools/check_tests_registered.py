#!/usr/bin/env python3
"""Fails when a *_test.cc under tests/ is not compiled into a test binary.

tests/CMakeLists.txt lists every test source through wisp_test(), which
records it in BUILD/registered_tests.txt; ctest runs each binary's cases.
A test file that exists but is not listed would silently never run.

Usage: check_tests_registered.py REPO_ROOT BUILD/registered_tests.txt
"""
import pathlib
import sys


def main():
    root = pathlib.Path(sys.argv[1]).resolve()
    registered = {
        pathlib.Path(line.strip()).resolve()
        for line in pathlib.Path(sys.argv[2]).read_text().splitlines()
        if line.strip()
    }
    # node_modules holds third-party packages (leveldown ships leveldb's tests).
    on_disk = {
        p.resolve() for p in (root / "tests").rglob("*_test.cc") if "node_modules" not in p.parts
    }
    missing = sorted(on_disk - registered)
    vanished = sorted(registered - on_disk)
    for p in missing:
        print(f"not registered with ctest: {p.relative_to(root)} (add it to a wisp_test() in tests/CMakeLists.txt)")
    for p in vanished:
        print(f"registered but missing on disk: {p}")
    if missing or vanished:
        return 1
    print(f"all {len(on_disk)} test files are registered")
    return 0


if __name__ == "__main__":
    sys.exit(main())
