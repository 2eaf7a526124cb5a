# shapesync — developer entry points. `make run` runs the service on its
# embedded default (a private Postgres it starts itself); `make test` runs
# every test, including the end-to-end test with the official client.

GO        ?= go
BIN       := bin/shapesync
E2E_DIR   := cmd/shapesync/e2e
PKGS      := ./...

.PHONY: build run test test-long bench lint lint-deps fmt e2e-deps clean

build:
	$(GO) build -o $(BIN) ./cmd/shapesync

# Embedded mode: no DATABASE_URL, so shapesync starts its own Postgres under
# ./.shapesync/ and serves on port 3000. Ctrl-C stops both.
run: build
	./$(BIN)

e2e-deps: $(E2E_DIR)/node_modules/.package-lock.json

$(E2E_DIR)/node_modules/.package-lock.json: $(E2E_DIR)/package.json $(E2E_DIR)/package-lock.json
	cd $(E2E_DIR) && npm ci --no-audit --no-fund

# -p 1: the integration tests start private Postgres clusters and child
# processes; running one package at a time keeps their timing honest on
# 2 cores.
test: e2e-deps
	$(GO) test -race -count=1 -p 1 -timeout 60m $(PKGS)

# The long profile: the same tests with larger property-test budgets.
test-long: e2e-deps
	SHAPESYNC_LONG=1 $(GO) test -race -count=1 -p 1 -timeout 80m $(PKGS)

bench:
	$(GO) test -run '^$$' -bench . -benchmem -timeout 30m $(PKGS)

lint: lint-deps
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) tool staticcheck $(PKGS)

lint-deps:
	$(GO) run ./cmd/lintdeps

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin
