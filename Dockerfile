# syntax=docker/dockerfile:1
# Production-like image for the web app, the Celery worker and celery beat (one image,
# different commands: see docker-compose.yml). Configuration comes from the environment
# at run time (see .env.example); no secret is baked into the image.
#
# Debian bookworm, like the project's machines: the system package names below are
# bookworm's.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# System libraries WeasyPrint needs (Pango, HarfBuzz, libffi) and a font for letters.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 \
        libpangoft2-1.0-0 \
        libharfbuzz0b \
        libffi8 \
        fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first, so a code change does not reinstall them. pyproject.toml declares
# no packages (`packages = []`): `pip install .` installs the dependencies only, and the
# code runs from /app. README.md* : the readme pyproject names, when present.
COPY pyproject.toml README.md* ./
RUN pip install .

COPY . .

# Static files are collected at build time (WhiteNoise serves them with a manifest).
# Settings refuse to load without the secrets, so this ONE command gets throwaway,
# build-only placeholders through its own environment: they are not real secrets, are
# not stored in the image's ENV, and the running containers get the real ones.
RUN SECRET_KEY=build-only-not-a-secret \
    FIELD_ENCRYPTION_KEYS=build-only-not-a-secret \
    BLIND_INDEX_KEY=build-only-not-a-secret \
    DEBUG=false \
    python manage.py collectstatic --noinput -v 0

# Run as an unprivileged user. The code and the collected static files stay root-owned
# (read-only to the app); only var/ (media uploads and letters, local cache) is writable.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin app \
    && mkdir -p /app/var/media \
    && chown app:app /app/var /app/var/media
USER app

EXPOSE 8000
CMD ["gunicorn", "recovery.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "2", "--threads", "4"]
