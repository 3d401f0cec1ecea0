# llmap: build, demo, tests, benchmarks. `make help` lists the targets.

GO          ?= go
BIN         := bin/llmap
MODEL_DIR   ?= ../shared/models/stories260K
OUT         := out
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
BENCHSTAT   := golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
FUZZTIME    ?= 2000x
# Packages with goroutines: run under the race detector.
RACE_PKGS   := ./runtime/... ./quant/... ./simd/...

export LLMAP_MODELS ?= $(abspath ../shared/models)

.PHONY: help build demo test test-unit test-noasm test-race fuzz lint bench bench-compare clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

build: ## build bin/llmap
	$(GO) build -o $(BIN) ./cmd/llmap

demo: build ## convert stories260K (or MODEL_DIR=...) and print a story
	@mkdir -p $(OUT)
	./$(BIN) convert --tokenizer $(MODEL_DIR)/tok512.bin -o $(OUT)/stories260K.llmap $(MODEL_DIR)/stories260K.bin
	./$(BIN) inspect $(OUT)/stories260K.llmap | head -20
	./$(BIN) run $(OUT)/stories260K.llmap -p "Once upon a time" -t 0.8 --seed 42

test: lint test-unit test-noasm test-race fuzz ## everything CI runs: lint, tests (asm, noasm, race), bounded fuzzing

test-unit: ## go test ./... with the assembly kernels
	$(GO) test -count=1 ./...

test-noasm: ## the whole suite on the pure-Go kernels
	$(GO) test -count=1 -tags noasm ./...

test-race: ## the concurrent packages under the race detector
	$(GO) test -count=1 -race $(RACE_PKGS)

fuzz: ## run every fuzz target for a bounded number of executions (FUZZTIME=2000x)
	@set -e; for pkg in $$($(GO) list ./...); do \
		for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "fuzz $$pkg $$target"; \
			$(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) $$pkg; \
		done; \
	done

lint: ## gofmt, go vet and staticcheck must be clean
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet ./...
	$(GO) vet -tags noasm ./...
	$(GO) run $(STATICCHECK) ./...

bench: ## run the benchmark suites into bench.txt (benchstat format)
	$(GO) test -run '^$$' -bench . -benchmem -count 5 ./bench/... ./quant/... ./simd/... | tee bench.txt

bench-compare: ## compare benchmarks of REF (a git ref) with the working tree
	@test -n "$(REF)" || { echo "usage: make bench-compare REF=<git ref>"; exit 2; }
	rm -rf $(OUT)/ref && git worktree add --detach $(OUT)/ref $(REF)
	cd $(OUT)/ref && $(GO) test -run '^$$' -bench . -count 5 ./bench/... ./quant/... ./simd/... > ../../bench-ref.txt || true
	git worktree remove --force $(OUT)/ref
	$(GO) test -run '^$$' -bench . -count 5 ./bench/... ./quant/... ./simd/... > bench-new.txt
	$(GO) run $(BENCHSTAT) bench-ref.txt bench-new.txt

clean: ## remove build outputs
	rm -rf bin $(OUT) bench.txt bench-ref.txt bench-new.txt
