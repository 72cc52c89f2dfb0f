"""Linux plumbing the runner's process backend stands on: cgroups, child processes, sockets."""
