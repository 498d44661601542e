# Static busybox base image of the sandbox. The binary comes from Debian's busybox-static for
# each TARGETARCH, fetched inside the sandbox's own Debian image (nothing from Docker Hub).
ARG DEBIAN
FROM ${DEBIAN} AS fetch
RUN apt-get update -qq \
 && cd /tmp && apt-get download -qq busybox-static \
 && dpkg-deb -x busybox-static_*.deb /out \
 && mkdir -p /out/etc/ssl/certs /out/tmp /out/root \
 && cp /etc/passwd /etc/group /out/etc/ \
 && cp /etc/ssl/certs/ca-certificates.crt /out/etc/ssl/certs/ \
 && chmod 1777 /out/tmp && chmod 700 /out/root

FROM scratch
COPY --from=fetch /out/bin/busybox /bin/busybox
COPY --from=fetch /out/etc /etc
COPY --from=fetch /out/tmp /tmp
COPY --from=fetch /out/root /root
RUN ["/bin/busybox", "--install", "-s", "/bin"]
CMD ["sh"]
