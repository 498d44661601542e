# Image "b": the same shared stages, nothing of its own but metadata.
ARG BASE_IMAGE
FROM ${BASE_IMAGE} AS base
FROM base AS s1
ARG P=x
RUN echo "s1 $P" > /s1 && sleep 2
FROM s1 AS s2
RUN echo s2 > /s2 && sleep 2
FROM s2 AS shared
ENV X=1
FROM shared AS final
LABEL b=1
