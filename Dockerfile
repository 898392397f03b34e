# syntax=docker/dockerfile:1

# ---------------------------------------------------------------------------
# Build stage: compile and package the Spring Boot fat jar with the committed
# Maven wrapper. The wrapper needs nothing beyond the JDK (with no curl/wget/
# unzip it downloads Maven with a small Java helper and a .tar.gz).
# ---------------------------------------------------------------------------
FROM eclipse-temurin:17-jdk AS build
WORKDIR /build

# Dependencies first, so this layer is reused until pom.xml or the wrapper changes.
COPY mvnw pom.xml ./
COPY .mvn .mvn
RUN chmod +x mvnw && ./mvnw -B -q dependency:go-offline

COPY src src
# The glob matches exactly the repackaged jar (Spring Boot keeps the plain one as
# *.jar.original); `cp` fails loudly if it ever matches zero or several files.
RUN ./mvnw -B -q -DskipTests package \
    && cp target/product-catalog-*.jar /build/app.jar

# ---------------------------------------------------------------------------
# Runtime stage: JRE only, non-root user, SQLite data on a volume.
# ---------------------------------------------------------------------------
FROM eclipse-temurin:17-jre

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin app \
    && mkdir -p /app/data \
    && chown app:app /app/data

WORKDIR /app
# The jar stays root-owned (read-only for the app user); only /app/data is writable.
COPY --from=build /build/app.jar /app/app.jar

ENV API_PORT=8080 \
    DATABASE_URL=jdbc:sqlite:/app/data/catalog.db

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
# Extra JVM flags can be passed at run time with JAVA_TOOL_OPTIONS.
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=75.0", "-XX:+ExitOnOutOfMemoryError", "-jar", "/app/app.jar"]
