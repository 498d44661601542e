# A test target: runs on the image it takes as the `img` context.
FROM img AS t
RUN ls / > /out.txt && sleep 1
FROM scratch AS results
COPY --from=t /out.txt /
