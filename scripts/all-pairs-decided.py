#!/usr/bin/env python3
"""Asks every ordered pair of live instances (and the internet) in each snapshot, for any
traffic, tcp/22, udp/9999 and icmp, and fails when an answer is `unknown` or a query is
rejected. A guard on the conformance snapshots: every path in them is modelled, so a new
`unknown` there is a regression even where the suite's own cases still pass.

Usage: all-pairs-decided.py BIN SNAPSHOT...
"""
import glob
import itertools
import json
import os
import subprocess
import sys

PROBES = [[], ["--protocol", "tcp", "--port", "22"], ["--protocol", "udp", "--port", "9999"],
          ["--protocol", "icmp"]]


def live_instances(snapshot):
    ids = set()
    for path in glob.glob(os.path.join(snapshot, "**", "*.json"), recursive=True):
        try:
            with open(path, encoding="utf-8") as f:
                doc = json.load(f)
        except (OSError, ValueError):
            continue
        if not isinstance(doc, dict):
            continue
        for r in doc.get("Reservations") or []:
            for i in r.get("Instances") or []:
                state = (i.get("State") or {}).get("Name")
                if state not in ("terminated", "shutting-down"):
                    ids.add(i["InstanceId"])
    return sorted(ids)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    binary, snapshots = sys.argv[1], sys.argv[2:]
    asked, bad = 0, []
    for snap in snapshots:
        endpoints = live_instances(snap) + ["internet"]
        for a, b in itertools.permutations(endpoints, 2):
            for probe in PROBES:
                cmd = [binary, "query", snap, "--from", a, "--to", b, *probe, "--format", "json"]
                out = subprocess.run(cmd, capture_output=True, text=True)
                asked += 1
                try:
                    verdict = json.loads(out.stdout)["verdict"]
                except (ValueError, KeyError):
                    tail = (out.stderr.strip().splitlines() or ["no output"])[-1]
                    bad.append(f"{snap}: {a} -> {b} {' '.join(probe)}: exit {out.returncode}: {tail}")
                    continue
                if verdict not in ("reachable", "unreachable"):
                    bad.append(f"{snap}: {a} -> {b} {' '.join(probe)}: {verdict}")
    for line in bad:
        print(line)
    print(f"all pairs: {asked} questions, {len(bad)} undecided or rejected")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
