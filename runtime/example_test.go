package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/llmap/llmap/format/convert"
	"github.com/llmap/llmap/format/llama2c"
	"github.com/llmap/llmap/internal/testmodels"
	"github.com/llmap/llmap/runtime"
	"github.com/llmap/llmap/runtime/chat"
)

// modelPath is the model the examples open: stories260K, converted from
// the shared test models by TestMain.
var modelPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "llmap-examples")
	if err != nil {
		log.Fatal(err)
	}
	modelPath = filepath.Join(dir, "stories260K.llmap")
	if err := convertStories(modelPath); err != nil {
		if os.Getenv("CI") == "true" {
			log.Fatalf("examples: %v", err)
		}
		fmt.Fprintf(os.Stderr, "examples: %v (set %s to the shared models directory)\n", err, testmodels.EnvVar)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func convertStories(path string) error {
	ck, err := llama2c.Open(filepath.Join(testmodels.Dir(), "stories260K", "stories260K.bin"))
	if err != nil {
		return err
	}
	defer ck.Close()
	data, err := os.ReadFile(filepath.Join(testmodels.Dir(), "stories260K", "tok512.bin"))
	if err != nil {
		return err
	}
	tok, err := llama2c.ReadTokenizer(data, ck.Config.VocabSize)
	if err != nil {
		return err
	}
	return convert.Write(path, convert.FromLlama2c(ck, tok, "stories260K"), convert.Options{Keep: true})
}

// Open a model, start a session and stream a reply: the first tokens
// stories260K writes after BOS at temperature 0, as llama2.c prints them.
func Example() {
	m, err := runtime.Open(modelPath, runtime.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	s, err := m.NewSession(256) // a KV cache of 256 positions
	if err != nil {
		log.Fatal(err)
	}
	prompt := m.Tokenizer.Encode("", true)                // just BOS
	req := runtime.Request{Tokens: prompt, MaxTokens: 31} // Sampler nil: greedy
	for tok, err := range s.Generate(context.Background(), req) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Print(tok.Text)
	}
	fmt.Printf("\n(%s after %d tokens)\n", s.Stats().Finish, s.Stats().Sampled)
	// Output:
	// Once upon a time, there was a little girl named Lily. She loved to play outside in the park.
	// (length after 31 tokens)
}

// Stream tokens until the context is cancelled, here by the consumer
// itself after ten tokens (a server cancels when its client goes away, a
// terminal on Ctrl-C). The generation stops within one token; the session
// keeps what it has and can go on.
func ExampleSession_Generate_cancel() {
	m, err := runtime.Open(modelPath, runtime.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	s, err := m.NewSession(512)
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req := runtime.Request{
		Tokens:  m.Tokenizer.Encode("Once upon a time", true),
		Sampler: runtime.NewSampler(m.Config.VocabSize, 0.8, 0.9, 0, runtime.NewRNG(42)),
	}
	n := 0
	for _, err := range s.Generate(ctx, req) {
		if errors.Is(err, context.Canceled) {
			fmt.Printf("cancelled after %d tokens\n", n)
			break
		} else if err != nil {
			log.Fatal(err)
		}
		if n++; n == 10 {
			cancel()
		}
	}
	// Output:
	// cancelled after 10 tokens
}

// Chat with the model's template. stories260K carries none, so the
// fallback plain transcript ("User: ...\nAssistant:") is used, and its stop
// text "\nUser:" ends a reply. Each turn renders the whole conversation;
// the session runs only what is new.
func ExampleChatFormat() {
	m, err := runtime.Open(modelPath, runtime.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	format, err := m.ChatFormat()
	if err != nil {
		log.Fatal(err)
	}
	s, err := m.NewSession(512)
	if err != nil {
		log.Fatal(err)
	}
	conversation := []chat.Message{{Role: "system", Content: "A story about a cat."}}
	for _, user := range []string{"Tell me about the cat.", "What did the cat do?"} {
		conversation = append(conversation, chat.Message{Role: "user", Content: user})
		req, err := format.Request(conversation)
		if err != nil {
			log.Fatal(err)
		}
		req.MaxTokens = 40
		var reply strings.Builder
		for tok, err := range s.Generate(context.Background(), req) {
			if err != nil {
				log.Fatal(err)
			}
			reply.WriteString(tok.Text)
		}
		conversation = append(conversation, chat.Message{Role: "assistant", Content: strings.TrimSpace(reply.String())})
		st := s.Stats()
		fmt.Printf("%s\n  (%s; prompt %d tokens, %d of them from the cache)\n", reply.String(), st.Finish, st.PromptTokens, st.CachedTokens)
	}
	fmt.Printf("fallback %v, stop texts %q\n", format.Builtin, format.Stop)
	// Output:
	// Anna, I am a little boy. Anna and Ben are scared. Anna and Ben are
	//   (length; prompt 40 tokens, 0 of them from the cache)
	//  Anna, you can't find the cat. We can find anything. We can fi
	//   (length; prompt 105 tokens, 79 of them from the cache)
	// fallback true, stop texts ["\nUser:"]
}

// Two sessions of one model generate at the same time, from two
// goroutines: the model's scheduler runs both in each forward pass, and
// each gets what it would get alone.
func ExampleModel_NewSession() {
	m, err := runtime.Open(modelPath, runtime.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	prompts := []string{"The cat", "The dog"}
	replies := make([]string, len(prompts))
	var wg sync.WaitGroup
	for i, p := range prompts {
		s, err := m.NewSession(128)
		if err != nil {
			log.Fatal(err)
		}
		wg.Go(func() {
			var b strings.Builder
			for tok, err := range s.Generate(context.Background(), runtime.Request{Tokens: m.Tokenizer.Encode(p, true), MaxTokens: 12}) {
				if err != nil {
					log.Print(err)
					return
				}
				b.WriteString(tok.Text)
			}
			replies[i] = p + b.String()
		})
	}
	wg.Wait()
	for _, r := range replies {
		fmt.Println(r)
	}
	// Output:
	// The cat and a boy were playing in the p
	// The dog was a big, red ball. He liked
}
