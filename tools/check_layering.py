#!/usr/bin/env python3
"""Fails when a source file includes something its module may not see.

The modules form one chain, each allowed to use only those below it:

    util < json < http < store < whisk < apps/stackoverflow < cli

and third-party headers stay inside the module that owns them (STYLE.md):
sqlite3.h only under store/, sockets, Asio and Beast only under http/, curl
only under http/, spdlog only under util/, CLI11 and yaml-cpp only under cli/, libzip
only under whisk/ (native action payloads). nlohmann
belongs to json/, whose header re-exports it as the DOM, so modules above
json may use it through "json/json.h" but not directly.

Usage: check_layering.py [REPO_ROOT]
"""
import pathlib
import re
import sys

LAYERS = ["util", "json", "http", "store", "whisk", "apps/stackoverflow", "cli"]

# Header prefix -> the only modules that may include it.
OWNED_HEADERS = {
    "sqlite3.h": {"store"},
    "boost/asio": {"http"},
    "boost/beast": {"http"},
    "sys/socket.h": {"http"},
    "netinet/": {"http"},
    "arpa/inet.h": {"http"},
    "curl/": {"http"},
    "openssl/": {"http", "store"},
    "spdlog/": {"util"},
    "CLI/": {"cli"},
    "yaml-cpp/": {"cli"},
    "nlohmann/": {"json"},
    "zip.h": {"whisk"},
}

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)


def module_of(rel_path):
    """The module a path under src/ belongs to, e.g. 'apps/stackoverflow'."""
    parts = rel_path.split("/")
    if len(parts) >= 2 and "/".join(parts[:2]) in LAYERS:
        return "/".join(parts[:2])
    return parts[0] if parts[0] in LAYERS else None


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    src = root / "src"
    rank = {m: i for i, m in enumerate(LAYERS)}
    errors = []
    files = sorted(p for p in src.rglob("*") if p.suffix in (".h", ".cc"))
    for path in files:
        own = module_of(str(path.relative_to(src)))
        if own is None:
            errors.append(f"{path.relative_to(root)}: not inside a known module ({', '.join(LAYERS)})")
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for line_no, (kind, target) in ((text.count("\n", 0, m.start()) + 1, m.groups()) for m in INCLUDE.finditer(text)):
            where = f"{path.relative_to(root)}:{line_no}"
            if kind == '"':
                dep = module_of(target)
                if dep is None:
                    errors.append(f"{where}: includes \"{target}\", which is not under a module")
                elif rank[dep] > rank[own]:
                    errors.append(f"{where}: {own} may not include {target}: {dep} is above {own}")
            for prefix, owners in OWNED_HEADERS.items():
                if target.startswith(prefix) and own not in owners:
                    errors.append(f"{where}: <{target}> belongs to {', '.join(sorted(owners))}, not {own}")
    if errors:
        print("layering violations:")
        for e in errors:
            print("  " + e)
        return 1
    print(f"layering ok: {len(files)} files, modules {' < '.join(LAYERS)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
