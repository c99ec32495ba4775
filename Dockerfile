# pmsync in a container: the image the README's Kubernetes CronJob runs.
#
#   docker build -t registry.example.gov/pmsync:0.1 .                         # store on PostgreSQL
#   docker build --build-arg EXTRAS=postgres,pdf -t registry.example.gov/pmsync:0.1-pdf .
#
# EXTRAS are pmsync's optional extras (postgres, pdf, mpp); pdf adds Chromium's headless shell (the
# default PDF engine finds it: ~10x faster than WeasyPrint, tagged PDFs either way), WeasyPrint's
# system libraries (the fallback, and reports.pdf_engine: weasyprint) and fonts; mpp a Java runtime.
# Chromium's own sandbox needs user namespaces, which a container's default seccomp profile denies:
# PMSYNC_CHROMIUM_NO_SANDBOX=1 starts it without (the container is the sandbox; pages are pmsync's own
# self-contained HTML and every request they make is refused). The image runs as an unprivileged user; mount pmsync.yaml (e.g. a ConfigMap at
# /etc/pmsync) and pass secrets as environment variables or files, never baked into the image.
ARG PYTHON_VERSION=3.11
FROM python:${PYTHON_VERSION}-slim

ARG EXTRAS=postgres

RUN set -eux; \
    packages=""; \
    case ",${EXTRAS}," in *,pdf,*) packages="$packages chromium-headless-shell libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core";; esac; \
    case ",${EXTRAS}," in *,mpp,*) packages="$packages default-jre-headless";; esac; \
    if [ -n "$packages" ]; then \
        apt-get update; \
        apt-get install -y --no-install-recommends $packages; \
        rm -rf /var/lib/apt/lists/*; \
    fi; \
    useradd --create-home --uid 10001 --user-group pmsync

WORKDIR /opt/pmsync-src
COPY pyproject.toml README.md ./
COPY src ./src
COPY connectors ./connectors
COPY mappings ./mappings
# A normal (not editable) install: the wheel carries the connectors, mappings and migrations.
RUN pip install --no-cache-dir ".[${EXTRAS}]" && pmsync --version

USER pmsync
WORKDIR /home/pmsync
ENV PMSYNC_CONFIG=/etc/pmsync/pmsync.yaml \
    PMSYNC_CHROMIUM_NO_SANDBOX=1
ENTRYPOINT ["pmsync"]
CMD ["--help"]
