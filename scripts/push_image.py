"""`make push DOCKER_USER=...`: push the API image to DockerHub, tagged as the perf workflow tags it.

The workflow's build job (docker/metadata-action in .github/workflows/perf.yml) tags the API
image with the full commit sha, the branch (each run of characters a tag cannot hold replaced
by "-", as the action's sanitizeTag does), and `latest` on the default branch only. This does
the same from a checkout, for the image `make build` built from it, and pushes every tag. It
refuses a checkout with uncommitted changes: its sha tag would name a commit the image is not.
Run `docker login` first.

    python -m scripts.push_image --user NAME [--image REF] [--default-branch main] [--dry-run]
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from loadtest.util.git import branch, default_branch, revision

ROOT = Path(__file__).resolve().parents[1]
REPOSITORY = "inference-gate-api"
"""The DockerHub repository (perf.yml's DOCKERHUB_REPOSITORY)."""
LOCAL_IMAGE = "inference-gate-api:local"
_NOT_IN_A_TAG = re.compile(r"[^a-zA-Z0-9._-]+")


def sanitize_tag(text: str) -> str:
    """A branch name as a tag: docker/metadata-action replaces each run of other characters by "-"."""
    return _NOT_IN_A_TAG.sub("-", text)


def image_tags(user: str, commit: str, branch_name: str | None, default: str) -> list[str]:
    """Every reference the workflow would push for this commit on this branch."""
    repository = f"docker.io/{user.lower()}/{REPOSITORY}"
    tags = [commit]
    if branch_name is not None:
        tags.append(sanitize_tag(branch_name))
        if branch_name == default:
            tags.append("latest")
    return [f"{repository}:{tag}" for tag in tags]


def main(argv: Sequence[str] | None = None) -> int:
    """Tag and push; the exit code (2: nothing was pushed, the message says why)."""
    parser = argparse.ArgumentParser(prog="python -m scripts.push_image", description=__doc__.split("\n\n")[0])
    parser.add_argument("--user", default=os.environ.get("DOCKER_USER", ""), help="DockerHub user [env DOCKER_USER]")
    parser.add_argument("--image", default=LOCAL_IMAGE, help=f"the local image to push (default {LOCAL_IMAGE})")
    parser.add_argument("--docker", default=os.environ.get("DOCKER", "docker"), help="the docker client [env DOCKER]")
    parser.add_argument("--default-branch", help="the branch that also gets `latest` (default: origin/HEAD, else main)")
    parser.add_argument("--checkout", type=Path, default=ROOT, help="the git checkout the image was built from")
    parser.add_argument("--dry-run", action="store_true", help="print the docker commands, run none")
    args = parser.parse_args(argv)

    def refuse(reason: str) -> int:
        print(f"push: {reason}; nothing was pushed", file=sys.stderr)
        return 2

    if not args.user.strip():
        return refuse("no DockerHub user: make push DOCKER_USER=<your DockerHub user>")
    commit, dirty = revision(args.checkout)
    if commit is None:
        return refuse(f"{args.checkout} is not a git checkout, so there is no commit to tag the image with")
    if dirty:
        return refuse(f"the checkout has uncommitted changes: the image would not be commit {commit[:12]}")
    default = args.default_branch or default_branch(args.checkout) or "main"
    references = image_tags(args.user.strip(), commit, branch(args.checkout), default)
    if not args.dry_run and not _run([args.docker, "image", "inspect", "--format", "{{.Id}}", args.image], quiet=True):
        return refuse(f"there is no image {args.image}: build it with `make build`")
    pushed: list[str] = []
    for reference in references:
        for command in ([args.docker, "tag", args.image, reference], [args.docker, "push", reference]):
            print("$ " + shlex.join(command), flush=True)
            if not args.dry_run and not _run(command):
                done = f"; pushed before: {', '.join(pushed)}" if pushed else "; nothing was pushed"
                print(f"push: `{shlex.join(command)}` failed (is `docker login` done?){done}", file=sys.stderr)
                return 2
        pushed.append(reference)
    return 0


def _run(command: list[str], quiet: bool = False) -> bool:
    result = subprocess.run(command, check=False, stdout=subprocess.DEVNULL if quiet else None)
    return result.returncode == 0


if __name__ == "__main__":
    sys.exit(main())
