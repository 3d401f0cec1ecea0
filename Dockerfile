# llmap serve in a container: a static binary (no cgo) on a distroless base
# of about 2 MB, running as a non-root user. The model is not in the image:
# mount it read-only at /models. See docs/deploy.md.
#
#   docker build -t llmap .
#   docker run --rm -p 8080:8080 -v /srv/models:/models:ro llmap /models/model.llmap --parallel 4
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# CGO_ENABLED=0: a static binary that needs no libc in the final image.
RUN CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/llmap ./cmd/llmap

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/llmap /usr/local/bin/llmap
USER nonroot:nonroot
EXPOSE 8080
# The model file is mapped, not copied: a read-only volume is enough, and
# replicas on one node share its pages through the page cache.
VOLUME ["/models"]
ENTRYPOINT ["/usr/local/bin/llmap", "serve", "--addr", ":8080"]
CMD ["/models/model.llmap"]
