# No `# syntax=` line: it makes BuildKit pull a Dockerfile frontend image from Docker Hub
# before anything else, which fails behind a mirror or offline. The frontend built into
# Docker (23+, BuildKit by default) and podman/buildah both understand everything used
# here, including `RUN --mount=type=cache`.

# Base images as build arguments, so a mirror or an air-gapped registry needs no edit:
#   docker build --build-arg JDK_IMAGE=registry.example/temurin:17-jdk \
#                --build-arg JRE_IMAGE=registry.example/temurin:25-jre .
# The code is Java 17 and builds on a JDK 17; it runs on a JRE 25 for its AOT cache
# (JEP 483/514/515: classes loaded and linked, and method profiles, from a training run),
# which starts the service in about half the CPU time (BENCHMARKS.md, "Start-up"). The
# runtime image must be a JDK 25 or newer: an older one rejects -XX:AOTCache.
ARG JDK_IMAGE=eclipse-temurin:17-jdk
ARG JRE_IMAGE=eclipse-temurin:25-jre

# ---------------------------------------------------------------------------
# Build stage: compile and package the Spring Boot fat jar with the committed
# Maven wrapper. The wrapper needs nothing beyond the JDK (with no curl/wget/
# unzip it downloads Maven with a small Java helper and a .tar.gz).
# ---------------------------------------------------------------------------
FROM ${JDK_IMAGE} AS build
WORKDIR /build

COPY mvnw pom.xml ./
COPY .mvn .mvn
COPY src src
# ~/.m2 (Maven itself and every dependency) lives in a build cache that outlives the
# layer, so a code or pom change does not download everything again. Tests are neither
# compiled nor run (they need Redis and a database: `./mvnw verify` runs them), and the
# formatting check belongs to `verify` too. The glob matches exactly the repackaged jar
# (Spring Boot keeps the plain one as *.jar.original); `cp` fails loudly if it ever
# matches zero or several files. The package also makes the jar's CycloneDX SBOM (the pom's
# cyclonedx-maven-plugin), shipped below.
RUN --mount=type=cache,target=/root/.m2 \
    chmod +x mvnw \
    && ./mvnw -B -q -Dmaven.test.skip=true -Dspring-javaformat.validate.skip=true package \
    && cp target/product-catalog-*.jar /build/app.jar \
    && java -Djarmode=tools -jar /build/app.jar extract --destination /build/extracted \
    && mkdir /build/sbom \
    && cp target/classes/META-INF/sbom/application.cdx.json /build/sbom/application.cdx.json

# ---------------------------------------------------------------------------
# Runtime stage: JRE only, non-root user, SQLite data on a volume, and the AOT cache
# made by a training run in this very stage (same JVM, same class path, same flags).
# ---------------------------------------------------------------------------
FROM ${JRE_IMAGE}

# /app/sbom/os-packages.txt: this stage's own operating-system packages (the base image's,
# not the build stage's), one "name<TAB>version<TAB>architecture" line each, sorted; beside
# the jar's SBOM. Made before the application is copied in, so a code change reuses it.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin app \
    && mkdir -p /app/data /app/sbom \
    && chown app:app /app/data \
    && if command -v dpkg-query >/dev/null; then \
         dpkg-query -W -f '${Package}\t${Version}\t${Architecture}\n'; \
       elif command -v rpm >/dev/null; then \
         rpm -qa --qf '%{NAME}\t%{VERSION}-%{RELEASE}\t%{ARCH}\n'; \
       else \
         echo "no dpkg or rpm in the runtime image: cannot list its packages" >&2; exit 1; \
       fi | LC_ALL=C sort >/app/sbom/os-packages.txt \
    && test -s /app/sbom/os-packages.txt

WORKDIR /app
# Spring Boot's extracted layout (app.jar and lib/): an AOT cache needs a class path of
# plain jars. It stays root-owned (read-only for the app user); only /app/data is
# writable, and /tmp (Tomcat's work folder, sqlite-jdbc's native library): keep /tmp
# writable, and executable, when the container runs with a read-only root file system.
COPY --from=build /build/extracted/ /app/
# The jar's CycloneDX SBOM (its dependencies, also inside app.jar at META-INF/sbom/).
COPY --from=build /build/sbom/application.cdx.json /app/sbom/application.cdx.json

# The JVM's flags, chosen for a small resident size under load (BENCHMARKS.md, "Resident
# memory"). The training run below uses the same ones (the JVM ignores a cache made with
# other GC or heap-layout flags); keep the two lists in step.
#   SerialGC: one GC thread and no remembered sets on 2 cores; what the JVM picks by itself
#   under 1792 MB, but not on a larger host. Heap at most 40 % of the container's memory.
#   Smaller thread stacks (Tomcat's 200 threads), code cache and metaspace bounds.
#   MALLOC_ARENA_MAX: glibc otherwise keeps up to 8 malloc arenas per core.
ENV MALLOC_ARENA_MAX=2

# The training run: Spring starts the context and exits right after the refresh (before
# Tomcat listens), while the JVM records what it loaded, linked and profiled into
# /app/app.aot. It needs a database to migrate (a throw-away file) and no Redis.
RUN DATABASE_URL=jdbc:sqlite:/tmp/aot-training/catalog.db REDIS_HOST=127.0.0.1 REDIS_PORT=1 \
    java -XX:+UseSerialGC -XX:MaxRAMPercentage=40.0 -Xss512k -XX:ReservedCodeCacheSize=64m \
         -XX:MaxMetaspaceSize=192m -XX:+ExitOnOutOfMemoryError \
         -XX:AOTCacheOutput=/app/app.aot -Dspring.context.exit=onRefresh -jar /app/app.jar \
    && rm -rf /tmp/aot-training /tmp/tomcat* /tmp/sqlite-* \
    && test -s /app/app.aot

ENV API_PORT=8080 \
    DATABASE_URL=jdbc:sqlite:/app/data/catalog.db

# OCI labels: where the image comes from and what it is. docker/build-args.sh sets source,
# version, revision and created from git and the pom, as labels of the build command
# (`docker build $(docker/build-args.sh) .`), which replace these; without it they say
# "unknown". Not build arguments here: podman's layer cache reuses a LABEL instruction
# whatever their values.
LABEL org.opencontainers.image.title="product-catalog" \
      org.opencontainers.image.description="REST service for a product catalog, cached in Redis; SBOM at /app/sbom/application.cdx.json, OS packages at /app/sbom/os-packages.txt" \
      org.opencontainers.image.source="unknown" \
      org.opencontainers.image.version="unknown" \
      org.opencontainers.image.revision="unknown" \
      org.opencontainers.image.created="unknown"

# Declared after the chown so a fresh named volume is initialised owned by app.
VOLUME ["/app/data"]
EXPOSE 8080

USER app:app

# Healthcheck without curl: eclipse-temurin images no longer promise curl/wget
# (already dropped from the 25 images, "layer it on yourself" per Adoptium),
# so rather than apt-installing it we use bash's built-in /dev/tcp (bash,
# head and grep are part of the Ubuntu base) to send a plain HTTP/1.1 request
# to GET /health and require a 200 status line.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${API_PORT:-8080} && printf 'GET /health HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]

# Exec form: java is PID 1 and gets SIGTERM directly (graceful shutdown is on).
# The heap takes at most 40 % of the memory the container may use (its limit, else the
# host's): metaspace, thread stacks, the code cache, the AOT cache's mapped file and
# Netty's direct buffers live outside the heap and need the rest. Extra JVM flags can be
# passed at run time with JAVA_TOOL_OPTIONS (a GC or heap-layout flag that differs from
# the training run's makes the JVM skip the AOT cache with a warning: slower start only).
ENTRYPOINT ["java", "-XX:+UseSerialGC", "-XX:MaxRAMPercentage=40.0", "-Xss512k", "-XX:ReservedCodeCacheSize=64m", \
            "-XX:MaxMetaspaceSize=192m", "-XX:+ExitOnOutOfMemoryError", \
            "-XX:AOTCache=/app/app.aot", "-jar", "/app/app.jar"]
