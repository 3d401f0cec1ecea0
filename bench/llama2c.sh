#!/bin/sh
# llama2c.sh DIR: generation speed (256 positions, median of 4 runs) of a
# stories110M-shaped model with random weights, in llmap at f32 and q8_0 on 1
# and 2 threads, and, if LLAMA2C_RUN names a build of llama2.c's run, in that
# too on the same weights. Used by `make bench-llama2c`; DIR keeps the models.
# Needs LLMAP (the llmap binary) and LLMAP_MODELS (the shared models, for the
# 32000-token tokenizer.bin). Sampling is both programs' default (temperature
# 1, top-p 0.9), so the sampler's cost is in both figures.
set -eu
dir=${1:?usage: llama2c.sh DIR}
LLMAP=${LLMAP:-bin/llmap}
tok=${LLMAP_MODELS:?set LLMAP_MODELS}/llama2c-tokenizer-32k/tokenizer.bin
mkdir -p "$dir"
[ -f "$dir/s110.bin" ] || "$LLMAP" synth --shape stories110M --format llama2c -o "$dir/s110.bin"
for q in f32 q8_0; do
	[ -f "$dir/s110-$q.llmap" ] || "$LLMAP" convert --tokenizer "$tok" --quant "$q" -o "$dir/s110-$q.llmap" "$dir/s110.bin"
done

# median of the numbers on stdin, one per line
median() { sort -n | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

echo "| program | weights | threads | tokens/s (median of 4) |"
echo "|---|---|---|---|"
if [ -n "${LLAMA2C_RUN:-}" ]; then
	for t in 1 2; do
		r=$(for s in 1 2 3 4; do
			OMP_NUM_THREADS=$t "$LLAMA2C_RUN" "$dir/s110.bin" -z "$tok" -n 256 -s "$s" 2>&1 >/dev/null |
				sed -n 's/^achieved tok\/s: \([0-9.]*\).*/\1/p'
		done | median)
		echo "| $(basename "$LLAMA2C_RUN") | f32 | $t | $r |"
	done
fi
for q in f32 q8_0; do
	for t in 1 2; do
		r=$(for s in 1 2 3 4; do
			"$LLMAP" run "$dir/s110-$q.llmap" -n 256 --seed "$s" --threads "$t" 2>&1 >/dev/null |
				sed -n 's/.*generated [0-9]* at \([0-9.]*\) tokens\/s.*/\1/p'
		done | median)
		echo "| llmap | $q | $t | $r |"
	done
done
