# Container targets (docker-build, docker-repo, docker-shell, in-container): see README "Container".
