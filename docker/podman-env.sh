# Sourced by the scripts in this folder: podman settings that work on a machine with no
# systemd, a hybrid cgroup set-up and lowered hard limits (../shared/FIELD-NOTES.md,
# "Building and running the container image here"). They go into a private containers.conf
# named by CONTAINERS_CONF, so the machine's own /etc/containers stays untouched; podman,
# buildah, podman-compose and `podman system service` all read that variable.

# Hard limits of this shell, capped as podman's defaults (1048576 open files) exceed them
# here and the container start then fails with "setrlimit ... operation not permitted".
podman_env_limit() {
  local hard
  hard="$(ulimit -H "$1")"
  if [ "$hard" = unlimited ] || [ "$hard" -gt 32768 ]; then
    hard=32768
  fi
  echo "$hard"
}

podman_env_setup() {
  local dir="$1"
  local nofile nproc
  nofile="$(podman_env_limit -n)"
  nproc="$(podman_env_limit -u)"
  # runc: crun fails here with "cgroups in hybrid mode not supported". cgroupfs and a file
  # event log: there is no systemd to talk to.
  cat >"$dir/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=${nproc}:${nproc}"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
  export CONTAINERS_CONF="$dir/containers.conf"
}
