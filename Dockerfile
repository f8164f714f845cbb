# One image for every mwledger stage; the command picks the stage.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /mwledger ./cmd/mwledger

FROM gcr.io/distroless/static-debian12
COPY --from=build /mwledger /mwledger
COPY sources.example.yaml /etc/mwledger/sources.yaml
ENTRYPOINT ["/mwledger"]
