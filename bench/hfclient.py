"""huggingface_hub downloads timed in a child process, against any endpoint.

A child process gets its own HF_ENDPOINT and empty cache dir, so every run is a fresh client
and nothing leaks between configs. The child times only the download call, not its imports.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

HF_ENV = {
    "HF_HUB_DISABLE_XET": "1",
    "HF_HUB_ENABLE_HF_TRANSFER": "0",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_UPDATE_CHECK": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
}
SCRIPT = """
import json, os, sys, time
from huggingface_hub import hf_hub_download, snapshot_download
args = json.loads(sys.argv[1])
start = time.monotonic()
if args["kind"] == "file":
    path = hf_hub_download(args["repo"], args["path"], cache_dir=args["cache"],
                           endpoint=args["endpoint"])
    size = os.path.getsize(path)
else:
    folder = snapshot_download(args["repo"], cache_dir=args["cache"], endpoint=args["endpoint"])
    size = sum(len(files) for _, _, files in os.walk(folder))
print(json.dumps({"seconds": time.monotonic() - start, "size": size}))
"""


def timed_download(endpoint: str, repo: str, path: str | None, cache: Path, timeout: float):
    """(seconds, size) of hf_hub_download (path given) or snapshot_download (path None);
    size is bytes for a file, the file count for a snapshot."""
    args = {"kind": "file" if path else "snapshot", "repo": repo, "path": path}
    args.update(cache=str(cache), endpoint=endpoint)
    env = {**os.environ, **HF_ENV, "HF_ENDPOINT": endpoint, "HF_HOME": str(cache)}
    env.pop("HF_TOKEN", None)
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )
    if out.returncode != 0:
        raise RuntimeError(f"download via {endpoint} failed: {out.stderr[-1500:]}")
    answer = json.loads(out.stdout.strip().splitlines()[-1])
    return answer["seconds"], answer["size"]
