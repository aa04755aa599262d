"""bench/store/sqlite_insert.py: the physical limit for bench/store.sh.

    python3 bench/store/sqlite_insert.py DOCS_FILE DB_FILE [BATCH]

Inserts the documents of DOCS_FILE (one JSON text a line, the same text that
load.mjs posts) into one table `docs(id TEXT PRIMARY KEY, body TEXT)` of a
fresh SQLite database: journal_mode=WAL, synchronous=FULL, one transaction per
BATCH documents. Only the inserts and commits are timed (ids are extracted
before). Prints one JSON object.
"""
import json
import sqlite3
import sys
import time


def main():
    docs_file, db_file = sys.argv[1], sys.argv[2]
    batch = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    with open(docs_file, encoding="utf-8") as f:
        lines = [line.rstrip("\n") for line in f if line.strip()]
    rows = [(json.loads(line)["_id"], line) for line in lines]

    db = sqlite3.connect(db_file, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE docs (id TEXT PRIMARY KEY, body TEXT NOT NULL)")

    t0 = time.perf_counter()
    for i in range(0, len(rows), batch):
        db.execute("BEGIN")
        db.executemany("INSERT INTO docs (id, body) VALUES (?, ?)", rows[i:i + batch])
        db.execute("COMMIT")
    seconds = time.perf_counter() - t0
    count = db.execute("SELECT count(*) FROM docs").fetchone()[0]
    db.close()
    print(json.dumps({
        "docs": count,
        "seconds": seconds,
        "per_sec": len(rows) / seconds,
        "sqlite_version": sqlite3.sqlite_version,
        "python_version": sys.version.split()[0],
    }))


if __name__ == "__main__":
    main()
