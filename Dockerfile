# flowmon images, on Debian 12 like the build and the tests (.ci/deps.sh):
#
#   docker build --target flowmon -t flowmon .
#       flowmon alone, with promtool for its rule checks, for the split
#       layout: a Prometheus image mounts the same volume
#       (compose/split.yml).
#   docker build --target flowmon-prometheus -t flowmon-prometheus .
#       the drop-in layout of Docker Flow Monitor: flowmon writes
#       Prometheus's config from DFM's variables and runs Debian's
#       Prometheus as its child (compose/dfm-proxy.yml). It is flowmon
#       plus Prometheus, and the last stage: a plain `docker build .`
#       gives it.
#
# The order of the stages matters: the legacy builder (DOCKER_BUILDKIT=0)
# builds every stage up to the target, BuildKit only those the target
# uses. Every stage before a target here is one that target uses, so both
# builders build the same stages: `--target flowmon` never installs
# Prometheus, `--target flowmon-prometheus` builds nothing it does not ship.
#
# Packages come only through apt-get from the base image's own sources.
# Both targets run as the unprivileged user flowmon (uid 10001) and answer
# the health check on /v1/docker-flow-monitor/ping. flowmon is PID 1: give
# the service `init: true` (docker run --init) so an orphaned process is
# reaped.

# ---------------------------------------------------------------- build
# The build half of .ci/deps.sh's list (the rest is for the tests).
FROM debian:12-slim AS build
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update -q \
 && apt-get install -y -q --no-install-recommends \
        build-essential pkg-config libmicrohttpd-dev libcjson-dev \
        libyaml-dev libcurl4-openssl-dev \
 && apt-get clean && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile ./
COPY src/ src/
COPY etc/ etc/
RUN make -j"$(nproc)" CI=1 B=build build/flowmon \
 && strip build/flowmon \
 && ./build/flowmon --version

# ------------------------------------------------------------- promtool
# promtool comes in Debian's prometheus package; flowmon needs only that
# binary (static Go, libc only), so the package is downloaded and unpacked
# here, not installed: no Prometheus server, no web UI libraries.
FROM debian:12-slim AS promtool
WORKDIR /tmp/promtool
RUN apt-get update -q \
 && apt-get download prometheus \
 && dpkg-deb -x prometheus_*.deb pkg \
 && install -m 0755 pkg/usr/bin/promtool /usr/local/bin/promtool \
 && rm -rf /tmp/promtool /var/lib/apt/lists/* \
 && promtool --version

# -------------------------------------------------------------- flowmon
# The run-time libraries of the build's -dev packages, curl for the health
# check, CA certificates for https reload and swarm-listener URLs.
FROM debian:12-slim AS flowmon
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update -q \
 && apt-get install -y -q --no-install-recommends \
        libmicrohttpd12 libcjson1 libyaml-0-2 libcurl4 curl ca-certificates \
 && apt-get clean && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/flowmon \
        --no-create-home --shell /usr/sbin/nologin flowmon \
 && install -d -o flowmon -g flowmon -m 0755 /var/lib/flowmon
COPY --from=promtool /usr/local/bin/promtool /usr/bin/promtool
COPY --from=build /src/build/flowmon /usr/local/bin/flowmon
COPY etc/prometheus.yml etc/shortcuts.yaml /usr/share/doc/flowmon/
ENV FLOWMON_LISTEN=0.0.0.0:8080 \
    FLOWMON_DATA_DIR=/var/lib/flowmon \
    FLOWMON_PROMTOOL=/usr/bin/promtool
VOLUME ["/var/lib/flowmon"]
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD curl -fsS -o /dev/null http://127.0.0.1:8080/v1/docker-flow-monitor/ping || exit 1
USER flowmon
ENTRYPOINT ["/usr/local/bin/flowmon"]

# --------------------------------------------------- flowmon-prometheus
# Docker Flow Monitor's layout: one container, Prometheus on 9090 as
# flowmon's child. Debian's prometheus package takes over the promtool
# flowmon already has. The ENV below is DFM's image defaults (Debian's
# paths for the consoles), so DFM stacks run unchanged: their GLOBAL_*,
# ARG_*, ALERTING__*, REMOTE_*, SCRAPE_CONFIGS_* and CONFIGS_DIR keep
# working. The config goes to ARG_CONFIG_FILE, rewritten at every start.
#
# dpkg leaves out libjs-moment-timezone's raw time-zone data (212 MB): the
# web UI loads only its moment-timezone-with-data.min.js.
FROM flowmon AS flowmon-prometheus
USER root
ARG DEBIAN_FRONTEND=noninteractive
RUN echo 'path-exclude=/usr/share/javascript/moment-timezone/data/*' \
        >/etc/dpkg/dpkg.cfg.d/flowmon-no-tzdata-js \
 && apt-get update -q \
 && apt-get install -y -q --no-install-recommends prometheus \
 && apt-get clean && rm -rf /var/lib/apt/lists/* \
 && install -d -o flowmon -g flowmon -m 0755 /prometheus \
 && chown flowmon:flowmon /etc/prometheus
ENV FLOWMON_RUN_PROMETHEUS=/usr/bin/prometheus \
    GLOBAL_SCRAPE_INTERVAL=10s \
    ARG_CONFIG_FILE=/etc/prometheus/prometheus.yml \
    ARG_STORAGE_TSDB_PATH=/prometheus \
    ARG_WEB_CONSOLE_LIBRARIES=/etc/prometheus/console_libraries \
    ARG_WEB_CONSOLE_TEMPLATES=/etc/prometheus/consoles \
    CONFIGS_DIR=/run/secrets
VOLUME ["/prometheus"]
EXPOSE 8080 9090
USER flowmon
