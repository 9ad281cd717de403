# Container targets: the build inside the LSST stack container (README "Container").
# bin/container does the work; CONTAINER_ENGINE, STACK_IMAGE, STACK_SIF, IMAGE_TAG,
# CONTAINER_RUN_OPTS and CONTAINER_BUILD_OPTS configure it; DRY_RUN=1 prints the command.

.PHONY: docker-build docker-repo docker-shell in-container runtime

##@ Container
docker-build: ## Build the image dp02-repo:<stack tag>-<revision> FROM STACK_IMAGE (apptainer: pull STACK_SIF).
	bin/container build

docker-repo: ## Run `make repo` in the container (inputs read-only, REPO/STATE_DIR read-write, your uid).
	bin/container repo

docker-shell: ## An interactive shell in the container, stack set up, same mounts.
	bin/container shell

in-container: ## Run `make TARGET` in the container (TARGET=mini-inputs, TARGET='status verify', ...).
	bin/container run $(TARGET)

runtime: ## Print where `make repo` runs (RUNTIME=auto|host|container|lite) and why.
	bin/runtime
