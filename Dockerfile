# syntax=docker/dockerfile:1
# Build: the Swift toolchain compiles a static-stdlib release binary.
FROM swift:6.3-noble AS build
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
# The binary and its resource bundles (openapi.yaml, the console's templates and assets), which
# it looks for beside itself.
RUN swift build -c release --static-swift-stdlib --product switchboard \
 && bin="$(swift build -c release --show-bin-path)" \
 && install -D "$bin/switchboard" /out/switchboard \
 && cp -R "$bin"/*.resources /out/

# Run: the same Ubuntu release as the build (its glibc), slim, with what the binary and the voice pipeline call on (espeak-ng speaks
# greetings when no speech service is configured), as a user without privileges.
FROM ubuntu:24.04
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl libcurl4 libxml2 tzdata espeak-ng \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home /var/lib/switchboard --create-home switchboard
COPY --from=build /out/ /usr/local/bin/
USER switchboard
WORKDIR /var/lib/switchboard
ENV SWITCHBOARD_HOST=0.0.0.0 \
    SWITCHBOARD_PORT=8080 \
    SWITCHBOARD_DATABASE_URL=sqlite:///var/lib/switchboard/switchboard.sqlite \
    SWITCHBOARD_RECORDINGS_DIR=/var/lib/switchboard/recordings
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s CMD ["curl", "-fsS", "http://127.0.0.1:8080/health/ready"]
ENTRYPOINT ["/usr/local/bin/switchboard"]
CMD ["serve"]
