# Every variable may be overridden, e.g. make test TEST_FLAGS=-v PKGS=./inventory/...
GO ?= go
GOFMT ?= gofmt
WITH_POSTGRES ?= scripts/with-postgres
# Announces each step of make test and reports while it runs silently.
PROGRESS ?= scripts/progress
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
# Recursive (=) so that only the targets that need them pay for asking go.
TOOLBIN = $(or $(shell $(GO) env GOBIN),$(shell $(GO) env GOPATH)/bin)
SQLC = $(TOOLBIN)/sqlc
STRIPE_MOCK = $(TOOLBIN)/stripe-mock
# How make dev, scripts/walkthrough and scripts/build-image build the static
# binary (with CGO_ENABLED=0): the same flags, so they share the build cache.
BUILD_FLAGS = -trimpath -ldflags='-s -w'
# make dev's binary, and the directory where it records what it runs.
DEV_BIN ?= bin/checkoutd
DEV_RUN_DIR ?= .dev
# The container builder: podman, else docker; make image skips without one.
CONTAINER ?= $(shell command -v podman 2>/dev/null || command -v docker 2>/dev/null)
IMAGE ?= localhost/checkoutd:dev

# The steps of make test, run in this order; each is a target below. To add
# a step, add its target here. TEST_DB_STEPS run inside one PostgreSQL that
# test-db provides (scripts/with-postgres), with DATABASE_URL set.
TEST_STEPS ?= test-format test-vet test-db test-walkthrough test-image
TEST_DB_STEPS ?= test-go test-typescript test-fuzz clean-testdb

# The steps depend on their order, so make runs one target at a time.
.NOTPARALLEL:
.PHONY: test $(TEST_STEPS) $(TEST_DB_STEPS) fuzz dev stop generate bench build stripe-mock soak image chromium

test: $(TEST_STEPS)
	@echo "==> make test: every step passed"

test-format:
	@echo "==> gofmt"
	@unformatted=$$(find . \( -path './.*' -o -name testdata \) -prune -o -name '*.go' -exec $(GOFMT) -l {} +); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi

test-vet:
	@$(PROGRESS) "go vet $(PKGS) (a cold build cache compiles everything first: minutes)" $(GO) vet $(PKGS)

# --ephemeral only matters when with-postgres has to start a server: it then
# uses a throwaway one with fsync off.
test-db: stripe-mock chromium
	@STRIPE_MOCK_BIN=$(STRIPE_MOCK) $(WITH_POSTGRES) --ephemeral $(MAKE) --no-print-directory $(TEST_DB_STEPS)

test-go:
	@$(PROGRESS) "go test $(TEST_FLAGS) $(PKGS) against PostgreSQL (packages report as they finish)" \
		$(GO) test $(TEST_FLAGS) $(PKGS)

# The TypeScript client (clients/typescript) against a real checkoutd that its
# test runner builds and starts on a database of its own.
# Alone (make test-typescript) it finds or starts a PostgreSQL itself.
test-typescript: stripe-mock clients/typescript/node_modules/.package-lock.json
	@STRIPE_MOCK_BIN=$(STRIPE_MOCK) $(PROGRESS) "TypeScript client tests (Node, and the Worker example in workerd)" \
		$(WITH_POSTGRES) --ephemeral sh -c 'cd clients/typescript && npm test --silent'

# npm ci, again only when the lock file changes (npm writes this file last).
clients/typescript/node_modules/.package-lock.json: clients/typescript/package-lock.json
	@$(PROGRESS) "npm ci in clients/typescript" sh -c 'cd clients/typescript && npm ci --no-audit --no-fund --loglevel=error'

# Fuzzes the webhook body parsing briefly, under CI only.
test-fuzz:
	@if [ -n "$$CI" ]; then $(PROGRESS) "fuzz webhooks for $(FUZZ_TIME) (CI is set)" \
		$(GO) test -run '^$$' -fuzz FuzzVerifyAndProcess -fuzztime $(FUZZ_TIME) -fuzzminimizetime 10x ./webhooks/; fi

# Drops the test databases (internal/testdb) nobody is connected to from the
# server TEST_DATABASE_URL or DATABASE_URL names, else 127.0.0.1:5432; make
# test runs it when its tests end. CLEAN_TESTDB_FLAGS=--template drops the
# migrated template too.
clean-testdb:
	@$(PROGRESS) "drop the test databases" $(GO) run ./scripts/cleantestdb $(CLEAN_TESTDB_FLAGS)

# Does what the README's walk-through does, from an empty database: a
# checkout, its hold, the payment event, the stock gone down, the ledger
# clean; then make stop.
test-walkthrough: stripe-mock
	@STRIPE_MOCK_BIN=$(STRIPE_MOCK) $(PROGRESS) "the README's walk-through (scripts/walkthrough)" scripts/walkthrough

test-image:
	@$(PROGRESS) "build the container image (make image)" $(MAKE) --no-print-directory image

# Fuzzes the webhook body parsing for a while; make test does it briefly under CI.
fuzz:
	$(WITH_POSTGRES) --ephemeral $(GO) test -run '^$$' -fuzz FuzzVerifyAndProcess -fuzztime $(FUZZ_TIME) -fuzzminimizetime 10x ./webhooks/

# Runs the real binary under load and faults against a private PostgreSQL,
# then checks the invariants (docs/reliability.md). Not part of make test.
soak:
	@bin=$$(mktemp -d "$${TMPDIR:-/tmp}/checkoutd-soak-bin.XXXXXX") && trap 'rm -rf "$$bin"' EXIT && \
	$(GO) build -o "$$bin/checkoutd" ./cmd/checkoutd && "$$bin/checkoutd" soak --duration $(SOAK_DURATION) $(SOAK_FLAGS)

# Builds the binary and runs it (not go run, whose child would outlive a
# kill), after checking the port is free and before PostgreSQL starts.
dev: stripe-mock
	@CGO_ENABLED=0 $(PROGRESS) "build $(DEV_BIN)" $(GO) build $(BUILD_FLAGS) -o $(DEV_BIN) ./cmd/checkoutd
	@$(DEV_BIN) dev --preflight --run-dir $(DEV_RUN_DIR)
	@STRIPE_MOCK_BIN=$(STRIPE_MOCK) WITH_POSTGRES_RECORD=$(DEV_RUN_DIR)/postgres \
		$(WITH_POSTGRES) $(DEV_BIN) dev --run-dir $(DEV_RUN_DIR)

# Stops what make dev started: the server, stripe-mock, its private PostgreSQL.
stop:
	@scripts/dev-stop $(DEV_RUN_DIR)

# Installs stripe-mock at the pinned version (a Go program, from the module
# proxy) unless that version is already there; the stamp file records which.
stripe-mock:
	@[ -x $(STRIPE_MOCK) ] && [ "$$(cat $(STRIPE_MOCK).version 2>/dev/null)" = "$(STRIPE_MOCK_VERSION)" ] || \
		{ GOBIN=$(TOOLBIN) $(PROGRESS) "install stripe-mock $(STRIPE_MOCK_VERSION) (once)" \
			$(GO) install github.com/stripe/stripe-mock@$(STRIPE_MOCK_VERSION) && echo $(STRIPE_MOCK_VERSION) > $(STRIPE_MOCK).version; }

# Builds the container image from Containerfile with podman or docker, or
# says why it cannot and succeeds: the image is not needed to develop.
image:
	@scripts/build-image "$(CONTAINER)" "$(IMAGE)"

# The console's and the storefront's browser tests drive Debian's chromium; installed (as root)
# only when it is not there already.
chromium:
	@[ -x /usr/bin/chromium ] || { [ "$$(id -u)" = 0 ] && { apt-get install -y chromium || { apt-get update && apt-get install -y chromium; }; }; } || \
		echo "chromium is missing and this is not root: the console's browser tests will skip"

generate:
	@[ "$$($(SQLC) version 2>/dev/null)" = "$(SQLC_VERSION)" ] || GOBIN=$(TOOLBIN) $(GO) install github.com/sqlc-dev/sqlc/cmd/sqlc@$(SQLC_VERSION)
	$(SQLC) generate

bench:
	$(WITH_POSTGRES) $(GO) test -run '^$$' -bench . -benchmem ./inventory/...

build:
	$(GO) build -o bin/checkoutd ./cmd/checkoutd

# Measures holds and reads over HTTP against pgbench's bare statements, side
# by side in one run, and prints the ratios (docs/benchmarks.md). Not part
# of make test; starts a private PostgreSQL if none answers.
.PHONY: bench-ceiling
bench-ceiling:
	scripts/bench-ceiling
