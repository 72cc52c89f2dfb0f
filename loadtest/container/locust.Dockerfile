# The Locust image the compose backend runs, built by `inference-gate locust-image` from the
# installed package (this project's checkout builds the same image from its Dockerfile's
# `loadtest` target, pinned by uv.lock). The command assembles the build context:
#   requirements.txt  the gate's dependencies, pinned exactly as the installed command's are
#   loadtest/         the installed package itself (the locustfile, the scenario files)
# No `# syntax=` line and no RUN --mount: the classic builder builds it as well as BuildKit.

ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}
# No .pyc writes at run time, unbuffered logs, `loadtest` importable from /app.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app
WORKDIR /app
# A fixed unprivileged id (compose may run it as the host user, who then owns the results).
RUN groupadd --system --gid 10001 loadtest \
 && useradd --system --uid 10001 --gid loadtest --no-create-home --shell /usr/sbin/nologin loadtest
# Dependencies before the source: a code change reuses this layer.
COPY requirements.txt /tmp/requirements.txt
RUN python -m pip install --no-cache-dir --disable-pip-version-check -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt
COPY loadtest/ loadtest/
# A locustfile that cannot be imported fails the build, not the run.
RUN locust -f loadtest/locustfile.py --list
USER 10001:10001
# `docker run IMAGE -f loadtest/locustfile.py --headless ...` reads like Locust's own CLI.
ENTRYPOINT ["locust"]
CMD ["-f", "loadtest/locustfile.py", "--help"]
