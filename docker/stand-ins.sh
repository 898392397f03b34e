#!/usr/bin/env bash
# Makes the stand-in base images that replace Docker Hub's eclipse-temurin and redis images
# on a machine that cannot reach Docker Hub: a Debian minbase from debootstrap, and on it a
# JDK, a JRE and a Redis image from Debian's packages, and a JDK 25 runtime (Debian bookworm
# has no JDK 25 package: the machine's own Temurin 25 is copied in). Each image is built only when absent,
# so the first run takes minutes and later runs nothing. Run as root with podman installed.
#
# Usage: docker/stand-ins.sh            (prints the image names it guarantees)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=podman-env.sh
. "$here/podman-env.sh"

STAND_IN_BASE=localhost/catalog-stand-in/debian-minbase:bookworm
STAND_IN_JDK=localhost/catalog-stand-in/jdk:17
STAND_IN_JRE=localhost/catalog-stand-in/jre:17
STAND_IN_REDIS=localhost/catalog-stand-in/redis:7
STAND_IN_POSTGRES=localhost/catalog-stand-in/postgres:15
STAND_IN_JRE25=localhost/catalog-stand-in/jre:25
# The JDK 25 the stand-in for eclipse-temurin:25-jre is made of (a Temurin build on the host).
HOST_JDK25="${HOST_JDK25:-/usr/lib/jvm/temurin-25-jdk-amd64}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if [ -z "${CONTAINERS_CONF:-}" ]; then
  podman_env_setup "$work"
fi

have_image() {
  podman image exists "$1"
}

# The mirror this machine's apt already uses (deb822 or one-line format), so debootstrap
# and apt inside the images reach the same place.
debian_mirror() {
  local uri
  uri="$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' \
    | grep -v security | head -n 1)" || true
  if [ -z "$uri" ]; then
    uri="$(grep -hs '^deb ' /etc/apt/sources.list | awk '{print $2}' | head -n 1)" || true
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}

build_base() {
  local rootfs="$work/rootfs"
  echo "stand-ins: debootstrap minbase bookworm (a few minutes)"
  # --variant=minbase has bash, coreutils, grep and passwd (groupadd/useradd): all the
  # Dockerfile and its HEALTHCHECK use.
  timeout 1800 debootstrap --variant=minbase bookworm "$rootfs" "$(debian_mirror)" >"$work/debootstrap.log" 2>&1 \
    || { tail -n 20 "$work/debootstrap.log" >&2; return 1; }
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | podman import - "$STAND_IN_BASE" >/dev/null 2>&1
  rm -rf "$rootfs"
}

# Builds NAME from a Containerfile given on stdin, with files of $work/ctx as context.
# --network host: apt inside the build reaches the mirror the way the host does.
build_from() {
  local name="$1"
  echo "stand-ins: building $name"
  cat >"$work/ctx/Containerfile"
  timeout 1800 podman build --network host --format docker -t "$name" -f "$work/ctx/Containerfile" "$work/ctx" \
    >"$work/build.log" 2>&1 || { tail -n 30 "$work/build.log" >&2; return 1; }
}

mkdir -p "$work/ctx"
have_image "$STAND_IN_BASE" || build_base

if ! have_image "$STAND_IN_JDK"; then
  # Outbound TLS here passes an intercepting proxy whose CA only the machine's own Java trust
  # store holds, so the Maven build inside the image gets that trust store. Only the stand-in
  # carries it; the Dockerfile users see knows nothing of it.
  cp -L /etc/ssl/certs/java/cacerts "$work/ctx/cacerts"
  build_from "$STAND_IN_JDK" <<CF
FROM $STAND_IN_BASE
RUN apt-get update && apt-get install -y --no-install-recommends openjdk-17-jdk-headless \
    && rm -rf /var/lib/apt/lists/*
COPY cacerts /etc/ssl/certs/java/cacerts
ENV JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64
CF
fi

if ! have_image "$STAND_IN_JRE"; then
  build_from "$STAND_IN_JRE" <<CF
FROM $STAND_IN_BASE
RUN apt-get update && apt-get install -y --no-install-recommends openjdk-17-jre-headless \
    && rm -rf /var/lib/apt/lists/*
ENV JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64
CF
fi

if ! have_image "$STAND_IN_JRE25"; then
  [ -x "$HOST_JDK25/bin/java" ] || { echo "stand-ins: no JDK 25 at $HOST_JDK25 (set HOST_JDK25)" >&2; exit 1; }
  # Laid out as eclipse-temurin:25-jre has it: /opt/java/openjdk, on the PATH. The host's
  # cacerts is a link into Debian's ca-certificates-java, absent from the image: copy the
  # file it points to.
  cp -a "$HOST_JDK25" "$work/ctx/openjdk"
  rm -rf "$work/ctx/openjdk/man" "$work/ctx/openjdk/include" "$work/ctx/openjdk/lib/src.zip"
  rm -f "$work/ctx/openjdk/lib/security/cacerts"
  cp -L "$HOST_JDK25/lib/security/cacerts" "$work/ctx/openjdk/lib/security/cacerts"
  build_from "$STAND_IN_JRE25" <<CF
FROM $STAND_IN_BASE
COPY openjdk /opt/java/openjdk
ENV JAVA_HOME=/opt/java/openjdk \
    PATH=/opt/java/openjdk/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
RUN java -version
CF
  rm -rf "$work/ctx/openjdk"
fi

if ! have_image "$STAND_IN_REDIS"; then
  # Like the official image: a command starting with "-" is run by redis-server, and
  # protected mode is off (Debian's build keeps it on, which refuses connections arriving
  # through a port mapping or a container network when no password is set). A later
  # --protected-mode on the command line still wins.
  cat >"$work/ctx/redis-entrypoint.sh" <<'SH'
#!/bin/sh
set -e
if [ "${1#-}" != "$1" ]; then
  set -- redis-server "$@"
fi
if [ "$1" = redis-server ]; then
  shift
  set -- redis-server --protected-mode no "$@"
fi
exec "$@"
SH
  chmod 755 "$work/ctx/redis-entrypoint.sh"
  build_from "$STAND_IN_REDIS" <<CF
FROM $STAND_IN_BASE
RUN apt-get update && apt-get install -y --no-install-recommends redis-server \
    && rm -rf /var/lib/apt/lists/*
COPY redis-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
EXPOSE 6379
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
CMD ["redis-server"]
CF
fi

if ! have_image "$STAND_IN_POSTGRES"; then
  # Like the official postgres image, as far as docker-compose.yml uses it: POSTGRES_USER,
  # POSTGRES_PASSWORD (required, as there) and POSTGRES_DB create the database on the first
  # start, in PGDATA (/var/lib/postgresql/data); clients on the network log in with the
  # password (scram-sha-256). Started as root, it drops to the postgres user.
  cat >"$work/ctx/postgres-entrypoint.sh" <<'SH'
#!/bin/sh
set -e
bin=/usr/lib/postgresql/15/bin
PGDATA="${PGDATA:-/var/lib/postgresql/data}"
export PGDATA
if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chown postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -z "${POSTGRES_PASSWORD:-}" ]; then
    echo "postgres: POSTGRES_PASSWORD is empty: the database is not initialised without a password" >&2
    exit 1
  fi
  user="${POSTGRES_USER:-postgres}"
  pwfile="$(mktemp)"
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  "$bin/initdb" -D "$PGDATA" -U "$user" --pwfile="$pwfile" --encoding=UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  rm -f "$pwfile"
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  db="${POSTGRES_DB:-$user}"
  if [ "$db" != postgres ]; then
    echo "CREATE DATABASE \"$db\" OWNER \"$user\";" | "$bin/postgres" --single -D "$PGDATA" postgres >/dev/null
  fi
fi
exec "$bin/postgres" -D "$PGDATA" -c listen_addresses='*' "$@"
SH
  chmod 755 "$work/ctx/postgres-entrypoint.sh"
  # The package makes a cluster of its own on install; the entrypoint makes the one used.
  build_from "$STAND_IN_POSTGRES" <<CF
FROM $STAND_IN_BASE
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-15 \
    && rm -rf /var/lib/apt/lists/* /var/lib/postgresql/15 /etc/postgresql/15
COPY postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
EXPOSE 5432
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
CF
fi

echo "stand-ins: $STAND_IN_BASE $STAND_IN_JDK $STAND_IN_JRE $STAND_IN_JRE25 $STAND_IN_REDIS $STAND_IN_POSTGRES"
