# The ledger's everyday commands. `make run` and `make test` are the two a
# newcomer needs; the rest are for developers.
GO        ?= go
DATA      ?= ./data
ADDR      ?= 127.0.0.1:8080
# A count of executions, not a duration: with a duration, go1.26's fuzz
# coordinator can fail a clean run with "context deadline exceeded" when the
# deadline races a worker (golang/go#75804, fixed in go1.27). A count has no
# deadline to race; a slow machine only takes longer.
FUZZTIME  ?= 100000x
# Each new input a fuzzer finds interesting is minimized, by default for up
# to 60 s: a run that finds a few large inputs (FuzzPersonalData's texts of
# 10 KB and more) took 275 s instead of 22 s, most of it minimizing; an
# unluckier run could pass go test's 10 min timeout. A count of executions
# bounds it the same way FUZZTIME does.
FUZZMINIMIZE ?= 2000x
BENCHTIME ?= 1s
BENCHCOUNT ?= 1
STATICCHECK_VERSION ?= v0.8.2

.PHONY: run test unit fuzz lint bench build clean

## run: start the ledger on the embedded store in $(DATA)
run:
	$(GO) run ./cmd/ledger serve --data $(DATA) --addr $(ADDR) --demo

## test: vet, the whole test suite with the race detector, then every fuzz target briefly
test: unit fuzz

unit:
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 30m ./...
	$(GO) test -race -count=1 -tags crashpoints ./eventstore/bolt/

# Every Fuzz function in the module, each for $(FUZZTIME) inputs: found, not listed,
# so a new target is fuzzed in CI the day it is written.
fuzz:
	@set -e; for f in $$(grep -rl --include='*_test.go' '^func Fuzz' .); do \
		dir=$$(dirname $$f); \
		for t in $$(grep -o '^func Fuzz[A-Za-z0-9_]*' $$f | sed 's/^func //'); do \
			echo "fuzz $$dir $$t ($(FUZZTIME))"; \
			$(GO) test -run='^$$' -fuzz="^$$t$$" -fuzztime=$(FUZZTIME) -fuzzminimizetime=$(FUZZMINIMIZE) $$dir; \
		done; \
	done

## lint: gofmt, go vet and staticcheck must all be clean
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

## bench: every Go benchmark; compare runs with benchstat
bench:
	$(GO) test -run='^$$' -bench=. -benchmem -benchtime=$(BENCHTIME) -count=$(BENCHCOUNT) -timeout 60m ./... | tee bench.txt

build:
	$(GO) build -o bin/ledger ./cmd/ledger

clean:
	rm -rf bin bench.txt
