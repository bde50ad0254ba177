# Thinkey build, test and run targets. Everything a fresh machine needs comes
# from the Go module proxy; blst needs cgo and gcc.
GO       ?= go
BIN      := bin/thinkey
PKGS     := ./...
export CGO_ENABLED := 1

.PHONY: all build static image run test fmt-check vet unit soak fuzz-short bench bench-quick clean

all: build

build:
	$(GO) build -trimpath -o $(BIN) ./tools/thinkey

# A static binary (blst is C, so the C runtime is linked in statically) for
# the FROM-scratch container image.
static:
	$(GO) build -trimpath -tags osusergo,netgo \
	  -ldflags '-s -w -linkmode external -extldflags "-static"' -o bin/thinkey-static ./tools/thinkey

image: static
	docker build -f deploy/Dockerfile -t thinkey:latest .

# The main job on its embedded defaults: a local testnet on 127.0.0.1 of a
# root chain and CHAINS transaction chains of MEMBERS nodes each (separate
# processes, funded accounts in out/testnet), then how to send a transfer.
# Run it again to restart stopped nodes from disk; stop it with
# ./bin/thinkey testnet down --dir out/testnet. `make run CHAINS=2` runs two
# chains on eight processes (in out/testnet-2) for cross-chain transfers.
CHAINS  ?= 1
MEMBERS ?= 4
RUNDIR  := out/testnet$(if $(filter-out 1,$(CHAINS)),-$(CHAINS))
run: build
	./$(BIN) testnet up --chains $(CHAINS) --members $(MEMBERS) --dir $(RUNDIR)

# A short benchmark run of every stage on this machine (out/bench.json).
bench-quick: build
	@mkdir -p out
	./$(BIN) bench --quick --benchtime 200ms --out out/bench.json

test: fmt-check vet unit

fmt-check:
	@files=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$files" ]; then echo "gofmt needed on:"; echo "$$files"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

unit:
	$(GO) test -race -timeout 15m $(PKGS)

# The long simulation sweeps: thousands of consensus seeds with Byzantine
# members and swarm faults, and 1,550 sharded-network seeds (2, 4 and 8
# chains, cross-chain transfers, faults); a failing seed prints its replay
# command.
soak:
	THINKEY_SOAK=1 $(GO) test -timeout 60m -run '^(TestConsensusSoak|TestShardSoak)$$' -v ./node/sim

# Each fuzz target for a short while (longer: FUZZTIME=10m make fuzz-short).
FUZZTIME ?= 20s
fuzz-short:
	@for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

bench: build
	@mkdir -p out
	./$(BIN) bench --out out/bench.json

clean:
	rm -rf bin out
