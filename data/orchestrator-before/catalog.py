# Catalog step, before the fix: every run re-validates every snapshot kept so far (parses each
# one, hashes it) and rewrites the whole catalog — its work grows with the history of runs.
import hashlib, json, os, shutil, time
os.makedirs("snapshots", exist_ok=True)
n = len(os.listdir("snapshots")) + 1
shutil.copy("sorted.csv", f"snapshots/run-{n:04d}.csv")
entries = []
for name in sorted(os.listdir("snapshots")):
    with open(os.path.join("snapshots", name), "rb") as fh:
        data = fh.read()
    total = sum(float(line.split(b",")[1]) for line in data.splitlines())
    entries.append({"file": name, "sha256": hashlib.sha256(data).hexdigest(), "total": total})
with open("catalog.json.tmp", "w") as fh:
    json.dump({"updated": time.time(), "entries": entries}, fh, indent=1)
    fh.flush(); os.fsync(fh.fileno())
os.replace("catalog.json.tmp", "catalog.json")
