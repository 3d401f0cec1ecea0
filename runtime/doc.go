// Package runtime runs transformer language models stored in .llmap files.
//
// A Model holds three kinds of data, kept apart as in llama2.c: Config (the
// hyperparameters, format/arch's Config), Weights (read-only views into the
// file's mapping) and State (one sequence's KV cache, allocated once per
// context). The forward pass allocates nothing per token.
//
// There is one forward pass, ForwardBatch, built from the pieces the
// model's family names (format/arch): it runs a Batch of rows, each a token
// at a position of some State, so several sequences decode in one pass over
// the weights. Forward (one token) and Prefill (one sequence's prompt) are
// batches of one sequence.
//
// Weights point into a read-only memory mapping of the model file. They are
// valid until Model.Close; writing to them faults. If the file is truncated
// or replaced while a model is open, touching a missing page raises SIGBUS;
// Forward, Prefill, ForwardBatch and Generate turn that into an error
// instead of a crash.
package runtime
