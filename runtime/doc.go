// Package runtime runs transformer language models stored in .llmap files.
//
// # Generating text
//
// Open maps a model file; NewSession allocates one sequence (its KV cache);
// Generate streams the reply as an iterator:
//
//	m, err := runtime.Open("stories260K.llmap", runtime.Options{})
//	...
//	defer m.Close()
//	s, err := m.NewSession(2048)
//	...
//	prompt := m.Tokenizer.Encode("Once upon a time", true) // BOS first
//	req := runtime.Request{Tokens: prompt, MaxTokens: 100, Sampler: runtime.NewSampler(m.Config.VocabSize, 0.8, 0.9, 0, runtime.NewRNG(seed))}
//	for tok, err := range s.Generate(ctx, req) {
//		if err != nil {
//			return err // a bad request, ctx's error, or a model fault
//		}
//		fmt.Print(tok.Text)
//	}
//
// Tokens arrive as they are sampled; the last has Finish set (FinishStop:
// the model ended its text, FinishLength: MaxTokens, FinishContext: the
// cache is full). Cancelling ctx stops the generation within one token;
// breaking out of the loop stops it at once.
//
// # Continuing, and the KV cache
//
// A Session remembers its sequence. Request.Tokens is always the whole
// sequence the model should see; the session keeps the keys and values of
// the longest prefix it shares with what it holds and runs only the rest.
// To continue after a reply, pass Session.Tokens() plus the new tokens, or
// nil to go on from where the reply stopped. A chat renders its whole
// conversation every turn (ChatFormat) and pays only for the new message.
//
// # Chat
//
// Model.ChatFormat returns the model's chat template (runtime/chat renders
// the Jinja templates models carry) or a fallback for models without one,
// with the end-of-turn markers mapped to stop tokens and stop texts:
// ChatFormat.Request(messages) gives the Request for the assistant's reply.
//
// # Concurrency
//
// A Model is safe for concurrent use and meant to be shared: one mapping,
// one worker pool, any number of Sessions (each used by one goroutine at a
// time). Sessions that generate at the same time are decoded together:
// one scheduler goroutine per model runs each step as one ForwardBatch
// over the next token of every active sequence plus a share of the new
// prompts, so the weights are read once per step for all of them
// (continuous batching). A server is a set of Sessions, one per request in
// flight.
//
// # The model inside
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
// batches of one sequence; Generate is the llama2.c-style loop behind
// llmap run. These take turns with the scheduler on the model's lock.
//
// # Caveats
//
// Weights point into a read-only memory mapping of the model file. They are
// valid until Model.Close; writing to them faults. If the file is truncated
// or replaced while a model is open, touching a missing page raises SIGBUS;
// Forward, Prefill, ForwardBatch, Generate and Session.Generate turn that
// into an error wrapping ErrFault instead of a crash. Close the model only
// after its generations have returned; those still running end with
// ErrClosed.
//
// Tools that look inside a model rather than run it (embeddings, context
// vectors, next-token distributions, perplexity) are in runtime/explore;
// process memory figures in internal/memstats.
package runtime
