# Every variable may be overridden, e.g. make test TEST_FLAGS=-v PKGS=./inventory/...
GO ?= go
GOFMT ?= gofmt
WITH_POSTGRES ?= scripts/with-postgres
PKGS ?= ./...
TEST_FLAGS ?= -race -count=1
FUZZ_TIME ?= 10s
# How long make soak runs its clients and faults; SOAK_FLAGS adds flags
# (checkoutd soak -h), e.g. SOAK_FLAGS='--seed 42'.
SOAK_DURATION ?= 5m
SOAK_FLAGS ?=
SQLC_VERSION ?= v1.27.0
# stripe-mock checks our Stripe requests against Stripe's own API schema.
STRIPE_MOCK_VERSION ?= v0.203.0
# Recursive (=) so that only make generate pays for asking go.
TOOLBIN = $(or $(shell $(GO) env GOBIN),$(shell $(GO) env GOPATH)/bin)
SQLC = $(TOOLBIN)/sqlc
STRIPE_MOCK = $(TOOLBIN)/stripe-mock

.PHONY: test fuzz dev generate bench build stripe-mock soak chromium

# --ephemeral only matters when with-postgres has to start a server: it then
# uses a throwaway one with fsync off.
test: stripe-mock chromium
	@unformatted=$$(find . \( -path './.*' -o -name testdata \) -prune -o -name '*.go' -exec $(GOFMT) -l {} +); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	@$(GO) vet $(PKGS)
	@STRIPE_MOCK_BIN=$(STRIPE_MOCK) $(WITH_POSTGRES) --ephemeral sh -c '$(GO) test $(TEST_FLAGS) $(PKGS) && \
		if [ -n "$$CI" ]; then $(GO) test -run "^$$" -fuzz FuzzVerifyAndProcess -fuzztime $(FUZZ_TIME) -fuzzminimizetime 10x ./webhooks/; fi'

# Fuzzes the webhook body parsing for a while; make test does it briefly under CI.
fuzz:
	$(WITH_POSTGRES) --ephemeral $(GO) test -run '^$$' -fuzz FuzzVerifyAndProcess -fuzztime $(FUZZ_TIME) -fuzzminimizetime 10x ./webhooks/

# Runs the real binary under load and faults against a private PostgreSQL,
# then checks the invariants (docs/reliability.md). Not part of make test.
soak:
	@bin=$$(mktemp -d "$${TMPDIR:-/tmp}/checkoutd-soak-bin.XXXXXX") && trap 'rm -rf "$$bin"' EXIT && \
	$(GO) build -o "$$bin/checkoutd" ./cmd/checkoutd && "$$bin/checkoutd" soak --duration $(SOAK_DURATION) $(SOAK_FLAGS)

dev: stripe-mock
	STRIPE_MOCK_BIN=$(STRIPE_MOCK) $(WITH_POSTGRES) $(GO) run ./cmd/checkoutd dev

# Installs stripe-mock at the pinned version (a Go program, from the module
# proxy) unless that version is already there; the stamp file records which.
stripe-mock:
	@[ -x $(STRIPE_MOCK) ] && [ "$$(cat $(STRIPE_MOCK).version 2>/dev/null)" = "$(STRIPE_MOCK_VERSION)" ] || \
		{ GOBIN=$(TOOLBIN) $(GO) install github.com/stripe/stripe-mock@$(STRIPE_MOCK_VERSION) && echo $(STRIPE_MOCK_VERSION) > $(STRIPE_MOCK).version; }

# The console's browser tests drive Debian's chromium; installed (as root)
# only when it is not there already.
chromium:
	@[ -x /usr/bin/chromium ] || { [ "$$(id -u)" = 0 ] && apt-get install -y chromium; } || \
		echo "chromium is missing and this is not root: the console's browser tests will skip"

generate:
	@[ "$$($(SQLC) version 2>/dev/null)" = "$(SQLC_VERSION)" ] || GOBIN=$(TOOLBIN) $(GO) install github.com/sqlc-dev/sqlc/cmd/sqlc@$(SQLC_VERSION)
	$(SQLC) generate

bench:
	$(WITH_POSTGRES) $(GO) test -run '^$$' -bench . -benchmem ./inventory/...

build:
	$(GO) build -o bin/checkoutd ./cmd/checkoutd
