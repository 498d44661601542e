# Debian minbase base image of the sandbox, one per TARGETARCH, from the debootstrap tarballs
# scripts/sandbox.sh caches. No `# syntax=` line: BuildKit's built-in Dockerfile frontend is
# used, so nothing is pulled.
FROM scratch
ARG TARGETARCH
ADD rootfs-${TARGETARCH}.tar /
# This machine's CA bundle, so RUN steps can fetch over HTTPS (minbase has no ca-certificates).
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
ENV LANG=C.UTF-8
CMD ["bash"]
