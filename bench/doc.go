// Package bench measures llmap: the harness behind `llmap bench` (prompt
// processing and generation speed, load time, peak memory, and the fraction
// of the machine's memory-read bandwidth that generation reaches), and the
// `go test -bench` suites of kernels, forward passes, tokenizers and Open.
//
// Every speed is set against a read-bandwidth measurement made in the same
// process, because generating one token reads every weight once: a figure
// that does not say how close it is to that ceiling cannot be judged.
//
// Caveats: the harness reads its memory figures from /proc/self/status, so
// they are Linux-only (zero elsewhere); peak anonymous and file-backed RSS
// are the largest values sampled after each repetition, while VmHWM is the
// kernel's own peak of their sum. Random token ids stand in for a prompt:
// the speed of a dense model does not depend on which tokens it sees.
//
// Nothing outside cmd/llmap imports this package.
package bench
