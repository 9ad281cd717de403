# dp02-repo on an LSST stack image: `make docker-build`, then `make docker-repo`.
# STACK_IMAGE may be any release image with lsst_distrib under /opt/lsst/software/stack,
# e.g. ghcr.io/lsst/scipipe:al9-<tag> (README "Container").
ARG STACK_IMAGE=lsstsqre/centos:7-stack-lsst_distrib-v23_0_0
FROM ${STACK_IMAGE}

ARG STACK_IMAGE
# The toolkit's git revision (the image has no .git): bin/container passes it.
ARG DP02_REVISION=unknown
# The fixed non-root user of the image; `make docker-repo` runs as the host user instead.
ARG DP02_UID=1000
ARG DP02_GID=1000

LABEL org.opencontainers.image.title="dp02-repo" \
      org.opencontainers.image.description="Builds the Rubin DP0.2 Gen3 butler repository with the LSST stack" \
      org.opencontainers.image.revision="${DP02_REVISION}" \
      org.opencontainers.image.base.name="${STACK_IMAGE}"

USER 0:0
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# make: the v23 image has it (the stack's build prerequisites); an image without it gets
# it here, at build time only. Nothing else is added to the stack image. (sed, not head:
# head closes the pipe after one line, and make's SIGPIPE then fails the RUN under pipefail.)
# hadolint ignore=DL3033,DL3041
RUN if ! command -v make >/dev/null; then \
      if command -v dnf >/dev/null; then dnf install -y make && dnf clean all; \
      else yum install -y make && yum clean all; fi; \
    fi; \
    make --version | sed -n 1p

# The toolkit (.dockerignore keeps everything else out: tests, .venv, .git, inputs).
COPY Makefile /opt/dp02-repo/
COPY mk/ /opt/dp02-repo/mk/
COPY bin/ /opt/dp02-repo/bin/
COPY py/ /opt/dp02-repo/py/
COPY etc/ /opt/dp02-repo/etc/
COPY docker/ /opt/dp02-repo/docker/
RUN chmod -R a+rX /opt/dp02-repo && chmod a+rx /opt/dp02-repo/docker/entrypoint.sh

# Any uid (docker run --user "$(id -u):$(id -g)") has a writable HOME; eups writes there.
ENV HOME=/tmp \
    LSST_STACK_DIR=/opt/lsst/software/stack \
    DP02_TOOLKIT_REVISION=${DP02_REVISION} \
    DP02_IN_CONTAINER=1
WORKDIR /opt/dp02-repo
USER ${DP02_UID}:${DP02_GID}
ENTRYPOINT ["/bin/bash", "/opt/dp02-repo/docker/entrypoint.sh"]
CMD ["make", "repo"]
