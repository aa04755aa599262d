# wisp's launcher for python actions: one Python process that serves one
# action's activations over the actionloop protocol (docs/runtimes.md).
#
# stdin carries one JSON line per message. The first is
#   {"init": {"dir", "entry", "main", "env"}}
# and the launcher answers on fd 3 with {"ok":true}, or {"error": why} when
# the code cannot be loaded. Every later line is an activation
# (docs/actionloop.md): the launcher exports its string fields as __OW_*,
# calls main(args) with `value`, ends stdout and stderr with the sentinel and
# writes the result as one line on fd 3.
#
# A process may start before its action is known (a stem cell): it only
# loads the code when the init line comes.
import glob
import importlib.util
import json
import os
import resource
import site
import sys
import traceback

SENTINEL = "XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX\n"

# The exit status of a process the OOM killer took (128 + SIGKILL): wisp
# reports it as "The action exhausted its memory and was aborted."
OUT_OF_MEMORY_EXIT = 137


def out_of_memory():
    try:
        sys.stderr.write("MemoryError: the action exhausted its memory\n")
        sys.stderr.flush()
    finally:
        os._exit(OUT_OF_MEMORY_EXIT)


def write_result(value):
    try:
        line = json.dumps(value, separators=(",", ":"))
    except (TypeError, ValueError) as e:
        line = json.dumps({"error": "The action's result is not JSON: %s" % e})
    data = (line.replace("\n", "") + "\n").encode("utf-8")
    while data:
        data = data[os.write(3, data):]


def load(message):
    # The action's memory limit, set before its code is loaded (a stem cell
    # starts without one). RLIMIT_DATA: what it allocates, not what it reserves.
    memory = message.get("memory")
    if memory:
        resource.setrlimit(resource.RLIMIT_DATA, (memory, memory))
    for name, value in (message.get("env") or {}).items():
        os.environ[name] = value
    directory = message["dir"]
    os.chdir(directory)
    # A zip may carry its own virtualenv: its site-packages come first.
    for packages in glob.glob(os.path.join(directory, "virtualenv", "lib", "python3*", "site-packages")):
        site.addsitedir(packages)
        sys.path.remove(packages)
        sys.path.insert(0, packages)
    sys.path.insert(0, directory)
    entry = message["entry"]
    if entry == directory:
        entry = os.path.join(directory, "__main__.py")
        if not os.path.isfile(entry):
            raise RuntimeError("the zip has no __main__.py at its root")
    spec = importlib.util.spec_from_file_location("__wisp_action__", entry)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    main = message.get("main") or "main"
    fn = getattr(module, main, None)
    if not callable(fn):
        raise RuntimeError("the action has no function '%s'" % main)
    return fn


def run(fn, message):
    for key, value in message.items():
        if key != "value" and isinstance(value, str):
            os.environ["__OW_" + key.upper()] = value
    try:
        result = fn(message.get("value", {}))
    except MemoryError:
        out_of_memory()
    except Exception as e:  # the action's own failure: an application error
        traceback.print_exc()
        result = {"error": "An error has occurred: %s: %s" % (type(e).__name__, e)}
    if result is None:
        result = {}
    sys.stdout.flush()
    sys.stderr.flush()
    sys.stdout.write(SENTINEL)
    sys.stderr.write(SENTINEL)
    sys.stdout.flush()
    sys.stderr.flush()
    write_result(result)


def serve():
    fn = None
    for line in sys.stdin:
        if not line.strip():
            continue
        message = json.loads(line)
        if fn is None:
            try:
                fn = load(message.get("init") or {})
            except BaseException as e:  # a SyntaxError, an ImportError, a missing main
                traceback.print_exc()
                sys.stderr.flush()
                write_result({"error": "%s: %s" % (type(e).__name__, e)})
                os._exit(1)
            write_result({"ok": True})
            continue
        run(fn, message)


if __name__ == "__main__":
    serve()
