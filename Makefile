# llmap: build, demo, tests, benchmarks. `make help` lists the targets.

GO          ?= go
BIN         := bin/llmap
MODEL_DIR   ?= ../shared/models/stories260K
OUT         := out
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
BENCHSTAT   := golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
FUZZTIME    ?= 2000x
# Debian's python3 (make golden): the script needs its python3-torch.
PYTHON      ?= /usr/bin/python3
# Packages with goroutines: run under the race detector.
RACE_PKGS   := ./runtime/... ./quant/... ./simd/... ./bench/... ./internal/...

export LLMAP_MODELS ?= $(abspath ../shared/models)

.PHONY: help build cross demo test test-unit test-noasm test-tiers test-race test-arm64 arm64-tools check-arm64-words fuzz lint bench bench-compare bench-llama2c clean golden chromium screenshots

help: ## list the targets
	@grep -E '^[a-zA-Z0-9_.-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

# -buildvcs=auto records the git revision for 'llmap version' where Go can
# (a clone, not a linked worktree), even when GOFLAGS turns it off.
build: ## build bin/llmap
	$(GO) build -buildvcs=auto -o $(BIN) ./cmd/llmap

# The platforms `make cross` builds for (GOOS/GOARCH), without cgo.
CROSS       := linux/amd64 linux/arm64 darwin/arm64 darwin/amd64 windows/amd64 freebsd/amd64

cross: ## build bin/llmap-OS-ARCH for every platform in CROSS, and vet each (which compiles the tests too)
	@set -e; for p in $(CROSS); do \
		os=$${p%/*}; arch=$${p#*/}; ext=; [ $$os = windows ] && ext=.exe; \
		echo "cross $$os/$$arch"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -o $(BIN)-$$os-$$arch$$ext ./cmd/llmap; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) vet ./...; \
	done

demo: build ## convert stories260K (or MODEL_DIR=...) and print a story
	@mkdir -p $(OUT)
	./$(BIN) convert --tokenizer $(MODEL_DIR)/tok512.bin -o $(OUT)/stories260K.llmap $(MODEL_DIR)/stories260K.bin
	./$(BIN) inspect $(OUT)/stories260K.llmap | head -20
	./$(BIN) run $(OUT)/stories260K.llmap -p "Once upon a time" -t 0.8 --seed 42

test: lint test-unit test-noasm test-tiers test-race test-arm64 cross fuzz ## everything CI runs: lint, tests (asm, noasm, lower kernel tiers, race, arm64 under qemu), cross builds, bounded fuzzing

test-unit: chromium ## go test ./... with the assembly kernels
	$(GO) test -count=1 ./...

test-noasm: chromium ## the whole suite on the pure-Go kernels
	$(GO) test -count=1 -tags noasm ./...

# The kernel tiers' own tests force each tier the CPU has; these run the
# kernels' users as a CPU without AMX (Zen 4: AVX-512 only), without AVX-512
# (Zen 3) and without AVX2 would. (The Go runtime warns that it does not know
# cpu.amxtile; x/sys/cpu, which the dispatch reads, does.)
test-tiers: ## the runtime tests with AMX hidden, then the quant and runtime tests with AVX-512, then AVX2, hidden from the kernel dispatch (GODEBUG)
	GODEBUG=cpu.amxtile=off $(GO) test -count=1 ./runtime/...
	GODEBUG=cpu.avx512f=off $(GO) test -count=1 ./quant/... ./runtime/...
	GODEBUG=cpu.avx2=off $(GO) test -count=1 ./quant/... ./runtime/...

test-race: chromium ## the concurrent packages under the race detector
	$(GO) test -count=1 -race $(RACE_PKGS)

# arm64 under qemu-user: the packages with kernels and the golden outputs, on
# CPU models with and without the dot-product extension (max: every feature
# qemu has; cortex-a72: the Raspberry Pi 4's core, ARMv8.0 NEON only), the
# two side by side. Skipped there, and run natively by test-unit:
# TestTruncatedFileIsAnError (qemu-user delivers SIGBUS without the fault
# address, so Go reports a nil dereference instead of a fault);
# TestEmbeddingRowsOnly (it measures how much the host kernel maps around a
# fault, which under qemu has exceeded its allowance: 320 KiB per row).
ARM64_PKGS  := ./quant ./simd ./runtime ./format
ARM64_SKIP  := ^(TestTruncatedFileIsAnError|TestEmbeddingRowsOnly)$$
ARM64_ASM   := $(shell git ls-files '*_arm64.s')
DOTPROD_max        := 1
DOTPROD_cortex-a72 := 0

arm64-tools: # qemu-user-static and the GNU arm64 assembler, from Debian, when missing
	@command -v qemu-aarch64-static >/dev/null && command -v aarch64-linux-gnu-as >/dev/null || { \
		echo "installing qemu-user-static and binutils-aarch64-linux-gnu"; \
		{ apt-get install -y -q qemu-user-static binutils-aarch64-linux-gnu || \
		  { apt-get update -q && apt-get install -y -q qemu-user-static binutils-aarch64-linux-gnu; }; } >/dev/null; }

check-arm64-words: arm64-tools ## every WORD in the arm64 assembly encodes the instruction its comment names
	$(GO) run ./internal/armwords $(ARM64_ASM)

test-arm64: check-arm64-words ## the arm64 build under qemu: kernels, runtime, format, golden outputs; with and without SDOT
	@$(MAKE) --no-print-directory -j2 --output-sync=target test-arm64-cpu-max test-arm64-cpu-cortex-a72

test-arm64-cpu-%: arm64-tools # test-arm64 on one emulated CPU model; max adds the noasm tier
	@echo "arm64 -cpu $* (dot product: $(DOTPROD_$*))"
	LLMAP_EXPECT_DOTPROD=$(DOTPROD_$*) GOARCH=arm64 $(GO) test -count=1 -exec "qemu-aarch64-static -cpu $*" \
		-skip '$(ARM64_SKIP)' $(ARM64_PKGS)
	GOARCH=arm64 $(GO) test -count=1 -exec "qemu-aarch64-static -cpu $*" \
		-run '^(TestGolden|TestFlagsBeforeModel|TestPrompt)$$' ./cmd/llmap
	@if [ $* = max ]; then set -x; GOARCH=arm64 $(GO) test -count=1 -tags noasm -exec "qemu-aarch64-static -cpu max" ./quant ./simd; fi

# The explorer's browser tests (runtime/explore/web) drive Debian's
# Chromium; with CI=true they fail when it is missing, elsewhere they skip.
chromium: ## install Debian's chromium for the explorer's browser tests when it is missing (as root)
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || test -n "$$LLMAP_CHROMIUM" || { \
		test "$$(id -u)" = 0 || { echo "the browser tests need Chromium: apt-get install chromium (as root), or set LLMAP_CHROMIUM"; exit 0; }; \
		echo "installing chromium with apt-get"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }

screenshots: chromium ## run the explorer's browser test and keep its screenshots in docs/explorer/
	LLMAP_SCREENSHOTS=$(abspath docs/explorer) $(GO) test -count=1 -run '^TestBrowser$$' ./runtime/explore/web/

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

# Benchmarks: BENCH selects (a -bench regexp), COUNT repeats (benchstat wants
# at least 6 to judge a difference), BENCHTIME is per benchmark. The default
# run (COUNT=6) takes about 8 minutes; LLMAP_BENCH_LARGE=1 adds the 1.1B and 7B shapes.
BENCH       ?= .
BENCH_PKGS  ?= ./bench/
COUNT       ?= 6
BENCHTIME   ?= 0.5s
BENCH_OUT   ?= bench.txt

bench: ## run the benchmark suites into $(BENCH_OUT) (benchstat's input format); BENCH=regexp COUNT=n
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem -count $(COUNT) -benchtime $(BENCHTIME) -timeout 2h $(BENCH_PKGS) | tee $(BENCH_OUT)

bench-compare: ## benchmark git ref REF and the working tree alike, interleaved; print benchstat's comparison
	@test -n "$(REF)" || { echo "usage: make bench-compare REF=<git ref> [BENCH=regexp] [COUNT=n]"; exit 2; }
	GO=$(GO) BENCH='$(BENCH)' BENCH_PKGS='$(BENCH_PKGS)' COUNT=$(COUNT) BENCHTIME=$(BENCHTIME) \
		BENCHSTAT=$(BENCHSTAT) sh bench/compare.sh $(REF)

bench-llama2c: build ## generation speed on a stories110M-shaped model (LLAMA2C_RUN=path/to/run also times llama2.c's run)
	GO=$(GO) LLMAP=$(BIN) LLAMA2C_RUN='$(LLAMA2C_RUN)' sh bench/llama2c.sh $(OUT)/llama2c

bench-paging: ## llama2-7b Q8_0 under a 1 GiB cgroup, cold and warm cache (root; writes 7 GB; LLMAP_BENCH_MODELS=DIR keeps it)
	LLMAP_BENCH_PAGING=1 $(GO) test -count=1 -run '^TestPagingLlama7B$$' -v -timeout 60m ./bench/

# The reference logits come from PyTorch (float64), independent of llmap.
# CI does not run this: the JSON files it writes are committed.
golden: ## regenerate the PyTorch reference logits in testdata/reference (installs Debian's python3-torch when missing)
	@$(PYTHON) -c 'import torch, numpy' 2>/dev/null || { \
		test "$$(id -u)" = 0 || { echo "make golden needs Debian's python3-torch and python3-numpy: apt-get install python3-torch python3-numpy (as root)"; exit 1; }; \
		echo "installing python3-torch and python3-numpy with apt-get"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-torch python3-numpy; }
	$(PYTHON) testdata/reference/reference_logits.py $(LLMAP_MODELS)
	$(PYTHON) testdata/reference/explorer_reference.py $(LLMAP_MODELS)

clean: ## remove build outputs
	rm -rf bin $(OUT) bench.txt bench-ref.txt bench-new.txt
