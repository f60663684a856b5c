# The real Docker Flow Swarm Listener for make e2e (tests/e2e_swarm.sh), in
# place of dockerflow/docker-flow-swarm-listener, which no registry serves
# here. The binary is upstream's program built offline from Debian's Go
# packages by ../shared/third_party/build-swarm-listener.sh (static, so the
# build context is just the directory holding it):
#
#   docker build -f tests/e2e/swarm-listener.Dockerfile \
#       -t dockerflow/docker-flow-swarm-listener build/swarm-listener
#
# The environment is the one upstream's Dockerfile sets: its code defaults
# differ (DF_USE_DOCKER_SERVICE_EVENTS and DF_USE_DOCKER_NODE_EVENTS false,
# one try and no pause between notification retries). It listens on :8080,
# hard-coded, runs as root to read the Docker socket, and has no health
# check (upstream's uses wget, which this base lacks).
FROM debian:12-slim
COPY docker-flow-swarm-listener /usr/local/bin/docker-flow-swarm-listener
ENV DF_DOCKER_HOST="unix:///var/run/docker.sock" \
    DF_NOTIFICATION_URL="" \
    DF_RETRY="50" \
    DF_RETRY_INTERVAL="5" \
    DF_NOTIFY_LABEL="com.df.notify" \
    DF_INCLUDE_NODE_IP_INFO="false" \
    DF_NODE_IP_INFO_INCLUDES_TASK_ADDRESS="true" \
    DF_SERVICE_POLLING_INTERVAL="-1" \
    DF_USE_DOCKER_SERVICE_EVENTS="true" \
    DF_NODE_POLLING_INTERVAL="-1" \
    DF_USE_DOCKER_NODE_EVENTS="true" \
    DF_SERVICE_NAME_PREFIX="" \
    DF_NOTIFY_CREATE_SERVICE_METHOD="GET" \
    DF_NOTIFY_REMOVE_SERVICE_METHOD="GET" \
    DF_NOTIFY_CREATE_SERVICE_IMMEDIATELY="false"
LABEL org.flowmon.e2e="swarm-listener built from ../shared/third_party"
EXPOSE 8080
CMD ["docker-flow-swarm-listener"]
