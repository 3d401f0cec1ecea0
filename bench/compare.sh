#!/bin/sh
# compare.sh REF: run the same benchmarks on git ref REF and on the working
# tree, interleaved, and print benchstat's comparison. Used by
# `make bench-compare`; settings come from the environment:
#   GO, BENCH (regexp), BENCH_PKGS, COUNT, BENCHTIME, BENCHSTAT (go run target).
# REF is exported with `git archive` into a temporary directory (no git state
# changes). The working tree's suite (suite_test.go, and matvec_test.go where
# REF has the API it needs) and the read-bandwidth
# measurement it reports against (bandwidth.go) are copied over REF's, so
# both sides run one suite and measure alike; REF keeps the rest of its bench
# package (llmap bench's harness is code under test, and its API follows
# the runtime's), and bench's other tests (paging, harness) are left out.
set -eu
ref=${1:?usage: compare.sh REF}
GO=${GO:-go}
BENCH=${BENCH:-.}
BENCH_PKGS=${BENCH_PKGS:-./bench/}
COUNT=${COUNT:-6}
BENCHTIME=${BENCHTIME:-0.5s}
root=$(pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

mkdir -p "$tmp/ref" "$tmp/bin/ref" "$tmp/bin/new"
git archive --format=tar "$ref" | tar -x -C "$tmp/ref"
rm -f "$tmp"/ref/bench/*_test.go
cp bench/suite_test.go bench/bandwidth.go bench/hugebuf_*.go "$tmp/ref/bench/"
# The MatVec suite needs the batched product API (quant.NewBatch,
# runtime.Pool.MatMul): copied only to a REF that has them.
if grep -q '^func NewBatch' "$tmp"/ref/quant/*.go 2>/dev/null &&
	grep -q '^func (p \*Pool) MatMul' "$tmp"/ref/runtime/*.go 2>/dev/null; then
	cp bench/matvec_test.go "$tmp/ref/bench/"
fi

# One test binary per package and side, built once.
for pkg in $BENCH_PKGS; do
	name=$(echo "$pkg" | tr -c 'a-zA-Z0-9\n' '_')
	(cd "$tmp/ref" && $GO test -c -o "$tmp/bin/ref/$name.test" "$pkg")
	$GO test -c -o "$tmp/bin/new/$name.test" "$pkg"
done

: > bench-ref.txt
: > bench-new.txt
# Interleave the sides run by run, so that drift in the machine's load
# affects both alike.
i=1
while [ "$i" -le "$COUNT" ]; do
	for side in ref new; do
		for pkg in $BENCH_PKGS; do
			name=$(echo "$pkg" | tr -c 'a-zA-Z0-9\n' '_')
			dir=$root/$pkg
			[ "$side" = ref ] && dir=$tmp/ref/$pkg
			echo "bench-compare: run $i/$COUNT, $side, $pkg" >&2
			(cd "$dir" && LLMAP_BENCH_MODELS=$tmp/models-$side "$tmp/bin/$side/$name.test" -test.run '^$' -test.bench "$BENCH" \
				-test.benchmem -test.count 1 -test.benchtime "$BENCHTIME") >> "$root/bench-$side.txt"
		done
	done
	i=$((i + 1))
done
$GO run "$BENCHSTAT" ref=bench-ref.txt new=bench-new.txt
