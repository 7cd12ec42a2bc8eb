# Vectra for servers: one image runs the web app (`vectra serve`) or a worker (`vectra worker`).
# Build: docker build -t vectra .   (see compose.yaml for app + worker + PostgreSQL/pgvector)
FROM node:20-bookworm-slim AS assets
WORKDIR /build
COPY src/vectra/web/frontend/package.json src/vectra/web/frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error \
 && mkdir vendor \
 && cp node_modules/@picocss/pico/css/pico.min.css node_modules/htmx.org/dist/htmx.min.js \
       node_modules/chart.js/dist/chart.umd.js node_modules/swagger-ui-dist/swagger-ui-bundle.js \
       node_modules/swagger-ui-dist/swagger-ui.css vendor/

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    VECTRA_DATA_DIR=/var/lib/vectra
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-client \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /var/lib/vectra --create-home vectra
WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
COPY --from=assets /build/vendor ./src/vectra/web/static/vendor
RUN pip install .
USER vectra
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz').status == 200 else 1)"
CMD ["vectra", "serve", "--host", "0.0.0.0", "--port", "8000"]
