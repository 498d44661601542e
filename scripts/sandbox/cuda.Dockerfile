# Stand-in for the CUDA base (docker.io/nvidia/cuda:*-base) in the sandbox, where Docker Hub and
# NVIDIA's repositories are unreachable: the sandbox's Debian image with the environment the
# CUDA base images set. Enough to build the cuda flavour and run its non-GPU tests; GPU runtime
# checks are skipped on CPU builders anyway. Never pushed outside the sandbox registry.
ARG DEBIAN
FROM ${DEBIAN}
ENV CUDA_VERSION=12.4.1 \
    NVIDIA_REQUIRE_CUDA=cuda>=12.4 \
    NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility \
    PATH=/usr/local/nvidia/bin:/usr/local/cuda/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LD_LIBRARY_PATH=/usr/local/nvidia/lib:/usr/local/nvidia/lib64
LABEL dev.factory.sandbox.stand-in-for=docker.io/nvidia/cuda:12.4.1-base-ubuntu22.04
