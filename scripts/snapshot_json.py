"""What the CI scripts read straight from a snapshot's JSON files (not through `exposure`)."""
import glob
import json
import os


def documents(folder, strict=True):
    """Every JSON object of the folder's files (recursively). With `strict=False`, files that
    do not parse are skipped."""
    for path in sorted(glob.glob(os.path.join(folder, "**", "*.json"), recursive=True)):
        try:
            with open(path, encoding="utf-8") as f:
                doc = json.load(f)
        except (OSError, ValueError):
            if strict:
                raise
            continue
        if isinstance(doc, dict):
            yield doc


def live_instances(doc):
    """The instances of a `Reservations` document the loader keeps (it skips terminated and
    shutting-down ones, with a note)."""
    for r in doc.get("Reservations") or []:
        for i in r.get("Instances") or []:
            if (i.get("State") or {}).get("Name") not in ("terminated", "shutting-down"):
                yield i
