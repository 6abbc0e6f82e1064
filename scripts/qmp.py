#!/usr/bin/env python3
"""Send QMP commands to a running guest (scripts/boot.sh makes the socket).
Also a module: connect() and send() serve scripts/check-isolation.py.

usage: qmp.py SOCKET COMMAND [COMMAND...]
       qmp.py SOCKET --every SECONDS [--for SECONDS] COMMAND
           (repeat COMMAND until the guest goes away, or for at most the
           --for time, after which the socket is free for another client;
           prints the count)
       qmp.py --wait SECONDS SOCKET ...
           (first wait up to SECONDS for QEMU to open SOCKET)
COMMAND is a QMP command name without arguments (inject-nmi, stop, cont)
or 'hmp:...' for a human monitor command.  Exits 2 if the socket cannot
be reached.
"""
import json
import os
import socket
import sys
import time


def connect(path):
    # A socket's path may hold only 107 bytes; a build tree deep in a
    # CI's checkout is longer.  Reach the socket through a descriptor of
    # its directory, whose /proc name is short whatever the path.
    d = os.open(os.path.dirname(os.path.abspath(path)), os.O_PATH)
    try:
        s = socket.socket(socket.AF_UNIX)
        s.connect(f"/proc/self/fd/{d}/{os.path.basename(path)}")
    finally:
        os.close(d)
    f = s.makefile("rw")
    f.readline()
    send(f, "qmp_capabilities")
    return f


def send(f, cmd, **args):
    """Run one command and return its result; 'hmp:...' is a human
    monitor command.  Raises RuntimeError on a QMP error."""
    if cmd.startswith("hmp:"):
        msg = {"execute": "human-monitor-command",
               "arguments": {"command-line": cmd[4:]}}
    else:
        msg = {"execute": cmd}
        if args:
            msg["arguments"] = args
    f.write(json.dumps(msg) + "\n")
    f.flush()
    while True:
        line = f.readline()
        if not line:
            raise ConnectionError("the guest went away")
        reply = json.loads(line)
        if "error" in reply:
            raise RuntimeError(f"{cmd}: {reply['error'].get('desc')}")
        if "return" in reply:
            return reply["return"]


def main(argv):
    wait = 0.0
    if len(argv) > 2 and argv[1] == "--wait":
        wait = float(argv[2])
        argv = argv[:1] + argv[3:]
    if len(argv) < 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    every = None
    if argv[2] == "--every":
        try:
            period, rest, until = float(argv[3]), argv[4:], None
            if rest[:1] == ["--for"]:
                until = float(rest[1])
                rest = rest[2:]
        except (IndexError, ValueError):
            rest = []
        if len(rest) != 1:
            print(__doc__.strip(), file=sys.stderr)
            return 2
        every = (period, until, rest[0])
    deadline = time.monotonic() + wait
    while True:
        try:
            f = connect(argv[1])
            break
        except OSError as e:
            if time.monotonic() >= deadline:
                print(f"qmp.py: {argv[1]}: {e}", file=sys.stderr)
                return 2
            time.sleep(0.01)
    if every:
        period, until, cmd = every
        n = 0
        if until is not None:
            until += time.monotonic()
        try:
            while until is None or time.monotonic() < until:
                send(f, cmd)
                n += 1
                time.sleep(period)
        except (ConnectionError, OSError, ValueError):
            pass
        print(f"qmp.py: sent {cmd} {n} times")
        return 0
    for cmd in argv[2:]:
        out = send(f, cmd)
        if isinstance(out, str):
            print(out, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
