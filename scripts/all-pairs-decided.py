#!/usr/bin/env python3
"""Asks every ordered pair of live instances (and the internet) in each snapshot, for any
traffic, tcp/22, udp/9999 and icmp, and fails when an answer is `unknown` or a query is
rejected. A guard on the conformance snapshots: every path in them is modelled, so a new
`unknown` there is a regression even where the suite's own cases still pass.

Usage: all-pairs-decided.py BIN SNAPSHOT...
"""
import itertools
import json
import subprocess
import sys

from snapshot_json import documents, live_instances

PROBES = [[], ["--protocol", "tcp", "--port", "22"], ["--protocol", "udp", "--port", "9999"],
          ["--protocol", "icmp"]]


def instance_ids(snapshot):
    return sorted({i["InstanceId"] for doc in documents(snapshot, strict=False)
                   for i in live_instances(doc)})


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    binary, snapshots = sys.argv[1], sys.argv[2:]
    asked, bad = 0, []
    for snap in snapshots:
        endpoints = instance_ids(snap) + ["internet"]
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
