#!/usr/bin/python3
"""Regenerates tests/data/wire_captures.jsonl from a logging-proxy capture of a real
fail2ban 1.0.2 client/server session (f2b_proxy.py log + the client's printed output).

Usage: gen_wire_captures.py PROXY_LOG CLIENT_SESSION > tests/data/wire_captures.jsonl
Each line: {"request": hex, "reply": hex, "argv": [...], "output": text or null}."""
import json, pickle, re, sys

END = b"<F2B_END_COMMAND>"
conns = {}
for line in open(sys.argv[1]):
    m = re.match(r"\[(\d+)\] (C->S|S->C) chunk \d+ bytes: ([0-9a-f]+)", line)
    if m:
        c = conns.setdefault(int(m.group(1)), {"C->S": b"", "S->C": b""})
        c[m.group(2)] += bytes.fromhex(m.group(3))

session = []
text = open(sys.argv[2]).read()
for block in text.split("\n$ ")[0:]:
    block = block.lstrip("$ ")
    head, _, rest = block.partition("\n")
    argv = head.split()
    if "-s" in argv:
        argv = argv[argv.index("-s") + 2:]
    out = rest.split("\n[rc=")[0]
    session.append((argv, out))

for cid in sorted(conns):
    reqs = conns[cid]["C->S"].split(END)[:-1]
    reps = conns[cid]["S->C"].split(END)[:-1]
    for req, rep in zip([r for r in reqs if r != b"<F2B_CLOSE_COMMAND>"], reps):
        cmd = pickle.loads(req)
        # Skip exchanges that carry upstream's filter text (regexes from the stock
        # sshd.conf): the repo must not contain copies of upstream's configuration.
        if cmd[0] == "reload" or cmd[-1:] == ["failregex"]:
            continue
        output = None
        for i, (argv, out) in enumerate(session):
            if argv == cmd:
                output = out
                session.pop(i)
                break
        print(json.dumps({"request": req.hex(), "reply": rep.hex(), "argv": cmd if output is not None else None, "output": output}))
